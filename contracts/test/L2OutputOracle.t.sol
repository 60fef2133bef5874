// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./lib/Test.sol";
import {L2OutputOracle} from "../src/L2OutputOracle.sol";

contract L2OutputOracleTest is Test {
    event OutputProposed(
        bytes32 indexed outputRoot, uint256 indexed l2OutputIndex, uint256 indexed l2BlockNumber, uint256 l1Timestamp
    );
    event OutputsDeleted(uint256 indexed prevNextOutputIndex, uint256 indexed newNextOutputIndex);

    L2OutputOracle internal oracle;

    address internal constant PROPOSER = address(0xB0B);
    address internal constant CHALLENGER = address(0xC0FFEE);
    address internal constant STRANGER = address(0xBAD);

    uint256 internal constant INTERVAL = 1800;
    uint256 internal constant BLOCK_TIME = 2;
    uint256 internal constant START_BLOCK = 100;
    uint256 internal constant START_TIME = 1_000_000;
    uint256 internal constant FINALIZATION = 7 days;

    function setUp() public {
        vm.warp(START_TIME);
        vm.roll(500);
        oracle = new L2OutputOracle();
        oracle.initialize(INTERVAL, BLOCK_TIME, START_BLOCK, START_TIME, PROPOSER, CHALLENGER, FINALIZATION);
    }

    // ------------------------------------------------------------------ helpers

    function root(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("output", i));
    }

    /// @dev Warps to just after the next block's L2 time and proposes it.
    function proposeNext(bytes32 outputRoot) internal returns (uint256 l2BlockNumber) {
        l2BlockNumber = oracle.nextBlockNumber();
        uint256 t = oracle.computeL2Timestamp(l2BlockNumber) + 1;
        if (block.timestamp < t) vm.warp(t);
        vm.prank(PROPOSER);
        oracle.proposeL2Output(outputRoot, l2BlockNumber, bytes32(0), 0);
    }

    // ------------------------------------------------------------- initialize

    function test_initialize_setsParameters() public view {
        assertEq(oracle.SUBMISSION_INTERVAL(), INTERVAL, "SUBMISSION_INTERVAL");
        assertEq(oracle.submissionInterval(), INTERVAL, "submissionInterval");
        assertEq(oracle.L2_BLOCK_TIME(), BLOCK_TIME, "L2_BLOCK_TIME");
        assertEq(oracle.l2BlockTime(), BLOCK_TIME, "l2BlockTime");
        assertEq(oracle.startingBlockNumber(), START_BLOCK, "startingBlockNumber");
        assertEq(oracle.startingTimestamp(), START_TIME, "startingTimestamp");
        assertEq(oracle.PROPOSER(), PROPOSER, "PROPOSER");
        assertEq(oracle.proposer(), PROPOSER, "proposer");
        assertEq(oracle.CHALLENGER(), CHALLENGER, "CHALLENGER");
        assertEq(oracle.challenger(), CHALLENGER, "challenger");
        assertEq(oracle.FINALIZATION_PERIOD_SECONDS(), FINALIZATION, "FINALIZATION_PERIOD_SECONDS");
        assertEq(oracle.finalizationPeriodSeconds(), FINALIZATION, "finalizationPeriodSeconds");
        assertEq(oracle.version(), "1.8.0", "version");
    }

    function test_initialize_initialState() public view {
        assertEq(oracle.nextOutputIndex(), 0, "nextOutputIndex");
        assertEq(oracle.latestBlockNumber(), START_BLOCK, "latestBlockNumber");
        assertEq(oracle.nextBlockNumber(), START_BLOCK + INTERVAL, "nextBlockNumber");
    }

    function test_initialize_secondCall_reverts() public {
        vm.expectRevert(bytes("L2OutputOracle: contract is already initialized"));
        oracle.initialize(1, 1, 0, 0, STRANGER, STRANGER, 0);
    }

    function test_initialize_zeroSubmissionInterval_reverts() public {
        L2OutputOracle o = new L2OutputOracle();
        vm.expectRevert(bytes("L2OutputOracle: submission interval must be greater than 0"));
        o.initialize(0, BLOCK_TIME, START_BLOCK, START_TIME, PROPOSER, CHALLENGER, FINALIZATION);
    }

    function test_initialize_zeroBlockTime_reverts() public {
        L2OutputOracle o = new L2OutputOracle();
        vm.expectRevert(bytes("L2OutputOracle: L2 block time must be greater than 0"));
        o.initialize(INTERVAL, 0, START_BLOCK, START_TIME, PROPOSER, CHALLENGER, FINALIZATION);
    }

    function test_initialize_startingTimestampInFuture_reverts() public {
        L2OutputOracle o = new L2OutputOracle();
        vm.expectRevert(bytes("L2OutputOracle: starting L2 timestamp must be less than current time"));
        o.initialize(INTERVAL, BLOCK_TIME, START_BLOCK, block.timestamp + 1, PROPOSER, CHALLENGER, FINALIZATION);
    }

    function test_initialize_failedCall_canBeRetried() public {
        L2OutputOracle o = new L2OutputOracle();
        vm.expectRevert(bytes("L2OutputOracle: L2 block time must be greater than 0"));
        o.initialize(INTERVAL, 0, START_BLOCK, START_TIME, PROPOSER, CHALLENGER, FINALIZATION);
        o.initialize(INTERVAL, BLOCK_TIME, START_BLOCK, START_TIME - 10, PROPOSER, CHALLENGER, FINALIZATION);
        assertEq(o.startingTimestamp(), START_TIME - 10, "startingTimestamp");
    }

    // -------------------------------------------------------- computeL2Timestamp

    function test_computeL2Timestamp() public view {
        assertEq(oracle.computeL2Timestamp(START_BLOCK), START_TIME, "at start");
        assertEq(oracle.computeL2Timestamp(START_BLOCK + 1), START_TIME + BLOCK_TIME, "start + 1");
        assertEq(oracle.computeL2Timestamp(START_BLOCK + 1000), START_TIME + 1000 * BLOCK_TIME, "start + 1000");
    }

    function test_computeL2Timestamp_beforeStart_reverts() public {
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x11));
        oracle.computeL2Timestamp(START_BLOCK - 1);
    }

    function test_computeL2Timestamp_fuzz(uint256 blocks) public view {
        blocks = bound(blocks, 0, 1e30);
        assertEq(oracle.computeL2Timestamp(START_BLOCK + blocks), START_TIME + blocks * BLOCK_TIME, "timestamp");
    }

    // ---------------------------------------------------------- proposeL2Output

    function test_propose_storesOutputAndEmits() public {
        uint256 l2Block = START_BLOCK + INTERVAL;
        vm.warp(oracle.computeL2Timestamp(l2Block) + 1);
        vm.expectEmit(true, true, true, true, address(oracle));
        emit OutputProposed(root(1), 0, l2Block, block.timestamp);
        vm.prank(PROPOSER);
        oracle.proposeL2Output(root(1), l2Block, bytes32(0), 0);

        L2OutputOracle.OutputProposal memory p = oracle.getL2Output(0);
        assertEq(p.outputRoot, root(1), "outputRoot");
        assertEq(uint256(p.timestamp), block.timestamp, "timestamp");
        assertEq(uint256(p.l2BlockNumber), l2Block, "l2BlockNumber");
        assertEq(oracle.latestOutputIndex(), 0, "latestOutputIndex");
        assertEq(oracle.nextOutputIndex(), 1, "nextOutputIndex");
        assertEq(oracle.latestBlockNumber(), l2Block, "latestBlockNumber");
        assertEq(oracle.nextBlockNumber(), l2Block + INTERVAL, "nextBlockNumber");
    }

    function test_propose_secondOutput_emitsNextIndex() public {
        proposeNext(root(1));
        uint256 l2Block = oracle.nextBlockNumber();
        vm.warp(oracle.computeL2Timestamp(l2Block) + 1);
        vm.expectEmit(true, true, true, true, address(oracle));
        emit OutputProposed(root(2), 1, l2Block, block.timestamp);
        vm.prank(PROPOSER);
        oracle.proposeL2Output(root(2), l2Block, bytes32(0), 0);
        assertEq(oracle.latestOutputIndex(), 1, "latestOutputIndex");
    }

    function test_propose_acceptsValue() public {
        uint256 l2Block = oracle.nextBlockNumber();
        vm.warp(oracle.computeL2Timestamp(l2Block) + 1);
        vm.deal(PROPOSER, 1 ether);
        vm.prank(PROPOSER);
        oracle.proposeL2Output{value: 1 ether}(root(1), l2Block, bytes32(0), 0);
        assertEq(address(oracle).balance, 1 ether, "oracle balance");
        assertEq(PROPOSER.balance, 0, "proposer balance");
    }

    function test_propose_notProposer_reverts() public {
        uint256 l2Block = oracle.nextBlockNumber();
        vm.warp(oracle.computeL2Timestamp(l2Block) + 1);
        vm.prank(STRANGER);
        vm.expectRevert(bytes("L2OutputOracle: only the proposer address can propose new outputs"));
        oracle.proposeL2Output(root(1), l2Block, bytes32(0), 0);

        vm.prank(CHALLENGER);
        vm.expectRevert(bytes("L2OutputOracle: only the proposer address can propose new outputs"));
        oracle.proposeL2Output(root(1), l2Block, bytes32(0), 0);
    }

    function test_propose_wrongBlockNumber_reverts() public {
        uint256 l2Block = oracle.nextBlockNumber();
        vm.warp(oracle.computeL2Timestamp(l2Block + 1) + 1);
        vm.startPrank(PROPOSER);
        vm.expectRevert(bytes("L2OutputOracle: block number must be equal to next expected block number"));
        oracle.proposeL2Output(root(1), l2Block - 1, bytes32(0), 0);
        vm.expectRevert(bytes("L2OutputOracle: block number must be equal to next expected block number"));
        oracle.proposeL2Output(root(1), l2Block + 1, bytes32(0), 0);
        vm.expectRevert(bytes("L2OutputOracle: block number must be equal to next expected block number"));
        oracle.proposeL2Output(root(1), START_BLOCK, bytes32(0), 0);
        vm.stopPrank();
    }

    function test_propose_inFuture_reverts() public {
        uint256 l2Block = oracle.nextBlockNumber();
        uint256 l2Time = oracle.computeL2Timestamp(l2Block);

        vm.warp(l2Time - 1);
        vm.prank(PROPOSER);
        vm.expectRevert(bytes("L2OutputOracle: cannot propose L2 output in the future"));
        oracle.proposeL2Output(root(1), l2Block, bytes32(0), 0);

        // The L2 block's time must be strictly before the L1 time.
        vm.warp(l2Time);
        vm.prank(PROPOSER);
        vm.expectRevert(bytes("L2OutputOracle: cannot propose L2 output in the future"));
        oracle.proposeL2Output(root(1), l2Block, bytes32(0), 0);

        vm.warp(l2Time + 1);
        vm.prank(PROPOSER);
        oracle.proposeL2Output(root(1), l2Block, bytes32(0), 0);
        assertEq(oracle.nextOutputIndex(), 1, "accepted one second later");
    }

    function test_propose_zeroOutputRoot_reverts() public {
        uint256 l2Block = oracle.nextBlockNumber();
        vm.warp(oracle.computeL2Timestamp(l2Block) + 1);
        vm.prank(PROPOSER);
        vm.expectRevert(bytes("L2OutputOracle: L2 output proposal cannot be the zero hash"));
        oracle.proposeL2Output(bytes32(0), l2Block, bytes32(0), 0);
    }

    function test_propose_matchingL1BlockHash_succeeds() public {
        uint256 l2Block = oracle.nextBlockNumber();
        vm.warp(oracle.computeL2Timestamp(l2Block) + 1);
        bytes32 h = keccak256("l1 block 499");
        vm.setBlockhash(499, h);
        assertEq(blockhash(499), h, "setBlockhash");
        vm.prank(PROPOSER);
        oracle.proposeL2Output(root(1), l2Block, h, 499);
        assertEq(oracle.nextOutputIndex(), 1, "accepted");
    }

    function test_propose_wrongL1BlockHash_reverts() public {
        uint256 l2Block = oracle.nextBlockNumber();
        vm.warp(oracle.computeL2Timestamp(l2Block) + 1);
        vm.setBlockhash(499, keccak256("l1 block 499"));
        vm.prank(PROPOSER);
        vm.expectRevert(bytes("L2OutputOracle: block hash does not match the hash at the expected height"));
        oracle.proposeL2Output(root(1), l2Block, keccak256("some other block"), 499);
    }

    function test_propose_l1BlockHashOfCurrentOrFutureBlock_reverts() public {
        // blockhash() is zero for the current block and later ones, so a non-zero hash cannot match.
        uint256 l2Block = oracle.nextBlockNumber();
        vm.warp(oracle.computeL2Timestamp(l2Block) + 1);
        vm.startPrank(PROPOSER);
        vm.expectRevert(bytes("L2OutputOracle: block hash does not match the hash at the expected height"));
        oracle.proposeL2Output(root(1), l2Block, keccak256("x"), block.number);
        vm.expectRevert(bytes("L2OutputOracle: block hash does not match the hash at the expected height"));
        oracle.proposeL2Output(root(1), l2Block, keccak256("x"), block.number + 10);
        vm.stopPrank();
    }

    function test_propose_l1BlockHashTooOld_reverts() public {
        // More than 256 blocks back, blockhash() is zero.
        uint256 l2Block = oracle.nextBlockNumber();
        vm.warp(oracle.computeL2Timestamp(l2Block) + 1);
        vm.setBlockhash(100, keccak256("l1 block 100"));
        vm.prank(PROPOSER);
        vm.expectRevert(bytes("L2OutputOracle: block hash does not match the hash at the expected height"));
        oracle.proposeL2Output(root(1), l2Block, keccak256("l1 block 100"), 100);
    }

    function test_propose_zeroL1BlockHash_skipsCheck() public {
        uint256 l2Block = oracle.nextBlockNumber();
        vm.warp(oracle.computeL2Timestamp(l2Block) + 1);
        vm.prank(PROPOSER);
        oracle.proposeL2Output(root(1), l2Block, bytes32(0), 123456789);
        assertEq(oracle.nextOutputIndex(), 1, "accepted");
    }

    function test_propose_beforeInitialize_reverts() public {
        L2OutputOracle o = new L2OutputOracle();
        vm.prank(PROPOSER);
        vm.expectRevert(bytes("L2OutputOracle: only the proposer address can propose new outputs"));
        o.proposeL2Output(root(1), 1, bytes32(0), 0);
    }

    // ------------------------------------------------------------- index lookups

    function test_latestOutputIndex_noOutputs_reverts() public {
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x11));
        oracle.latestOutputIndex();
    }

    function test_getL2Output_outOfRange_reverts() public {
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x32));
        oracle.getL2Output(0);
    }

    function test_getL2OutputIndexAfter_noOutputs_reverts() public {
        vm.expectRevert(bytes("L2OutputOracle: cannot get output as no outputs have been proposed yet"));
        oracle.getL2OutputIndexAfter(START_BLOCK);
    }

    function test_getL2OutputIndexAfter_notProposedYet_reverts() public {
        vm.expectRevert(bytes("L2OutputOracle: cannot get output for a block that has not been proposed"));
        oracle.getL2OutputIndexAfter(START_BLOCK + 1);

        proposeNext(root(1));
        vm.expectRevert(bytes("L2OutputOracle: cannot get output for a block that has not been proposed"));
        oracle.getL2OutputIndexAfter(START_BLOCK + INTERVAL + 1);
        vm.expectRevert(bytes("L2OutputOracle: cannot get output for a block that has not been proposed"));
        oracle.getL2OutputAfter(START_BLOCK + INTERVAL + 1);
    }

    function test_getL2OutputIndexAfter_lookups() public {
        uint256 n = 5;
        for (uint256 i = 0; i < n; i++) {
            proposeNext(root(i));
        }
        assertEq(oracle.nextOutputIndex(), n, "nextOutputIndex");
        assertEq(oracle.latestOutputIndex(), n - 1, "latestOutputIndex");
        assertEq(oracle.latestBlockNumber(), START_BLOCK + n * INTERVAL, "latestBlockNumber");

        // Blocks at or before the first output map to index 0.
        assertEq(oracle.getL2OutputIndexAfter(0), 0, "block 0");
        assertEq(oracle.getL2OutputIndexAfter(START_BLOCK), 0, "starting block");
        for (uint256 i = 0; i < n; i++) {
            uint256 b = START_BLOCK + (i + 1) * INTERVAL;
            assertEq(oracle.getL2OutputIndexAfter(b), i, "exact block");
            assertEq(oracle.getL2OutputIndexAfter(b - 1), i, "block just before");
            assertEq(oracle.getL2OutputIndexAfter(b - INTERVAL + 1), i, "first block covered");
            if (i + 1 < n) assertEq(oracle.getL2OutputIndexAfter(b + 1), i + 1, "block just after");

            L2OutputOracle.OutputProposal memory p = oracle.getL2OutputAfter(b - 1);
            assertEq(p.outputRoot, root(i), "getL2OutputAfter root");
            assertEq(uint256(p.l2BlockNumber), b, "getL2OutputAfter block");
            assertEq(oracle.getL2Output(i).outputRoot, root(i), "getL2Output root");
        }
    }

    function test_getL2OutputIndexAfter_fuzz(uint256 seed) public {
        uint256 n = 7;
        for (uint256 i = 0; i < n; i++) {
            proposeNext(root(i));
        }
        uint256 b = bound(seed, 0, oracle.latestBlockNumber());
        uint256 idx = oracle.getL2OutputIndexAfter(b);
        uint256 covered = oracle.getL2Output(idx).l2BlockNumber;
        assertGe(covered, b, "output covers the block");
        if (idx > 0) assertLe(oracle.getL2Output(idx - 1).l2BlockNumber, b - 1, "previous output is before");
    }

    // ----------------------------------------------------------- deleteL2Outputs

    function test_delete_notChallenger_reverts() public {
        proposeNext(root(1));
        vm.prank(STRANGER);
        vm.expectRevert(bytes("L2OutputOracle: only the challenger address can delete outputs"));
        oracle.deleteL2Outputs(0);
        vm.prank(PROPOSER);
        vm.expectRevert(bytes("L2OutputOracle: only the challenger address can delete outputs"));
        oracle.deleteL2Outputs(0);
    }

    function test_delete_indexPastLatest_reverts() public {
        vm.prank(CHALLENGER);
        vm.expectRevert(bytes("L2OutputOracle: cannot delete outputs after the latest output index"));
        oracle.deleteL2Outputs(0);

        proposeNext(root(1));
        vm.prank(CHALLENGER);
        vm.expectRevert(bytes("L2OutputOracle: cannot delete outputs after the latest output index"));
        oracle.deleteL2Outputs(1);
    }

    function test_delete_latest_beforeFinalization() public {
        proposeNext(root(1));
        uint256 first = oracle.latestBlockNumber();
        proposeNext(root(2));

        vm.warp(block.timestamp + FINALIZATION - 1);
        vm.expectEmit(true, true, true, true, address(oracle));
        emit OutputsDeleted(2, 1);
        vm.prank(CHALLENGER);
        oracle.deleteL2Outputs(1);

        assertEq(oracle.nextOutputIndex(), 1, "nextOutputIndex");
        assertEq(oracle.latestOutputIndex(), 0, "latestOutputIndex");
        assertEq(oracle.latestBlockNumber(), first, "latestBlockNumber");
        assertEq(oracle.nextBlockNumber(), first + INTERVAL, "nextBlockNumber");
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x32));
        oracle.getL2Output(1);
    }

    function test_delete_many_thenProposeAgain() public {
        for (uint256 i = 0; i < 4; i++) {
            proposeNext(root(i));
        }
        vm.expectEmit(true, true, true, true, address(oracle));
        emit OutputsDeleted(4, 1);
        vm.prank(CHALLENGER);
        oracle.deleteL2Outputs(1);
        assertEq(oracle.nextOutputIndex(), 1, "nextOutputIndex");
        assertEq(oracle.latestBlockNumber(), START_BLOCK + INTERVAL, "latestBlockNumber");

        // The same block number can be proposed again, with a new root.
        uint256 l2Block = oracle.nextBlockNumber();
        assertEq(l2Block, START_BLOCK + 2 * INTERVAL, "next block after deletion");
        vm.expectEmit(true, true, true, true, address(oracle));
        emit OutputProposed(root(100), 1, l2Block, block.timestamp);
        vm.prank(PROPOSER);
        oracle.proposeL2Output(root(100), l2Block, bytes32(0), 0);
        assertEq(oracle.getL2Output(1).outputRoot, root(100), "replaced output");
        assertEq(oracle.getL2OutputIndexAfter(l2Block), 1, "lookup after replacement");
    }

    function test_delete_all() public {
        proposeNext(root(1));
        proposeNext(root(2));
        vm.prank(CHALLENGER);
        oracle.deleteL2Outputs(0);
        assertEq(oracle.nextOutputIndex(), 0, "nextOutputIndex");
        assertEq(oracle.latestBlockNumber(), START_BLOCK, "back to starting block");
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x11));
        oracle.latestOutputIndex();
    }

    function test_delete_afterFinalization_reverts() public {
        proposeNext(root(1));
        uint256 proposedAt = block.timestamp;

        // Exactly at the end of the period the output is final.
        vm.warp(proposedAt + FINALIZATION);
        vm.prank(CHALLENGER);
        vm.expectRevert(bytes("L2OutputOracle: cannot delete outputs that have already been finalized"));
        oracle.deleteL2Outputs(0);

        vm.warp(proposedAt + FINALIZATION + 1000);
        vm.prank(CHALLENGER);
        vm.expectRevert(bytes("L2OutputOracle: cannot delete outputs that have already been finalized"));
        oracle.deleteL2Outputs(0);
    }

    function test_delete_finalizedOlderOutputKept_unfinalizedNewerDeleted() public {
        proposeNext(root(1));
        uint256 firstAt = block.timestamp;
        vm.warp(firstAt + FINALIZATION);
        proposeNext(root(2)); // proposed now, so not final

        vm.startPrank(CHALLENGER);
        vm.expectRevert(bytes("L2OutputOracle: cannot delete outputs that have already been finalized"));
        oracle.deleteL2Outputs(0);
        oracle.deleteL2Outputs(1);
        vm.stopPrank();
        assertEq(oracle.nextOutputIndex(), 1, "only the unfinalized output was deleted");
        assertEq(oracle.getL2Output(0).outputRoot, root(1), "finalized output kept");
    }

    function test_delete_zeroFinalizationPeriod_alwaysFinal() public {
        L2OutputOracle o = new L2OutputOracle();
        o.initialize(INTERVAL, BLOCK_TIME, START_BLOCK, START_TIME, PROPOSER, CHALLENGER, 0);
        uint256 l2Block = o.nextBlockNumber();
        vm.warp(o.computeL2Timestamp(l2Block) + 1);
        vm.prank(PROPOSER);
        o.proposeL2Output(root(1), l2Block, bytes32(0), 0);
        vm.prank(CHALLENGER);
        vm.expectRevert(bytes("L2OutputOracle: cannot delete outputs that have already been finalized"));
        o.deleteL2Outputs(0);
    }
}
