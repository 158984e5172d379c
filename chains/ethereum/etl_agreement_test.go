package ethereum_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/graph"
)

// The same mainnet blocks through this package's client (recorded responses served over
// HTTP, fetched in batches) and through chains/etl (the ethereum-etl export made from those
// responses, in testdata/etl) give equal graph.Blocks. Neither side has traces.
func TestAgreesWithETLExport(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "etl", "ethereum")
	cases := []struct {
		dir      string
		from, to uint64
		export   func(open func(string) etl.Source) etl.EthereumExport
	}{
		{"block_483920", 483920, 483920, func(open func(string) etl.Source) etl.EthereumExport {
			return etl.EthereumExport{Blocks: open("blocks.csv"), Transactions: open("transactions.csv"), Receipts: open("receipts.csv"), Logs: open("logs.csv"), NoTraces: true}
		}},
		{"blocks_1755634_1755635", 1755634, 1755635, func(open func(string) etl.Source) etl.EthereumExport {
			return etl.EthereumExport{Blocks: open("blocks.json"), Transactions: open("transactions.json"), Logs: open("logs.json"), NoTraces: true}
		}},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			ctx := context.Background()
			open := func(name string) etl.Source {
				s, err := etl.OpenFile(filepath.Join(root, c.dir, name))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			fromETL, err := etl.ReadEthereumBlocks(ctx, c.export(open))
			if err != nil {
				t.Fatal(err)
			}
			_, srv := newRecordedNode(t, filepath.Join(root, c.dir, "rpc"))
			cl, err := ethereum.Dial(ctx, srv.URL, ethereum.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ds, err := cl.Blocks(ctx, c.from, c.to)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != len(fromETL) {
				t.Fatalf("%d blocks by RPC, %d by ETL", len(ds), len(fromETL))
			}
			for i := range ds {
				if got, want := normalizeEmpty(ds[i].Block), normalizeEmpty(&fromETL[i]); !reflect.DeepEqual(got, want) {
					t.Errorf("block %d:\nrpc %+v\netl %+v", got.Height, got, want)
				}
				if n := countTransfers(ds[i].Block); c.dir == "block_483920" && n == 0 {
					t.Error("block 483920 should have ERC-20 transfers")
				}
			}
		})
	}
}

func countTransfers(b *graph.Block) int {
	n := 0
	for _, tx := range b.AccountTxs {
		n += len(tx.Transfers)
	}
	return n
}
