package bitcoin_test

import (
	"fmt"

	"github.com/btcsuite/btcd/txscript"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
)

// A THORChain vault pays out the proceeds of an Ethereum inbound: the memo names the
// inbound, the part's out-leg is the payment to the user (not the change back to the vault).
func ExampleDetectThorchain() {
	const vault = graph.Address("bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh")
	memoScript, _ := txscript.NullDataScript([]byte("OUT:0x9a3b5e1f8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a"))
	scripts := [][]byte{nil, nil, memoScript} // outputs 0 and 1 pay addresses
	text, output, ok := bitcoin.ThorchainMemo(scripts)
	fmt.Println(text, output, ok)

	b := &graph.Block{Chain: graph.Bitcoin, Height: 840000, UTXOTxs: []graph.UTXOTx{
		{TxID: "cb", Coinbase: true},
		{TxID: "f0e1", Index: 1,
			Inputs: []graph.TxIn{{Prev: graph.Outpoint{TxID: "aa", Index: 1}, Address: vault, Value: graph.NewAmount(200_000_000), Resolved: true}},
			Outputs: []graph.TxOut{
				{Address: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", Value: graph.NewAmount(150_000_000)},
				{Address: vault, Value: graph.NewAmount(49_990_000)},
				{Unspendable: true},
			}},
	}}
	warns := bitcoin.DetectThorchain(b, []bitcoin.TxMemo{{Tx: 1, Output: output, Text: text}}, nil)
	p := b.Links[0]
	fmt.Println(len(warns), p.Key, p.Kind, p.Out, p.Venues)
	// Output:
	// OUT:0x9a3b5e1f8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a 2 true
	// 0 thorchain:9a3b5e1f8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a thorchain [bitcoin:f0e1:0] [bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh]
}
