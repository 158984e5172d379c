// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// Pool is a fixed-denomination mixer in the style of Tornado Cash, without the zero-knowledge
/// proof: a deposit of exactly 1 ETH registers commitment = keccak256(secret); a withdrawal
/// reveals the secret once, pays `fee` to the relayer and the rest to the recipient, both by
/// internal transfers out of the pool.
contract Pool {
    uint256 public constant DENOMINATION = 1 ether;

    mapping(bytes32 => bool) public commitments;
    mapping(bytes32 => bool) public spent;

    event Deposit(bytes32 indexed commitment, uint256 timestamp);
    event Withdrawal(address to, bytes32 nullifierHash, address indexed relayer, uint256 fee);

    function deposit(bytes32 commitment) external payable {
        require(msg.value == DENOMINATION, "deposit exactly 1 ETH");
        require(!commitments[commitment], "commitment exists");
        commitments[commitment] = true;
        emit Deposit(commitment, block.timestamp);
    }

    function withdraw(bytes32 secret, address payable recipient, address payable relayer, uint256 fee) external {
        bytes32 commitment = keccak256(abi.encodePacked(secret));
        require(commitments[commitment], "unknown note");
        require(!spent[commitment], "note spent");
        require(fee <= DENOMINATION, "fee above denomination");
        spent[commitment] = true;
        (bool ok, ) = recipient.call{value: DENOMINATION - fee}("");
        require(ok, "payment to recipient failed");
        if (fee > 0) {
            (ok, ) = relayer.call{value: fee}("");
            require(ok, "payment to relayer failed");
        }
        emit Withdrawal(recipient, commitment, relayer, fee);
    }
}
