// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title L2OutputOracle
/// @notice Holds the chain of L2 output roots proposed by the proposer. Same interface, rules and
///         revert messages as the OP Stack's (Bedrock) L2OutputOracle, so op-proposer-style
///         tooling works against it. Not proxied: deploy, then call `initialize` once.
contract L2OutputOracle {
    /// @notice An L2 output root and the L1 timestamp at which it was proposed.
    struct OutputProposal {
        bytes32 outputRoot;
        uint128 timestamp;
        uint128 l2BlockNumber;
    }

    /// @notice The number of the first L2 block recorded in this contract.
    uint256 public startingBlockNumber;

    /// @notice The timestamp of the first L2 block recorded in this contract.
    uint256 public startingTimestamp;

    /// @notice Proposed outputs; its length is the next output index.
    OutputProposal[] internal l2Outputs;

    /// @notice Interval in L2 blocks at which outputs must be proposed.
    uint256 public submissionInterval;

    /// @notice Seconds between L2 blocks.
    uint256 public l2BlockTime;

    /// @notice The address allowed to delete unfinalized outputs.
    address public challenger;

    /// @notice The address allowed to propose outputs.
    address public proposer;

    /// @notice Seconds after which a proposed output is final (cannot be deleted).
    uint256 public finalizationPeriodSeconds;

    /// @dev Set by the (only) call to `initialize`.
    bool private _initialized;

    /// @notice Emitted when an output is proposed.
    event OutputProposed(
        bytes32 indexed outputRoot, uint256 indexed l2OutputIndex, uint256 indexed l2BlockNumber, uint256 l1Timestamp
    );

    /// @notice Emitted when outputs are deleted.
    event OutputsDeleted(uint256 indexed prevNextOutputIndex, uint256 indexed newNextOutputIndex);

    /// @notice Semantic version (of the Bedrock interface this contract follows).
    string public constant version = "1.8.0";

    /// @notice Sets the oracle's parameters. Callable once.
    function initialize(
        uint256 _submissionInterval,
        uint256 _l2BlockTime,
        uint256 _startingBlockNumber,
        uint256 _startingTimestamp,
        address _proposer,
        address _challenger,
        uint256 _finalizationPeriodSeconds
    ) external {
        require(!_initialized, "L2OutputOracle: contract is already initialized");
        _initialized = true;

        require(_submissionInterval > 0, "L2OutputOracle: submission interval must be greater than 0");
        require(_l2BlockTime > 0, "L2OutputOracle: L2 block time must be greater than 0");
        require(
            _startingTimestamp <= block.timestamp,
            "L2OutputOracle: starting L2 timestamp must be less than current time"
        );

        submissionInterval = _submissionInterval;
        l2BlockTime = _l2BlockTime;
        startingBlockNumber = _startingBlockNumber;
        startingTimestamp = _startingTimestamp;
        proposer = _proposer;
        challenger = _challenger;
        finalizationPeriodSeconds = _finalizationPeriodSeconds;
    }

    // ------------------------------------------------------------ legacy getters

    function SUBMISSION_INTERVAL() external view returns (uint256) {
        return submissionInterval;
    }

    function L2_BLOCK_TIME() external view returns (uint256) {
        return l2BlockTime;
    }

    function CHALLENGER() external view returns (address) {
        return challenger;
    }

    function PROPOSER() external view returns (address) {
        return proposer;
    }

    function FINALIZATION_PERIOD_SECONDS() external view returns (uint256) {
        return finalizationPeriodSeconds;
    }

    // ------------------------------------------------------------------ mutators

    /// @notice Deletes the output at `_l2OutputIndex` and every later one. Challenger only, and
    ///         only while that output is not yet finalized.
    function deleteL2Outputs(uint256 _l2OutputIndex) external {
        require(msg.sender == challenger, "L2OutputOracle: only the challenger address can delete outputs");
        require(
            _l2OutputIndex < l2Outputs.length, "L2OutputOracle: cannot delete outputs after the latest output index"
        );
        require(
            block.timestamp - l2Outputs[_l2OutputIndex].timestamp < finalizationPeriodSeconds,
            "L2OutputOracle: cannot delete outputs that have already been finalized"
        );

        uint256 prevNextOutputIndex = l2Outputs.length;
        // Truncate the array by writing its length slot (Solidity has no bulk delete); entries
        // beyond the new length are overwritten by later proposals.
        assembly {
            sstore(l2Outputs.slot, _l2OutputIndex)
        }

        emit OutputsDeleted(prevNextOutputIndex, _l2OutputIndex);
    }

    /// @notice Proposes the output root of L2 block `_l2BlockNumber`, which must be
    ///         `nextBlockNumber()` and already in the past. If `_l1BlockHash` is non-zero it must be
    ///         the hash of L1 block `_l1BlockNumber` (guards against L1 reorgs; note that blockhash is
    ///         zero for blocks more than 256 back). Proposer only.
    function proposeL2Output(bytes32 _outputRoot, uint256 _l2BlockNumber, bytes32 _l1BlockHash, uint256 _l1BlockNumber)
        external
        payable
    {
        require(msg.sender == proposer, "L2OutputOracle: only the proposer address can propose new outputs");
        require(
            _l2BlockNumber == nextBlockNumber(),
            "L2OutputOracle: block number must be equal to next expected block number"
        );
        require(
            computeL2Timestamp(_l2BlockNumber) < block.timestamp,
            "L2OutputOracle: cannot propose L2 output in the future"
        );
        require(_outputRoot != bytes32(0), "L2OutputOracle: L2 output proposal cannot be the zero hash");
        if (_l1BlockHash != bytes32(0)) {
            require(
                blockhash(_l1BlockNumber) == _l1BlockHash,
                "L2OutputOracle: block hash does not match the hash at the expected height"
            );
        }

        emit OutputProposed(_outputRoot, l2Outputs.length, _l2BlockNumber, block.timestamp);

        l2Outputs.push(
            OutputProposal({
                outputRoot: _outputRoot,
                timestamp: uint128(block.timestamp),
                l2BlockNumber: uint128(_l2BlockNumber)
            })
        );
    }

    // --------------------------------------------------------------------- views

    /// @notice The output at index `_l2OutputIndex` (reverts if out of range).
    function getL2Output(uint256 _l2OutputIndex) external view returns (OutputProposal memory) {
        return l2Outputs[_l2OutputIndex];
    }

    /// @notice Index of the first output whose L2 block number is >= `_l2BlockNumber`.
    function getL2OutputIndexAfter(uint256 _l2BlockNumber) public view returns (uint256) {
        require(
            _l2BlockNumber <= latestBlockNumber(),
            "L2OutputOracle: cannot get output for a block that has not been proposed"
        );
        require(l2Outputs.length > 0, "L2OutputOracle: cannot get output as no outputs have been proposed yet");

        // Binary search for the lower bound; block numbers are strictly increasing.
        uint256 lo = 0;
        uint256 hi = l2Outputs.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (l2Outputs[mid].l2BlockNumber < _l2BlockNumber) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /// @notice The first output whose L2 block number is >= `_l2BlockNumber`.
    function getL2OutputAfter(uint256 _l2BlockNumber) external view returns (OutputProposal memory) {
        return l2Outputs[getL2OutputIndexAfter(_l2BlockNumber)];
    }

    /// @notice Index of the latest output (reverts if there is none).
    function latestOutputIndex() external view returns (uint256) {
        return l2Outputs.length - 1;
    }

    /// @notice Index the next proposed output will get.
    function nextOutputIndex() public view returns (uint256) {
        return l2Outputs.length;
    }

    /// @notice L2 block number of the latest output, or `startingBlockNumber` if there is none.
    function latestBlockNumber() public view returns (uint256) {
        return l2Outputs.length == 0 ? startingBlockNumber : l2Outputs[l2Outputs.length - 1].l2BlockNumber;
    }

    /// @notice L2 block number the next output must be for.
    function nextBlockNumber() public view returns (uint256) {
        return latestBlockNumber() + submissionInterval;
    }

    /// @notice Timestamp of L2 block `_l2BlockNumber` (reverts below `startingBlockNumber`).
    function computeL2Timestamp(uint256 _l2BlockNumber) public view returns (uint256) {
        return startingTimestamp + ((_l2BlockNumber - startingBlockNumber) * l2BlockTime);
    }
}
