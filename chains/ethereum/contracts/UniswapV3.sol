// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

interface IERC20V3 {
    function balanceOf(address) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

interface IUniswapV3SwapCallback {
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external;
}

/// PoolV3 is a simplified Uniswap-V3-style pool: its price is a constant product of its
/// balances (no ticks or ranges), but its swap has V3's interface and emits what a real
/// UniswapV3Pool.swap emits, in the same order (Uniswap/v3-core): it pays the output to the
/// recipient first, calls back the caller (uniswapV3SwapCallback) to be paid the input,
/// checks the input arrived, then logs Swap with V3's exact signature and signed amounts
/// (positive: into the pool; negative: out of it). Exact-input swaps only.
contract PoolV3 {
    address public token0;
    address public token1;
    uint256 private unlocked = 1;

    event Swap(
        address indexed sender,
        address indexed recipient,
        int256 amount0,
        int256 amount1,
        uint160 sqrtPriceX96,
        uint128 liquidity,
        int24 tick
    );

    constructor(address tokenA, address tokenB) {
        (token0, token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
    }

    function balance0() private view returns (uint256) {
        return IERC20V3(token0).balanceOf(address(this));
    }

    function balance1() private view returns (uint256) {
        return IERC20V3(token1).balanceOf(address(this));
    }

    function sqrt(uint256 x) private pure returns (uint256 y) {
        if (x == 0) return 0;
        uint256 z = (x + 1) / 2;
        y = x;
        while (z < y) {
            y = z;
            z = (x / z + z) / 2;
        }
    }

    function swap(address recipient, bool zeroForOne, int256 amountSpecified, uint160, bytes calldata data)
        external
        returns (int256 amount0, int256 amount1)
    {
        require(unlocked == 1, "LOK");
        unlocked = 0;
        require(amountSpecified > 0, "exact input only");
        uint256 r0 = balance0();
        uint256 r1 = balance1();
        uint256 amountIn = uint256(amountSpecified);
        uint256 inWithFee = amountIn * 997;
        if (zeroForOne) {
            uint256 out = (inWithFee * r1) / (r0 * 1000 + inWithFee);
            require(out > 0 && out < r1, "liquidity");
            (amount0, amount1) = (int256(amountIn), -int256(out));
            require(IERC20V3(token1).transfer(recipient, out), "transfer");
            uint256 before = balance0();
            IUniswapV3SwapCallback(msg.sender).uniswapV3SwapCallback(amount0, amount1, data);
            require(before + amountIn <= balance0(), "IIA");
        } else {
            uint256 out = (inWithFee * r0) / (r1 * 1000 + inWithFee);
            require(out > 0 && out < r0, "liquidity");
            (amount0, amount1) = (-int256(out), int256(amountIn));
            require(IERC20V3(token0).transfer(recipient, out), "transfer");
            uint256 before = balance1();
            IUniswapV3SwapCallback(msg.sender).uniswapV3SwapCallback(amount0, amount1, data);
            require(before + amountIn <= balance1(), "IIA");
        }
        uint256 n0 = balance0();
        uint256 n1 = balance1();
        uint160 sqrtPriceX96 = uint160(sqrt((n1 << 96) / n0) << 48);
        emit Swap(msg.sender, recipient, amount0, amount1, sqrtPriceX96, uint128(sqrt(n0 * n1)), 0);
        unlocked = 1;
    }
}

/// RouterV3 swaps through one PoolV3 like Uniswap's SwapRouter.exactInputSingle: it calls
/// the pool's swap and, in the pool's callback, pulls the input from the payer into the pool.
contract RouterV3 is IUniswapV3SwapCallback {
    address private expectedPool;

    function exactInputSingle(address pool, bool zeroForOne, uint256 amountIn, address recipient)
        external
        returns (uint256 amountOut)
    {
        expectedPool = pool;
        (int256 a0, int256 a1) = PoolV3(pool).swap(recipient, zeroForOne, int256(amountIn), 0, abi.encode(msg.sender));
        expectedPool = address(0);
        amountOut = uint256(-(zeroForOne ? a1 : a0));
    }

    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external {
        require(msg.sender == expectedPool, "RouterV3: not the pool");
        address payer = abi.decode(data, (address));
        if (amount0Delta > 0) {
            require(IERC20V3(PoolV3(msg.sender).token0()).transferFrom(payer, msg.sender, uint256(amount0Delta)), "pay");
        } else {
            require(IERC20V3(PoolV3(msg.sender).token1()).transferFrom(payer, msg.sender, uint256(amount1Delta)), "pay");
        }
    }
}
