// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./lib/Test.sol";

/// @dev Target for the self-tests of our minimal test base.
contract Thrower {
    error Boom();

    function boom() external pure {
        revert Boom();
    }

    function message() external pure {
        revert("plain message");
    }
}

/// @notice Checks the test base in lib/Test.sol: its assertions must fail (revert) with a
///         readable message, and the cheatcodes it declares must reach forge.
contract TestBaseTest is Test {
    Thrower internal thrower;

    function setUp() public {
        thrower = new Thrower();
    }

    // External wrappers so a failing assertion can be caught.
    function eqUint(uint256 a, uint256 b) external pure {
        assertEq(a, b, "numbers");
    }

    function eqAddress(address a, address b) external pure {
        assertEq(a, b);
    }

    function eqBytes32(bytes32 a, bytes32 b) external pure {
        assertEq(a, b);
    }

    function isTrue(bool c) external pure {
        assertTrue(c, "condition");
    }

    function test_expectRevert_customErrorSelector() public {
        vm.expectRevert(Thrower.Boom.selector);
        thrower.boom();
    }

    function test_expectRevert_message() public {
        vm.expectRevert(bytes("plain message"));
        thrower.message();
    }

    function test_assertEq_uint_failsWithMessage() public {
        vm.expectRevert(bytes("assertion failed (numbers): left=12 right=345"));
        this.eqUint(12, 345);
        this.eqUint(7, 7);
    }

    function test_assertEq_address_failsWithMessage() public {
        vm.expectRevert(
            bytes(
                "assertion failed: left=0x00000000000000000000000000000000000000ab right=0x00000000000000000000000000000000000000cd"
            )
        );
        this.eqAddress(address(0xab), address(0xcd));
    }

    function test_assertEq_bytes32_fails() public {
        vm.expectRevert();
        this.eqBytes32(bytes32(uint256(1)), bytes32(uint256(2)));
        this.eqBytes32(keccak256("a"), keccak256("a"));
    }

    function test_assertTrue_failsWithMessage() public {
        vm.expectRevert(bytes("assertion failed: condition"));
        this.isTrue(false);
        this.isTrue(true);
    }

    function test_cheatcodes_warpRollDealPrank() public {
        vm.warp(12345);
        assertEq(block.timestamp, 12345, "warp");
        vm.roll(678);
        assertEq(block.number, 678, "roll");
        vm.deal(address(0xD00D), 3 ether);
        assertEq(address(0xD00D).balance, 3 ether, "deal");
        Sender sender = new Sender();
        vm.prank(address(0xD00D));
        assertEq(sender.who(), address(0xD00D), "prank");
        assertEq(sender.who(), address(this), "prank applies to the next call only");
        vm.startPrank(address(0xD00D));
        assertEq(sender.who(), address(0xD00D), "startPrank");
        assertEq(sender.who(), address(0xD00D), "startPrank lasts");
        vm.stopPrank();
        assertEq(sender.who(), address(this), "stopPrank");
    }

    function test_bound() public pure {
        assertEq(bound(5, 10, 20), 10 + 5 % 11, "below range");
        assertEq(bound(15, 10, 20), 15, "in range");
        assertEq(bound(type(uint256).max, 0, type(uint256).max), type(uint256).max, "full range");
    }
}

contract Sender {
    function who() external view returns (address) {
        return msg.sender;
    }
}
