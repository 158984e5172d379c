package etl_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/graph"
)

func fixture(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "testdata", "etl"}, parts...)...)
}

// open opens a fixture table; it is closed when the test ends.
func open(t testing.TB, path string) etl.Source {
	t.Helper()
	s, err := etl.OpenFile(fixture(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func readFixture(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(fixture(path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dump renders blocks as text, one line per transaction, transfer, input and output, so
// that a mismatch shows where.
func dump(bs []graph.Block) string {
	var s strings.Builder
	for _, b := range bs {
		fmt.Fprintf(&s, "block %s %d %s parent=%s time=%d txs=%d\n", b.Chain, b.Height, b.Hash, b.Parent, b.Time, b.TxCount())
		for _, tx := range b.AccountTxs {
			fmt.Fprintf(&s, "  tx %d %s %s->%s fee=%s ok=%v\n", tx.Index, tx.Hash, tx.From, tx.To, tx.Fee.Dec(), tx.Success)
			for _, tr := range tx.Transfers {
				fmt.Fprintf(&s, "    %s %s %s %s->%s %s rev=%v\n", tr.ID, tr.Kind, tr.Asset, tr.From, tr.To, tr.Amount.Dec(), tr.Reverted)
			}
		}
		for _, tx := range b.UTXOTxs {
			fmt.Fprintf(&s, "  utxo %d %s cb=%v\n", tx.Index, tx.TxID, tx.Coinbase)
			for _, in := range tx.Inputs {
				fmt.Fprintf(&s, "    in %s %s %s %v\n", in.Prev, in.Address, in.Value.Dec(), in.Resolved)
			}
			for _, o := range tx.Outputs {
				fmt.Fprintf(&s, "    out %s %s %v\n", o.Address, o.Value.Dec(), o.Unspendable)
			}
		}
	}
	return s.String()
}

func findTx(t testing.TB, b *graph.Block, hash string) *graph.AccountTx {
	t.Helper()
	for i := range b.AccountTxs {
		if b.AccountTxs[i].Hash == hash {
			return &b.AccountTxs[i]
		}
	}
	t.Fatalf("block %d has no tx %s", b.Height, hash)
	return nil
}
