// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// Impostor emits the events the link detectors read — Uniswap V2's and V3's Swap, WETH9's
/// Deposit and Withdrawal, THORChain's Deposit and TransferOut — without moving anything:
/// any contract can, and the detectors must then make no link but a warning.
contract Impostor {
    event Swap(
        address indexed sender,
        uint256 amount0In,
        uint256 amount1In,
        uint256 amount0Out,
        uint256 amount1Out,
        address indexed to
    );
    event Deposit(address indexed dst, uint256 wad);
    event Withdrawal(address indexed src, uint256 wad);
    event TransferOut(address indexed vault, address indexed to, address asset, uint256 amount, string memo);

    function fake(address to, uint256 amount, string memory memo) external {
        emit Swap(msg.sender, amount, 0, 0, amount, to);
        emit Deposit(to, amount);
        emit Withdrawal(to, amount);
        emit TransferOut(msg.sender, to, address(0), amount, memo);
    }
}
