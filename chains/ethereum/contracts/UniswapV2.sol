// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

interface IERC20V2 {
    function balanceOf(address) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// PairV2 is a Uniswap-V2-style constant-product pair, after Uniswap/v2-core's
/// UniswapV2Pair.swap: it pays the outputs first (optimistic transfers), reads its balances,
/// infers the inputs from them, checks the invariant with the 0.3 % fee, updates the
/// reserves (Sync) and logs Swap with V2's exact signature. Liquidity is added by paying
/// the pair and calling sync, as on V2; there are no LP tokens (they move no traced value).
contract PairV2 {
    address public token0;
    address public token1;
    uint112 private reserve0;
    uint112 private reserve1;
    uint256 private unlocked = 1;

    event Sync(uint112 reserve0, uint112 reserve1);
    event Swap(
        address indexed sender,
        uint256 amount0In,
        uint256 amount1In,
        uint256 amount0Out,
        uint256 amount1Out,
        address indexed to
    );

    modifier lock() {
        require(unlocked == 1, "UniswapV2: LOCKED");
        unlocked = 0;
        _;
        unlocked = 1;
    }

    constructor(address tokenA, address tokenB) {
        (token0, token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
    }

    function getReserves() public view returns (uint112, uint112) {
        return (reserve0, reserve1);
    }

    function _update(uint256 balance0, uint256 balance1) private {
        require(balance0 <= type(uint112).max && balance1 <= type(uint112).max, "UniswapV2: OVERFLOW");
        reserve0 = uint112(balance0);
        reserve1 = uint112(balance1);
        emit Sync(reserve0, reserve1);
    }

    function sync() external lock {
        _update(IERC20V2(token0).balanceOf(address(this)), IERC20V2(token1).balanceOf(address(this)));
    }

    function _safeTransfer(address token, address to, uint256 value) private {
        require(IERC20V2(token).transfer(to, value), "UniswapV2: TRANSFER_FAILED");
    }

    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external lock {
        require(amount0Out > 0 || amount1Out > 0, "UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT");
        (uint112 _reserve0, uint112 _reserve1) = getReserves();
        require(amount0Out < _reserve0 && amount1Out < _reserve1, "UniswapV2: INSUFFICIENT_LIQUIDITY");
        uint256 balance0;
        uint256 balance1;
        {
            address _token0 = token0;
            address _token1 = token1;
            require(to != _token0 && to != _token1, "UniswapV2: INVALID_TO");
            if (amount0Out > 0) _safeTransfer(_token0, to, amount0Out);
            if (amount1Out > 0) _safeTransfer(_token1, to, amount1Out);
            require(data.length == 0, "flash swaps not supported");
            balance0 = IERC20V2(_token0).balanceOf(address(this));
            balance1 = IERC20V2(_token1).balanceOf(address(this));
        }
        uint256 amount0In = balance0 > _reserve0 - amount0Out ? balance0 - (_reserve0 - amount0Out) : 0;
        uint256 amount1In = balance1 > _reserve1 - amount1Out ? balance1 - (_reserve1 - amount1Out) : 0;
        require(amount0In > 0 || amount1In > 0, "UniswapV2: INSUFFICIENT_INPUT_AMOUNT");
        {
            uint256 balance0Adjusted = balance0 * 1000 - amount0In * 3;
            uint256 balance1Adjusted = balance1 * 1000 - amount1In * 3;
            require(balance0Adjusted * balance1Adjusted >= uint256(_reserve0) * _reserve1 * 1000 ** 2, "UniswapV2: K");
        }
        _update(balance0, balance1);
        emit Swap(msg.sender, amount0In, amount1In, amount0Out, amount1Out, to);
    }
}

/// RouterV2 swaps an exact input along a path of PairV2s the way Uniswap's V2 router does:
/// it pulls the input from the caller straight into the first pair, and each pair pays the
/// next pair directly (the last pays the recipient), so one Transfer is the output of one
/// swap and the input of the next.
contract RouterV2 {
    function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) public pure returns (uint256) {
        uint256 amountInWithFee = amountIn * 997;
        return (amountInWithFee * reserveOut) / (reserveIn * 1000 + amountInWithFee);
    }

    function swapExactTokensForTokens(uint256 amountIn, address tokenIn, address[] calldata pairs, address to)
        external
        returns (uint256 amountOut)
    {
        require(pairs.length > 0, "RouterV2: no pairs");
        require(IERC20V2(tokenIn).transferFrom(msg.sender, pairs[0], amountIn), "RouterV2: pull failed");
        address token = tokenIn;
        amountOut = amountIn;
        for (uint256 i = 0; i < pairs.length; i++) {
            PairV2 pair = PairV2(pairs[i]);
            (uint112 r0, uint112 r1) = pair.getReserves();
            bool zeroIn = token == pair.token0();
            require(zeroIn || token == pair.token1(), "RouterV2: token not in pair");
            amountOut = zeroIn ? getAmountOut(amountOut, r0, r1) : getAmountOut(amountOut, r1, r0);
            address recipient = i + 1 < pairs.length ? pairs[i + 1] : to;
            if (zeroIn) {
                pair.swap(0, amountOut, recipient, "");
                token = pair.token1();
            } else {
                pair.swap(amountOut, 0, recipient, "");
                token = pair.token0();
            }
        }
    }
}
