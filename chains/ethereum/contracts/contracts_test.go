package contracts

import "testing"

func TestLoadAll(t *testing.T) {
	for _, name := range []string{Token, Forwarder, Relay, Child, Pool, WETH9, PairV2, RouterV2, PoolV3, RouterV3, THORChainRouter, Impostor} {
		c, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Bytecode) < 100 {
			t.Errorf("%s: bytecode of %d bytes", name, len(c.Bytecode))
		}
	}
	tok, _ := Load(Token)
	for _, m := range []string{"mint", "burn", "transfer", "transferFrom", "approve", "balanceOf"} {
		if _, ok := tok.ABI.Methods[m]; !ok {
			t.Errorf("Token has no method %s", m)
		}
	}
	// The events the link detectors read must have the real contracts' signatures.
	for _, ev := range []struct{ contract, event, sig string }{
		{WETH9, "Deposit", "Deposit(address,uint256)"},
		{WETH9, "Withdrawal", "Withdrawal(address,uint256)"},
		{PairV2, "Swap", "Swap(address,uint256,uint256,uint256,uint256,address)"},
		{PoolV3, "Swap", "Swap(address,address,int256,int256,uint160,uint128,int24)"},
		{THORChainRouter, "Deposit", "Deposit(address,address,uint256,string)"},
		{THORChainRouter, "TransferOut", "TransferOut(address,address,address,uint256,string)"},
		{THORChainRouter, "TransferOutAndCall", "TransferOutAndCall(address,address,uint256,address,address,uint256,string)"},
	} {
		c, err := Load(ev.contract)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.ABI.Events[ev.event].Sig; got != ev.sig {
			t.Errorf("%s event %s has signature %q, want %q", ev.contract, ev.event, got, ev.sig)
		}
	}
	if _, err := Load("Nope"); err == nil {
		t.Error("Load of an unknown contract succeeded")
	}
}
