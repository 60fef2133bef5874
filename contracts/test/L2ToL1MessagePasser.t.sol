// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./lib/Test.sol";
import {L2ToL1MessagePasser} from "../src/L2ToL1MessagePasser.sol";

contract L2ToL1MessagePasserTest is Test {
    event MessagePassed(
        uint256 indexed nonce,
        address indexed sender,
        address indexed target,
        uint256 value,
        uint256 gasLimit,
        bytes data,
        bytes32 withdrawalHash
    );

    L2ToL1MessagePasser internal passer;
    address internal constant ALICE = address(0xA11CE);
    address internal constant TARGET = address(0x7A56E7);

    function setUp() public {
        passer = new L2ToL1MessagePasser();
        vm.deal(ALICE, 10 ether);
    }

    function test_nonceStartsAtVersionOne() public view {
        assertEq(passer.messageNonce(), uint256(1) << 240, "nonce");
    }

    function test_initiateWithdrawal_recordsHashEmitsAndCounts() public {
        uint256 nonce = passer.messageNonce();
        bytes memory data = hex"c0ffee";
        bytes32 hash = keccak256(abi.encode(nonce, ALICE, TARGET, uint256(1 ether), uint256(50_000), data));
        vm.expectEmit(true, true, true, true, address(passer));
        emit MessagePassed(nonce, ALICE, TARGET, 1 ether, 50_000, data, hash);
        vm.prank(ALICE);
        passer.initiateWithdrawal{value: 1 ether}(TARGET, 50_000, data);
        assertTrue(passer.sentMessages(hash), "hash recorded");
        assertEq(passer.messageNonce(), nonce + 1, "nonce incremented");
        assertEq(address(passer).balance, 1 ether, "value held");
    }

    function test_receive_withdrawsToSender() public {
        uint256 nonce = passer.messageNonce();
        bytes32 hash = keccak256(abi.encode(nonce, ALICE, ALICE, uint256(2 ether), uint256(100_000), bytes("")));
        vm.prank(ALICE);
        (bool ok,) = address(passer).call{value: 2 ether}("");
        assertTrue(ok, "transfer accepted");
        assertTrue(passer.sentMessages(hash), "hash recorded");
        assertEq(passer.messageNonce(), nonce + 1, "nonce incremented");
    }

    function test_storageLayoutMatchesOpStack() public {
        vm.prank(ALICE);
        passer.initiateWithdrawal(TARGET, 1, "");
        // slot 1 holds the nonce count
        assertEq(uint256(vm.load(address(passer), bytes32(uint256(1)))), 1, "msgNonce in slot 1");
    }
}
