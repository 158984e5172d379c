// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// THORChainRouter follows THORChain's Ethereum router (thornode, THORChain_Router.sol,
/// router version 4.1) for what moves value: deposit/depositWithExpiry forward ETH to the
/// vault and keep ERC-20 in the router on the vault's allowance, logging
/// Deposit(to, asset, amount, memo); a vault's transferOut sends ETH (its call value) or
/// ERC-20 from its allowance to the recipient, logging TransferOut(vault, to, asset, amount,
/// memo); transferOutAndCall pays an aggregator (or, if that fails, the recipient) and logs
/// TransferOutAndCall. The events have the real router's exact signatures. RUNE handling and
/// vault migrations are left out (no RUNE on the dev chain).
contract THORChainRouter {
    mapping(address => mapping(address => uint256)) private _vaultAllowance;
    uint256 private _status = 1;

    event Deposit(address indexed to, address indexed asset, uint256 amount, string memo);
    event TransferOut(address indexed vault, address indexed to, address asset, uint256 amount, string memo);
    event TransferOutAndCall(
        address indexed vault, address target, uint256 amount, address finalAsset, address to, uint256 amountOutMin, string memo
    );

    modifier nonReentrant() {
        require(_status != 2, "ReentrancyGuard: reentrant call");
        _status = 2;
        _;
        _status = 1;
    }

    function depositWithExpiry(address payable vault, address asset, uint256 amount, string memory memo, uint256 expiration)
        external
        payable
    {
        require(block.timestamp < expiration, "THORChain_Router: expired");
        deposit(vault, asset, amount, memo);
    }

    function deposit(address payable vault, address asset, uint256 amount, string memory memo) public payable nonReentrant {
        uint256 safeAmount;
        if (asset == address(0)) {
            safeAmount = msg.value;
            bool success = vault.send(safeAmount);
            require(success);
        } else {
            require(msg.value == 0, "THORChain_Router: unexpected eth");
            safeAmount = safeTransferFrom(asset, amount);
            _vaultAllowance[vault][asset] += safeAmount;
        }
        emit Deposit(vault, asset, safeAmount, memo);
    }

    function transferOut(address payable to, address asset, uint256 amount, string memory memo) public payable nonReentrant {
        uint256 safeAmount;
        if (asset == address(0)) {
            safeAmount = msg.value;
            bool success = to.send(safeAmount);
            if (!success) {
                payable(address(msg.sender)).transfer(safeAmount);
            }
        } else {
            _vaultAllowance[msg.sender][asset] -= amount;
            (bool success, bytes memory data) =
                asset.call(abi.encodeWithSignature("transfer(address,uint256)", to, amount));
            require(success && (data.length == 0 || abi.decode(data, (bool))));
            safeAmount = amount;
        }
        emit TransferOut(msg.sender, to, asset, safeAmount, memo);
    }

    function transferOutAndCall(address payable aggregator, address finalToken, address to, uint256 amountOutMin, string memory memo)
        public
        payable
        nonReentrant
    {
        uint256 _safeAmount = msg.value;
        (bool erc20Success,) = aggregator.call{value: _safeAmount}(
            abi.encodeWithSignature("swapOut(address,address,uint256)", finalToken, to, amountOutMin)
        );
        if (!erc20Success) {
            bool ethSuccess = payable(to).send(_safeAmount);
            if (!ethSuccess) {
                payable(address(msg.sender)).transfer(_safeAmount);
            }
        }
        emit TransferOutAndCall(msg.sender, aggregator, _safeAmount, finalToken, to, amountOutMin, memo);
    }

    function vaultAllowance(address vault, address token) public view returns (uint256 amount) {
        return _vaultAllowance[vault][token];
    }

    function safeTransferFrom(address _asset, uint256 _amount) internal returns (uint256 amount) {
        uint256 _startBal = IERC20Router(_asset).balanceOf(address(this));
        (bool success, bytes memory data) = _asset.call(
            abi.encodeWithSignature("transferFrom(address,address,uint256)", msg.sender, address(this), _amount)
        );
        require(success && (data.length == 0 || abi.decode(data, (bool))));
        return (IERC20Router(_asset).balanceOf(address(this)) - _startBal);
    }
}

interface IERC20Router {
    function balanceOf(address) external view returns (uint256);
}
