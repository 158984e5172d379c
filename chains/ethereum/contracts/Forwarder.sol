// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// Relay forwards the ETH it receives; relayThenRevert forwards it and then reverts, so the
/// forwarding frame and the value it moved are undone.
contract Relay {
    function relay(address payable to) external payable {
        (bool ok, ) = to.call{value: msg.value}("");
        require(ok, "relay failed");
    }

    function relayThenRevert(address payable to) external payable {
        (bool ok, ) = to.call{value: msg.value}("");
        require(ok, "relay failed");
        revert("relay reverted on purpose");
    }
}

/// Child is created with value and destroys itself in the same transaction, sending its
/// balance to a beneficiary (SELFDESTRUCT of a contract created in the same transaction).
contract Child {
    constructor() payable {}

    function destroy(address payable beneficiary) external {
        selfdestruct(beneficiary);
    }

    receive() external payable {}
}

/// Forwarder moves ETH through internal calls: plain calls, calls through a Relay (one of
/// which reverts and is swallowed), and a CREATE/CREATE2 with value followed by SELFDESTRUCT.
contract Forwarder {
    Relay public immutable relayer;

    constructor() {
        relayer = new Relay();
    }

    /// forward sends a to `direct` by a plain call, b to `viaRelay` through the Relay, c to
    /// `reverted` through relayThenRevert (reverted; the Forwarder keeps c), and keeps the rest.
    function forward(address payable direct, uint256 a, address payable viaRelay, uint256 b,
                     address payable reverted, uint256 c) external payable {
        require(a + b + c <= msg.value, "not enough value");
        (bool ok, ) = direct.call{value: a}("");
        require(ok, "direct failed");
        relayer.relay{value: b}(viaRelay);
        (ok, ) = address(relayer).call{value: c}(abi.encodeCall(Relay.relayThenRevert, (reverted)));
        require(!ok, "expected revert");
    }

    /// spawn creates a Child with value v1 (CREATE) and one with v2 (CREATE2), then destroys
    /// both in favour of beneficiary.
    function spawn(address payable beneficiary, uint256 v1, uint256 v2, bytes32 salt) external payable {
        require(v1 + v2 <= msg.value, "not enough value");
        Child c1 = new Child{value: v1}();
        Child c2 = new Child{value: v2, salt: salt}();
        c1.destroy(beneficiary);
        c2.destroy(beneficiary);
    }

    /// sweep sends the Forwarder's whole balance to `to`.
    function sweep(address payable to) external {
        (bool ok, ) = to.call{value: address(this).balance}("");
        require(ok, "sweep failed");
    }
}
