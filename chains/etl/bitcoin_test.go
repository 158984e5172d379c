package etl_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/graph"
)

func mustReadBTC(t *testing.T, src etl.BitcoinExport) []graph.Block {
	t.Helper()
	bs, err := etl.ReadBitcoinBlocks(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// Blocks 50001–50002 as export_blocks_and_transactions writes them (inputs without value or
// address) and as the enriched stream writes them: same outputs, inputs resolved only in
// the enriched form.
func TestBitcoinRawAndEnriched(t *testing.T) {
	raw := mustReadBTC(t, etl.BitcoinExport{Blocks: open(t, "bitcoin/blocks_50001_50002_raw/blocks.json"),
		Transactions: open(t, "bitcoin/blocks_50001_50002_raw/transactions.json")})
	enr := mustReadBTC(t, etl.BitcoinExport{Blocks: open(t, "bitcoin/blocks_50001_50002_enriched/blocks.json"),
		Transactions: open(t, "bitcoin/blocks_50001_50002_enriched/transactions.json")})
	if len(raw) != 2 || len(enr) != 2 {
		t.Fatalf("blocks %d %d", len(raw), len(enr))
	}
	b := &enr[0]
	if b.Chain != graph.Bitcoin || b.Height != 50001 || b.Hash != "000000001c920d495e1eeef2452b6d1c6c229a919b28196c103ecffebabee141" ||
		b.Time != 1270917100 || len(b.UTXOTxs) != 3 || enr[1].Parent != b.Hash || b.Parent != "" {
		t.Fatalf("block %+v", b)
	}
	cb := &b.UTXOTxs[0]
	if !cb.Coinbase || len(cb.Inputs) != 0 || cb.Outputs[0].Address != "1PkqKGbNLDdDJGveCcNUMV9CEFH77ADrPQ" || cb.Outputs[0].Value.Dec() != "5000000000" {
		t.Errorf("coinbase %+v", cb)
	}
	tx := &b.UTXOTxs[1]
	if tx.TxID != "7940cdde4d713e171849efc6bd89939185be270266c94e92369e3877ad89455a" || tx.Index != 1 || len(tx.Inputs) != 2 {
		t.Fatalf("tx %+v", tx)
	}
	wantIn := []graph.TxIn{
		{Prev: graph.Outpoint{TxID: "76a8d70a757be5055f60be076b683897cadaad6b7bdf78c43e39b9d59cb4a6ea", Index: 0}, Address: "1DoQeKfU3dYhN9bxMpFFcVUnufCPDqSPae", Value: graph.NewAmount(5000000000), Resolved: true},
		{Prev: graph.Outpoint{TxID: "0dd0394c6240355f4e4b3c88028f678ed746cebee3b3e8509620733f018914c9", Index: 0}, Address: "1PZMgkF2x161qvfP7dhoWSEEU3SjnQE1m9", Value: graph.NewAmount(5000000000), Resolved: true},
	}
	for i, w := range wantIn {
		if tx.Inputs[i] != w {
			t.Errorf("enriched input %d: %+v, want %+v", i, tx.Inputs[i], w)
		}
		r := raw[0].UTXOTxs[1].Inputs[i]
		if r.Resolved || r.Address != "" || !r.Value.IsZero() || r.Prev != w.Prev {
			t.Errorf("raw input %d: %+v, want only the outpoint", i, r)
		}
	}
	if fee, err := tx.Fee(); err != nil || !fee.IsZero() {
		t.Errorf("enriched fee %v %v", fee.Dec(), err)
	}
	if _, err := raw[0].UTXOTxs[1].Fee(); !errors.Is(err, graph.ErrUnresolved) {
		t.Errorf("raw fee: want ErrUnresolved, got %v", err)
	}
	for bi := range raw {
		for ti := range raw[bi].UTXOTxs {
			r, e := raw[bi].UTXOTxs[ti], enr[bi].UTXOTxs[ti]
			if r.TxID != e.TxID || r.Index != e.Index || r.Coinbase != e.Coinbase || len(r.Outputs) != len(e.Outputs) {
				t.Fatalf("tx %d/%d differs", bi, ti)
			}
			for oi := range r.Outputs {
				if r.Outputs[oi] != e.Outputs[oi] {
					t.Errorf("output %s:%d differs", r.TxID, oi)
				}
			}
		}
	}
}

// Without a blocks table, blocks come from the transactions and are the same.
func TestBitcoinWithoutBlocksTable(t *testing.T) {
	with := mustReadBTC(t, etl.BitcoinExport{Blocks: open(t, "bitcoin/blocks_50001_50002_enriched/blocks.json"),
		Transactions: open(t, "bitcoin/blocks_50001_50002_enriched/transactions.json")})
	without := mustReadBTC(t, etl.BitcoinExport{Transactions: open(t, "bitcoin/blocks_50001_50002_enriched/transactions.json")})
	if dump(with) != dump(without) {
		t.Errorf("with blocks\n%s\nwithout\n%s", dump(with), dump(without))
	}
}

// Genesis and block 1 from two exports concatenated: block 1's parent is the genesis.
func TestBitcoinGenesis(t *testing.T) {
	blocks := etl.Source{Name: "blocks", Format: etl.FormatJSON, R: io.MultiReader(
		strings.NewReader(readFixture(t, "bitcoin/block_0/blocks.json")), strings.NewReader(readFixture(t, "bitcoin/block_1/blocks.json")))}
	txs := etl.Source{Name: "transactions", Format: etl.FormatJSON, R: io.MultiReader(
		strings.NewReader(readFixture(t, "bitcoin/block_0/transactions.json")), strings.NewReader(readFixture(t, "bitcoin/block_1/transactions.json")))}
	bs := mustReadBTC(t, etl.BitcoinExport{Blocks: blocks, Transactions: txs})
	if len(bs) != 2 || bs[1].Parent != "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f" {
		t.Fatalf("%s", dump(bs))
	}
	g := bs[0].UTXOTxs[0]
	if g.TxID != "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b" || !g.Coinbase ||
		g.Outputs[0].Address != "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa" || g.Outputs[0].Value.Dec() != "5000000000" {
		t.Errorf("genesis %+v", g)
	}
}

// modifyTx rewrites the JSON line of one transaction of the enriched fixture.
func modifyTx(t *testing.T, hash string, edit func(m map[string]any)) string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(readFixture(t, "bitcoin/blocks_50001_50002_enriched/transactions.json")), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["hash"] == hash || hash == "*" {
			edit(m)
		}
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return strings.Join(out, "\n") + "\n"
}

// Output address rule: one address kept; none or several (bare multisig) → bitcoin-etl's
// script pseudo-address; OP_RETURN unspendable.
func TestBitcoinOutputAddressRule(t *testing.T) {
	const tx = "7940cdde4d713e171849efc6bd89939185be270266c94e92369e3877ad89455a"
	multisig := "5121" + strings.Repeat("02", 33) + "21" + strings.Repeat("03", 33) + "52ae"
	text := modifyTx(t, tx, func(m map[string]any) {
		o := m["outputs"].([]any)[0].(map[string]any)
		outs := []any{
			o,
			map[string]any{"index": 1, "script_hex": multisig, "type": "multisig", "addresses": []string{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "12c6DSiU4Rq3P4ZxziKxzrL5LmMBrzjrJX"}, "value": 0},
			map[string]any{"index": 2, "script_hex": "6a0401020304", "type": "nonstandard", "addresses": []string{}, "value": 0},
			map[string]any{"index": 3, "script_hex": "51", "type": "nonstandard", "addresses": []string{"nonstandardabcdef0123456789abcdef0123456789abcdef"}, "value": 0},
		}
		m["outputs"], m["output_count"] = outs, len(outs)
	})
	bs := mustReadBTC(t, etl.BitcoinExport{Transactions: etl.StringSource("tx.json", etl.FormatAuto, text)})
	outs := bs[0].UTXOTxs[1].Outputs
	pseudo := func(script string) graph.Address {
		b, _ := hex.DecodeString(script)
		s := sha256.Sum256(b)
		return graph.Address("nonstandard" + hex.EncodeToString(s[:])[:40])
	}
	want := []graph.TxOut{
		{Address: "1HaHTfmvoUW6i6nhJf8jJs6tU4cHNmBQHQ", Value: graph.NewAmount(10000000000)},
		{Address: pseudo(multisig)},
		{Address: pseudo("6a0401020304"), Unspendable: true},
		{Address: "nonstandardabcdef0123456789abcdef0123456789abcdef"},
	}
	if len(outs) != len(want) {
		t.Fatalf("%d outputs", len(outs))
	}
	for i := range want {
		if outs[i] != want[i] {
			t.Errorf("output %d: %+v, want %+v", i, outs[i], want[i])
		}
	}
}

// BigQuery's transactions table has no index: the in-block order is rebuilt (coinbase
// first, spends after what they spend) and Warn says so.
func TestBitcoinNoIndexColumn(t *testing.T) {
	text := modifyTx(t, "*", func(m map[string]any) { delete(m, "index"); delete(m, "type"); delete(m, "item_id") })
	lines := strings.Split(strings.TrimSpace(text), "\n")
	// block 50001's three transactions in reverse, coinbase last
	lines[0], lines[2] = lines[2], lines[0]
	var warned int
	bs := mustReadBTC(t, etl.BitcoinExport{Transactions: etl.StringSource("tx.json", etl.FormatJSON, strings.Join(lines, "\n")),
		Options: etl.Options{Warn: func(etl.Warning) { warned++ }}})
	if warned != 2 || len(bs) != 2 || !bs[0].UTXOTxs[0].Coinbase || bs[0].UTXOTxs[0].Index != 0 {
		t.Fatalf("warned %d\n%s", warned, dump(bs))
	}
}

func TestBitcoinCSVRejected(t *testing.T) {
	_, err := etl.ReadBitcoinBlocks(ctx, etl.BitcoinExport{Transactions: etl.StringSource("transactions.csv", etl.FormatAuto, "hash\n")})
	if !errors.Is(err, etl.ErrUnsupportedFormat) {
		t.Fatalf("want ErrUnsupportedFormat, got %v", err)
	}
}
