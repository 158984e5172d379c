// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IERC20 {
    function balanceOf(address who) external view returns (uint256);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// Swap is a constant-product (x·y = k, no fee) pool of ETH against one ERC-20 token, in the
/// style of a Uniswap v1 exchange reduced to what chaintrace's simulated case needs: anyone
/// adds liquidity by sending ETH (receive) and tokens (a plain token transfer); sellTokens
/// takes `amountIn` tokens from the caller (approve first) and pays the ETH the curve gives
/// by an internal transfer out of the pool.
contract Swap {
    IERC20 public immutable token;

    event Sold(address indexed seller, address indexed to, uint256 tokensIn, uint256 ethOut);

    constructor(IERC20 token_) {
        token = token_;
    }

    receive() external payable {}

    /// quote returns the ETH paid for amountIn tokens at the current reserves.
    function quote(uint256 amountIn) public view returns (uint256) {
        uint256 tokenReserve = token.balanceOf(address(this));
        return address(this).balance * amountIn / (tokenReserve + amountIn);
    }

    function sellTokens(uint256 amountIn, uint256 minEthOut, address payable to) external returns (uint256 ethOut) {
        ethOut = quote(amountIn);
        require(ethOut >= minEthOut, "slippage");
        require(token.transferFrom(msg.sender, address(this), amountIn), "transferFrom failed");
        (bool ok, ) = to.call{value: ethOut}("");
        require(ok, "payment failed");
        emit Sold(msg.sender, to, amountIn, ethOut);
    }
}
