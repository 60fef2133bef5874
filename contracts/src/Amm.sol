// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

interface IERC20Like {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @title Amm
/// @notice A Uniswap-V2-style constant-product pair of two ERC20 tokens with a 0.3% swap fee.
///         Tokens are pulled from the caller with transferFrom (approve this contract first).
///         Liquidity shares are tracked in `balanceOf` / `totalSupply` (not transferable).
contract Amm {
    /// @notice Shares burnt (held by address(0)) on the first deposit, as in Uniswap V2.
    uint256 public constant MINIMUM_LIQUIDITY = 1000;

    address public immutable token0;
    address public immutable token1;

    // Packed in one slot, as in Uniswap V2.
    uint112 private reserve0;
    uint112 private reserve1;
    uint32 private blockTimestampLast;

    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;

    uint256 private unlocked = 1;

    event Mint(address indexed sender, address indexed to, uint256 amount0, uint256 amount1, uint256 liquidity);
    event Burn(address indexed sender, address indexed to, uint256 amount0, uint256 amount1, uint256 liquidity);
    event Swap(
        address indexed sender, address indexed tokenIn, uint256 amountIn, uint256 amountOut, address indexed to
    );
    event Sync(uint112 reserve0, uint112 reserve1);

    modifier lock() {
        require(unlocked == 1, "Amm: locked");
        unlocked = 2;
        _;
        unlocked = 1;
    }

    constructor(address tokenA, address tokenB) {
        require(tokenA != tokenB, "Amm: identical tokens");
        require(tokenA != address(0) && tokenB != address(0), "Amm: zero address");
        token0 = tokenA;
        token1 = tokenB;
    }

    function getReserves() external view returns (uint112 _reserve0, uint112 _reserve1, uint32 _blockTimestampLast) {
        return (reserve0, reserve1, blockTimestampLast);
    }

    /// @notice Output of swapping `amountIn` of `tokenIn` at the current reserves (0.3% fee).
    function getAmountOut(address tokenIn, uint256 amountIn) public view returns (uint256) {
        (uint256 reserveIn, uint256 reserveOut) = _reservesFor(tokenIn);
        return _amountOut(amountIn, reserveIn, reserveOut);
    }

    /// @notice Deposits up to `amount0Desired` of token0 and `amount1Desired` of token1 at the
    ///         current price (the first deposit sets the price) and mints shares to `to`.
    function addLiquidity(uint256 amount0Desired, uint256 amount1Desired, address to)
        external
        lock
        returns (uint256 amount0, uint256 amount1, uint256 liquidity)
    {
        uint256 r0 = reserve0;
        uint256 r1 = reserve1;
        uint256 supply = totalSupply;
        if (supply == 0) {
            (amount0, amount1) = (amount0Desired, amount1Desired);
            liquidity = _sqrt(amount0 * amount1);
            require(liquidity > MINIMUM_LIQUIDITY, "Amm: insufficient liquidity minted");
            liquidity -= MINIMUM_LIQUIDITY;
            balanceOf[address(0)] = MINIMUM_LIQUIDITY;
            supply = MINIMUM_LIQUIDITY;
        } else {
            uint256 amount1Optimal = amount0Desired * r1 / r0;
            if (amount1Optimal <= amount1Desired) {
                (amount0, amount1) = (amount0Desired, amount1Optimal);
            } else {
                (amount0, amount1) = (amount1Desired * r0 / r1, amount1Desired);
            }
            uint256 l0 = amount0 * supply / r0;
            uint256 l1 = amount1 * supply / r1;
            liquidity = l0 < l1 ? l0 : l1;
            require(liquidity > 0, "Amm: insufficient liquidity minted");
        }

        _pull(token0, amount0);
        _pull(token1, amount1);
        totalSupply = supply + liquidity;
        balanceOf[to] += liquidity;
        _update(r0 + amount0, r1 + amount1);
        emit Mint(msg.sender, to, amount0, amount1, liquidity);
    }

    /// @notice Burns `liquidity` of the caller's shares and sends the underlying tokens to `to`.
    function removeLiquidity(uint256 liquidity, address to)
        external
        lock
        returns (uint256 amount0, uint256 amount1)
    {
        uint256 supply = totalSupply;
        uint256 r0 = reserve0;
        uint256 r1 = reserve1;
        amount0 = liquidity * r0 / supply;
        amount1 = liquidity * r1 / supply;
        require(amount0 > 0 && amount1 > 0, "Amm: insufficient liquidity burned");
        balanceOf[msg.sender] -= liquidity; // reverts if the caller has too few shares
        totalSupply = supply - liquidity;
        _update(r0 - amount0, r1 - amount1);
        _push(token0, to, amount0);
        _push(token1, to, amount1);
        emit Burn(msg.sender, to, amount0, amount1, liquidity);
    }

    /// @notice Swaps `amountIn` of `tokenIn` (pulled from the caller) for the other token, sent to
    ///         `to`; reverts if the output would be below `minOut`.
    function swap(address tokenIn, uint256 amountIn, uint256 minOut, address to)
        external
        lock
        returns (uint256 amountOut)
    {
        require(amountIn > 0, "Amm: insufficient input amount");
        bool zeroForOne = tokenIn == token0;
        (uint256 reserveIn, uint256 reserveOut) = _reservesFor(tokenIn);
        amountOut = _amountOut(amountIn, reserveIn, reserveOut);
        require(amountOut > 0, "Amm: insufficient output amount");
        require(amountOut >= minOut, "Amm: slippage");

        _pull(tokenIn, amountIn);
        address tokenOut = zeroForOne ? token1 : token0;
        require(to != tokenIn && to != tokenOut, "Amm: invalid to");
        _push(tokenOut, to, amountOut);
        if (zeroForOne) {
            _update(reserveIn + amountIn, reserveOut - amountOut);
        } else {
            _update(reserveOut - amountOut, reserveIn + amountIn);
        }
        emit Swap(msg.sender, tokenIn, amountIn, amountOut, to);
    }

    function _reservesFor(address tokenIn) private view returns (uint256 reserveIn, uint256 reserveOut) {
        if (tokenIn == token0) return (reserve0, reserve1);
        if (tokenIn == token1) return (reserve1, reserve0);
        revert("Amm: invalid token");
    }

    function _amountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) private pure returns (uint256) {
        require(reserveIn > 0 && reserveOut > 0, "Amm: insufficient liquidity");
        uint256 amountInWithFee = amountIn * 997;
        return amountInWithFee * reserveOut / (reserveIn * 1000 + amountInWithFee);
    }

    function _update(uint256 balance0, uint256 balance1) private {
        require(balance0 <= type(uint112).max && balance1 <= type(uint112).max, "Amm: overflow");
        reserve0 = uint112(balance0);
        reserve1 = uint112(balance1);
        blockTimestampLast = uint32(block.timestamp);
        emit Sync(uint112(balance0), uint112(balance1));
    }

    function _pull(address token, uint256 amount) private {
        require(IERC20Like(token).transferFrom(msg.sender, address(this), amount), "Amm: transferFrom failed");
    }

    function _push(address token, address to, uint256 amount) private {
        require(IERC20Like(token).transfer(to, amount), "Amm: transfer failed");
    }

    /// @dev Integer square root (Babylonian method), as in Uniswap V2.
    function _sqrt(uint256 y) private pure returns (uint256 z) {
        if (y > 3) {
            z = y;
            uint256 x = y / 2 + 1;
            while (x < z) {
                z = x;
                x = (y / x + x) / 2;
            }
        } else if (y != 0) {
            z = 1;
        }
    }
}
