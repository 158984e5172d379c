package ethereum_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

var record = flag.Bool("record", false, "re-record testdata/ethereum/devchain-recorded from the dev-chain scenario")

const recordedDir = "../../testdata/ethereum/devchain-recorded"

// recordedBlock is one block as the node answered: the three JSON-RPC results DecodeBlock takes.
type recordedBlock struct {
	Block    json.RawMessage `json:"block"`
	Receipts json.RawMessage `json:"receipts"`
	Traces   json.RawMessage `json:"traces"`
}

// TestRecordDevChain writes the raw JSON-RPC results of the dev-chain scenario's blocks
// (go test -run TestRecordDevChain -record); without -record it checks that the recorded
// blocks still decode, and that each has the transfers the scenario's shape implies.
func TestRecordDevChain(t *testing.T) {
	if *record {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard
		defer cancel()
		n := startNode(t, devnode.Config{NoHTTP: true})
		playScenario(t, ctx, n)
		head := need(n.Client().BlockNumber(ctx))
		var all []recordedBlock
		for h := uint64(0); h <= head; h++ {
			var r recordedBlock
			if err := n.RPC().CallContext(ctx, &r.Block, "eth_getBlockByNumber", hexutil.Uint64(h), true); err != nil {
				t.Fatal(err)
			}
			if err := n.RPC().CallContext(ctx, &r.Receipts, "eth_getBlockReceipts", hexutil.Uint64(h)); err != nil {
				t.Fatal(err)
			}
			if h > 0 {
				if err := n.RPC().CallContext(ctx, &r.Traces, "debug_traceBlockByNumber", hexutil.Uint64(h), map[string]any{"tracer": "callTracer"}); err != nil {
					t.Fatal(err)
				}
			} else {
				r.Traces = json.RawMessage("[]")
			}
			all = append(all, r)
		}
		if err := os.MkdirAll(recordedDir, 0o755); err != nil {
			t.Fatal(err)
		}
		out, _ := json.MarshalIndent(all, "", " ")
		if err := os.WriteFile(filepath.Join(recordedDir, "blocks.json"), append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	blocks := loadRecorded(t)
	var transfers, reverted int
	for i, r := range blocks {
		d, err := ethereum.DecodeBlock(r.Block, r.Receipts, r.Traces)
		if err != nil {
			t.Fatalf("recorded block %d: %v", i, err)
		}
		if len(d.Warnings) != 0 {
			t.Errorf("recorded block %d: %v", i, d.Warnings)
		}
		for _, tx := range d.Block.AccountTxs {
			transfers += len(tx.Transfers)
			for _, x := range tx.Transfers {
				if x.Reverted {
					reverted++
				}
			}
		}
	}
	// The scenario's hand count: 2 + 1 + 1 + 1 + 6 + 5 + 1 + 2 + 3 + 1 withdrawal.
	if len(blocks) != 11 || transfers != 23 || reverted != 2 {
		t.Errorf("%d blocks, %d transfers (%d reverted); want 11, 23, 2", len(blocks), transfers, reverted)
	}
}

func loadRecorded(t testing.TB) []recordedBlock {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(recordedDir, "blocks.json"))
	if err != nil {
		t.Fatal(fmt.Errorf("%w (record it with go test -run TestRecordDevChain -record)", err))
	}
	var blocks []recordedBlock
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	return blocks
}
