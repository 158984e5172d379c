package contracts

import "testing"

func TestLoadAll(t *testing.T) {
	for _, name := range []string{Token, Forwarder, Relay, Child, Pool} {
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
	if _, err := Load("Nope"); err == nil {
		t.Error("Load of an unknown contract succeeded")
	}
}
