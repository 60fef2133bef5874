// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./lib/Test.sol";
import {ERC20} from "../src/ERC20.sol";
import {Amm} from "../src/Amm.sol";

contract AmmTest is Test {
    event Swap(
        address indexed sender, address indexed tokenIn, uint256 amountIn, uint256 amountOut, address indexed to
    );
    event Mint(address indexed sender, address indexed to, uint256 amount0, uint256 amount1, uint256 liquidity);

    ERC20 internal tokenA;
    ERC20 internal tokenB;
    Amm internal amm;

    address internal constant LP = address(0x1111);
    address internal constant TRADER = address(0x2222);
    address internal constant RECIPIENT = address(0x3333);

    function setUp() public {
        tokenA = new ERC20("Token A", "A");
        tokenB = new ERC20("Token B", "B");
        amm = new Amm(address(tokenA), address(tokenB));
        for (uint256 i = 0; i < 2; i++) {
            address who = i == 0 ? LP : TRADER;
            tokenA.mint(who, 1e30);
            tokenB.mint(who, 1e30);
            vm.startPrank(who);
            tokenA.approve(address(amm), type(uint256).max);
            tokenB.approve(address(amm), type(uint256).max);
            vm.stopPrank();
        }
    }

    function seed(uint256 a, uint256 b) internal returns (uint256 liquidity) {
        vm.prank(LP);
        (,, liquidity) = amm.addLiquidity(a, b, LP);
    }

    function reserves() internal view returns (uint256 r0, uint256 r1) {
        (uint112 a, uint112 b,) = amm.getReserves();
        return (a, b);
    }

    function expectedOut(uint256 amountIn, uint256 rIn, uint256 rOut) internal pure returns (uint256) {
        return amountIn * 997 * rOut / (rIn * 1000 + amountIn * 997);
    }

    // -------------------------------------------------------------- construction

    function test_constructor() public view {
        assertEq(amm.token0(), address(tokenA), "token0");
        assertEq(amm.token1(), address(tokenB), "token1");
        (uint256 r0, uint256 r1) = reserves();
        assertEq(r0, 0, "r0");
        assertEq(r1, 0, "r1");
    }

    function test_constructor_identicalTokens_reverts() public {
        vm.expectRevert(bytes("Amm: identical tokens"));
        new Amm(address(tokenA), address(tokenA));
    }

    function test_constructor_zeroToken_reverts() public {
        vm.expectRevert(bytes("Amm: zero address"));
        new Amm(address(tokenA), address(0));
    }

    // ------------------------------------------------------------------ liquidity

    function test_addLiquidity_first() public {
        vm.expectEmit(true, true, false, true, address(amm));
        emit Mint(LP, LP, 4e18, 1e18, 2e18 - 1000);
        uint256 liquidity = seed(4e18, 1e18);
        assertEq(liquidity, 2e18 - 1000, "sqrt(4e18 * 1e18) - MINIMUM_LIQUIDITY");
        assertEq(amm.balanceOf(LP), liquidity, "LP shares");
        assertEq(amm.balanceOf(address(0)), 1000, "locked shares");
        assertEq(amm.totalSupply(), 2e18, "totalSupply");
        (uint256 r0, uint256 r1) = reserves();
        assertEq(r0, 4e18, "r0");
        assertEq(r1, 1e18, "r1");
        (,, uint32 ts) = amm.getReserves();
        assertEq(uint256(ts), block.timestamp, "blockTimestampLast");
        assertEq(tokenA.balanceOf(address(amm)), 4e18, "pair balance A");
        assertEq(tokenB.balanceOf(address(amm)), 1e18, "pair balance B");
    }

    function test_addLiquidity_firstTooSmall_reverts() public {
        vm.prank(LP);
        vm.expectRevert(bytes("Amm: insufficient liquidity minted"));
        amm.addLiquidity(1000, 1000, LP);
    }

    function test_addLiquidity_proportional() public {
        seed(4e18, 1e18);
        // Offering too much B: only the B matching 2e18 A is taken.
        vm.prank(TRADER);
        (uint256 a0, uint256 a1, uint256 liq) = amm.addLiquidity(2e18, 5e18, TRADER);
        assertEq(a0, 2e18, "amount0");
        assertEq(a1, 0.5e18, "amount1");
        assertEq(liq, 1e18, "half the supply");
        // Offering too much A: only the A matching 1e18 B is taken.
        vm.prank(TRADER);
        (a0, a1, liq) = amm.addLiquidity(100e18, 1e18, TRADER);
        assertEq(a0, 4e18, "amount0 (b-limited)");
        assertEq(a1, 1e18, "amount1 (b-limited)");
        assertEq(liq, 2e18, "liquidity (b-limited)");
        (uint256 r0, uint256 r1) = reserves();
        assertEq(r0, 10e18, "r0");
        assertEq(r1, 2.5e18, "r1");
        assertEq(amm.balanceOf(TRADER), 3e18, "trader shares");
    }

    function test_addLiquidity_withoutApproval_reverts() public {
        address poor = address(0x4444);
        tokenA.mint(poor, 1e18);
        tokenB.mint(poor, 1e18);
        vm.prank(poor);
        vm.expectRevert(bytes("ERC20: insufficient allowance"));
        amm.addLiquidity(1e18, 1e18, poor);
    }

    function test_removeLiquidity() public {
        uint256 liquidity = seed(4e18, 1e18);
        uint256 aBefore = tokenA.balanceOf(RECIPIENT);
        vm.prank(LP);
        (uint256 a0, uint256 a1) = amm.removeLiquidity(liquidity / 2, RECIPIENT);
        assertEq(a0, (liquidity / 2) * 4e18 / 2e18, "amount0");
        assertEq(a1, (liquidity / 2) * 1e18 / 2e18, "amount1");
        assertEq(tokenA.balanceOf(RECIPIENT) - aBefore, a0, "recipient A");
        assertEq(tokenB.balanceOf(RECIPIENT), a1, "recipient B");
        assertEq(amm.balanceOf(LP), liquidity - liquidity / 2, "LP shares left");
        (uint256 r0, uint256 r1) = reserves();
        assertEq(r0, 4e18 - a0, "r0");
        assertEq(r1, 1e18 - a1, "r1");
    }

    function test_removeLiquidity_moreThanOwned_reverts() public {
        seed(4e18, 1e18);
        vm.prank(TRADER);
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x11));
        amm.removeLiquidity(1e18, TRADER);
        vm.prank(LP);
        vm.expectRevert();
        amm.removeLiquidity(2e18, LP);
    }

    // ---------------------------------------------------------------------- swap

    function test_swap_token0ForToken1() public {
        seed(10e18, 20e18);
        uint256 amountIn = 1e18;
        uint256 want = expectedOut(amountIn, 10e18, 20e18);
        assertEq(amm.getAmountOut(address(tokenA), amountIn), want, "getAmountOut");

        vm.expectEmit(true, true, true, true, address(amm));
        emit Swap(TRADER, address(tokenA), amountIn, want, RECIPIENT);
        vm.prank(TRADER);
        uint256 out = amm.swap(address(tokenA), amountIn, want, RECIPIENT);
        assertEq(out, want, "amountOut");
        assertEq(tokenB.balanceOf(RECIPIENT), want, "recipient got token1");
        assertEq(tokenA.balanceOf(TRADER), 1e30 - amountIn, "trader paid token0");
        (uint256 r0, uint256 r1) = reserves();
        assertEq(r0, 11e18, "r0");
        assertEq(r1, 20e18 - want, "r1");
        assertEq(tokenA.balanceOf(address(amm)), r0, "reserve0 == balance");
        assertEq(tokenB.balanceOf(address(amm)), r1, "reserve1 == balance");
    }

    function test_swap_token1ForToken0() public {
        seed(10e18, 20e18);
        uint256 want = expectedOut(2e18, 20e18, 10e18);
        vm.prank(TRADER);
        uint256 out = amm.swap(address(tokenB), 2e18, 0, TRADER);
        assertEq(out, want, "amountOut");
        (uint256 r0, uint256 r1) = reserves();
        assertEq(r0, 10e18 - want, "r0");
        assertEq(r1, 22e18, "r1");
    }

    function test_swap_chargesFee() public {
        seed(1e18, 1e18);
        // Without a fee 1000 in would give ~999 out on a 1e18/1e18 pool; with 0.3% it gives 996.
        vm.prank(TRADER);
        uint256 out = amm.swap(address(tokenA), 1000, 0, TRADER);
        assertEq(out, 996, "0.3% fee");
    }

    function test_swap_slippage_reverts() public {
        seed(10e18, 20e18);
        uint256 want = expectedOut(1e18, 10e18, 20e18);
        vm.prank(TRADER);
        vm.expectRevert(bytes("Amm: slippage"));
        amm.swap(address(tokenA), 1e18, want + 1, TRADER);
    }

    function test_swap_invalidToken_reverts() public {
        seed(10e18, 20e18);
        vm.prank(TRADER);
        vm.expectRevert(bytes("Amm: invalid token"));
        amm.swap(address(0xDEAD), 1e18, 0, TRADER);
    }

    function test_swap_zeroAmount_reverts() public {
        seed(10e18, 20e18);
        vm.prank(TRADER);
        vm.expectRevert(bytes("Amm: insufficient input amount"));
        amm.swap(address(tokenA), 0, 0, TRADER);
    }

    function test_swap_tinyAmount_reverts() public {
        seed(10e18, 20e18);
        vm.prank(TRADER);
        vm.expectRevert(bytes("Amm: insufficient output amount"));
        amm.swap(address(tokenB), 1, 0, TRADER);
    }

    function test_swap_noLiquidity_reverts() public {
        vm.prank(TRADER);
        vm.expectRevert(bytes("Amm: insufficient liquidity"));
        amm.swap(address(tokenA), 1e18, 0, TRADER);
    }

    function test_swap_toTokenAddress_reverts() public {
        seed(10e18, 20e18);
        vm.prank(TRADER);
        vm.expectRevert(bytes("Amm: invalid to"));
        amm.swap(address(tokenA), 1e18, 0, address(tokenB));
    }

    function test_swap_insufficientBalance_reverts() public {
        seed(10e18, 20e18);
        address poor = address(0x5555);
        vm.prank(poor);
        tokenA.approve(address(amm), type(uint256).max);
        vm.prank(poor);
        vm.expectRevert(bytes("ERC20: transfer amount exceeds balance"));
        amm.swap(address(tokenA), 1e18, 0, poor);
    }

    function test_swap_fuzz_constantProductNeverDecreases(uint256 amountIn, bool zeroForOne) public {
        seed(1000e18, 3000e18);
        amountIn = bound(amountIn, 1e6, 1e24);
        (uint256 r0, uint256 r1) = reserves();
        uint256 kBefore = r0 * r1;
        vm.prank(TRADER);
        amm.swap(zeroForOne ? address(tokenA) : address(tokenB), amountIn, 0, TRADER);
        (r0, r1) = reserves();
        assertGe(r0 * r1, kBefore, "k must not decrease");
        assertEq(tokenA.balanceOf(address(amm)), r0, "reserve0 == balance");
        assertEq(tokenB.balanceOf(address(amm)), r1, "reserve1 == balance");
    }

    function test_swap_roundTrip_losesFee() public {
        seed(100e18, 100e18);
        vm.startPrank(TRADER);
        uint256 outB = amm.swap(address(tokenA), 1e18, 0, TRADER);
        uint256 backA = amm.swap(address(tokenB), outB, 0, TRADER);
        vm.stopPrank();
        assertLe(backA, 1e18, "no profit from a round trip");
        assertGt(backA, 0.99e18, "only about 0.6% lost");
    }
}
