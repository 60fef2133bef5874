// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title L2ToL1MessagePasser
/// @notice The L2 predeploy at 0x4200000000000000000000000000000000000016 that records
///         withdrawals to L1, with the storage layout of the OP Stack's contract (slot 0:
///         `sentMessages`, slot 1: the message nonce), so that its storage root, part of
///         every output root, proves a withdrawal to L1.
contract L2ToL1MessagePasser {
    /// @notice Version of the withdrawal hash encoding, in the top 16 bits of the nonce.
    uint16 public constant MESSAGE_VERSION = 1;

    /// @notice Withdrawal hashes initiated on this chain.
    mapping(bytes32 => bool) public sentMessages;

    /// @notice Count of withdrawals initiated so far (without the version bits).
    uint240 internal msgNonce;

    /// @notice Emitted for every withdrawal.
    event MessagePassed(
        uint256 indexed nonce,
        address indexed sender,
        address indexed target,
        uint256 value,
        uint256 gasLimit,
        bytes data,
        bytes32 withdrawalHash
    );

    /// @notice A plain transfer withdraws the value to the sender on L1.
    receive() external payable {
        initiateWithdrawal(msg.sender, 100_000, bytes(""));
    }

    /// @notice Records a withdrawal of `msg.value` to `_target` on L1 with a call of
    ///         `_data` and `_gasLimit` gas.
    function initiateWithdrawal(address _target, uint256 _gasLimit, bytes memory _data) public payable {
        uint256 nonce = messageNonce();
        bytes32 withdrawalHash = keccak256(abi.encode(nonce, msg.sender, _target, msg.value, _gasLimit, _data));
        sentMessages[withdrawalHash] = true;
        emit MessagePassed(nonce, msg.sender, _target, msg.value, _gasLimit, _data, withdrawalHash);
        unchecked {
            ++msgNonce;
        }
    }

    /// @notice The next withdrawal's nonce, with the version in its top 16 bits.
    function messageNonce() public view returns (uint256) {
        return (uint256(MESSAGE_VERSION) << 240) | uint256(msgNonce);
    }

    /// @notice Semantic version.
    function version() external pure returns (string memory) {
        return "1.1.0";
    }
}
