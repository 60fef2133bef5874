// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./lib/Test.sol";
import {ERC20} from "../src/ERC20.sol";

contract ERC20Test is Test {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    ERC20 internal token;
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA401);

    function setUp() public {
        token = new ERC20("Test Token", "TT");
    }

    function test_metadata() public view {
        assertEq(token.name(), "Test Token", "name");
        assertEq(token.symbol(), "TT", "symbol");
        assertEq(uint256(token.decimals()), 18, "decimals");
        assertEq(token.minter(), address(this), "minter is the deployer");
        assertEq(token.totalSupply(), 0, "totalSupply");
    }

    function test_mint() public {
        vm.expectEmit(true, true, false, true, address(token));
        emit Transfer(address(0), ALICE, 100);
        token.mint(ALICE, 100);
        token.mint(BOB, 50);
        assertEq(token.balanceOf(ALICE), 100, "alice");
        assertEq(token.balanceOf(BOB), 50, "bob");
        assertEq(token.totalSupply(), 150, "totalSupply");
    }

    function test_mint_notMinter_reverts() public {
        vm.prank(ALICE);
        vm.expectRevert(bytes("ERC20: only the minter can mint"));
        token.mint(ALICE, 1);
    }

    function test_mint_totalSupplyOverflow_reverts() public {
        token.mint(ALICE, type(uint256).max);
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x11));
        token.mint(BOB, 1);
    }

    function test_transfer() public {
        token.mint(ALICE, 100);
        vm.expectEmit(true, true, false, true, address(token));
        emit Transfer(ALICE, BOB, 30);
        vm.prank(ALICE);
        assertTrue(token.transfer(BOB, 30), "returns true");
        assertEq(token.balanceOf(ALICE), 70, "alice");
        assertEq(token.balanceOf(BOB), 30, "bob");
        assertEq(token.totalSupply(), 100, "totalSupply unchanged");
    }

    function test_transfer_toSelf() public {
        token.mint(ALICE, 100);
        vm.prank(ALICE);
        token.transfer(ALICE, 100);
        assertEq(token.balanceOf(ALICE), 100, "alice");
    }

    function test_transfer_insufficientBalance_reverts() public {
        token.mint(ALICE, 100);
        vm.prank(ALICE);
        vm.expectRevert(bytes("ERC20: transfer amount exceeds balance"));
        token.transfer(BOB, 101);
    }

    function test_approve() public {
        vm.expectEmit(true, true, false, true, address(token));
        emit Approval(ALICE, BOB, 42);
        vm.prank(ALICE);
        assertTrue(token.approve(BOB, 42), "returns true");
        assertEq(token.allowance(ALICE, BOB), 42, "allowance");
        vm.prank(ALICE);
        token.approve(BOB, 0);
        assertEq(token.allowance(ALICE, BOB), 0, "allowance reset");
    }

    function test_transferFrom_decreasesAllowance() public {
        token.mint(ALICE, 100);
        vm.prank(ALICE);
        token.approve(BOB, 60);
        vm.expectEmit(true, true, false, true, address(token));
        emit Transfer(ALICE, CAROL, 40);
        vm.prank(BOB);
        assertTrue(token.transferFrom(ALICE, CAROL, 40), "returns true");
        assertEq(token.allowance(ALICE, BOB), 20, "allowance");
        assertEq(token.balanceOf(ALICE), 60, "alice");
        assertEq(token.balanceOf(CAROL), 40, "carol");
    }

    function test_transferFrom_infiniteAllowanceNotDecreased() public {
        token.mint(ALICE, 100);
        vm.prank(ALICE);
        token.approve(BOB, type(uint256).max);
        vm.prank(BOB);
        token.transferFrom(ALICE, CAROL, 100);
        assertEq(token.allowance(ALICE, BOB), type(uint256).max, "allowance");
        assertEq(token.balanceOf(CAROL), 100, "carol");
    }

    function test_transferFrom_insufficientAllowance_reverts() public {
        token.mint(ALICE, 100);
        vm.prank(ALICE);
        token.approve(BOB, 10);
        vm.prank(BOB);
        vm.expectRevert(bytes("ERC20: insufficient allowance"));
        token.transferFrom(ALICE, CAROL, 11);
    }

    function test_transferFrom_insufficientBalance_reverts() public {
        token.mint(ALICE, 5);
        vm.prank(ALICE);
        token.approve(BOB, 10);
        vm.prank(BOB);
        vm.expectRevert(bytes("ERC20: transfer amount exceeds balance"));
        token.transferFrom(ALICE, CAROL, 6);
    }

    function test_transfer_fuzz(uint256 minted, uint256 sent) public {
        sent = bound(sent, 0, minted);
        token.mint(ALICE, minted);
        vm.prank(ALICE);
        token.transfer(BOB, sent);
        assertEq(token.balanceOf(ALICE), minted - sent, "alice");
        assertEq(token.balanceOf(BOB), sent, "bob");
        assertEq(token.totalSupply(), minted, "totalSupply");
    }
}
