package etl_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/chains/thorchain"
	"github.com/chaintrace/chaintrace/graph"
)

// withMemo adds an OP_RETURN output carrying memo to transaction 7940… of the enriched
// fixture (inputs from 1DoQe… and 1PZMg…, one output of 100 BTC to 1HaHT…).
func withMemo(t *testing.T, memo string) string {
	t.Helper()
	const tx = "7940cdde4d713e171849efc6bd89939185be270266c94e92369e3877ad89455a"
	return modifyTx(t, tx, func(m map[string]any) {
		outs := m["outputs"].([]any)
		outs = append(outs, map[string]any{"index": len(outs), "script_hex": "6a" + hex.EncodeToString([]byte{byte(len(memo))}) + hex.EncodeToString([]byte(memo)),
			"type": "nulldata", "addresses": []string{}, "value": 0})
		m["outputs"], m["output_count"] = outs, len(outs)
	})
}

// An enriched export names the addresses the inputs spend: a THORChain inbound memo gives
// its link part, an outbound from two addresses a warning naming the transaction.
func TestBitcoinThorchainMemos(t *testing.T) {
	const tx = "7940cdde4d713e171849efc6bd89939185be270266c94e92369e3877ad89455a"
	var warns []etl.Warning
	bs := mustReadBTC(t, etl.BitcoinExport{Transactions: etl.StringSource("tx.json", etl.FormatAuto, withMemo(t, "=:ETH.ETH:0x1f9840a85d5af5bf1d1762f925bdaddc4201f984")),
		Options: etl.Options{Warn: func(w etl.Warning) { warns = append(warns, w) }}})
	if len(warns) != 0 {
		t.Errorf("warnings %v", warns)
	}
	want := graph.LinkPart{Key: thorchain.LinkKey(tx), Kind: graph.LinkThorchain, Chain: graph.Bitcoin,
		In: []graph.Leg{{Chain: graph.Bitcoin, Ref: tx + ":0"}}, Venues: []graph.Address{"1HaHTfmvoUW6i6nhJf8jJs6tU4cHNmBQHQ"}}
	if len(bs[0].Links) != 1 {
		t.Fatalf("links %+v", bs[0].Links)
	}
	got := bs[0].Links[0]
	if got.Key != want.Key || got.Kind != want.Kind || got.Chain != want.Chain || len(got.In) != 1 || got.In[0] != want.In[0] ||
		len(got.Out) != 0 || len(got.Venues) != 1 || got.Venues[0] != want.Venues[0] || !strings.Contains(got.Evidence, tx) {
		t.Errorf("part %+v, want %+v", got, want)
	}
	if len(bs[1].Links) != 0 {
		t.Errorf("block 50002: %+v", bs[1].Links)
	}

	warns = nil
	bs = mustReadBTC(t, etl.BitcoinExport{Transactions: etl.StringSource("tx.json", etl.FormatAuto, withMemo(t, "OUT:"+strings.Repeat("ab", 32))),
		Options: etl.Options{Warn: func(w etl.Warning) { warns = append(warns, w) }}})
	if len(bs[0].Links) != 0 || len(warns) != 1 || warns[0].Tx != tx || warns[0].Block != 50001 || warns[0].Line != 2 ||
		!strings.Contains(warns[0].Msg, bitcoin.ErrVaultInputs.Error()) {
		t.Errorf("links %+v warnings %v", bs[0].Links, warns)
	}
}
