package devnode_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

func TestDevnodeTransferTraceWithdrawal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard
	defer cancel()
	n, err := devnode.Start(ctx, devnode.Config{Accounts: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	a, b := n.Account(0), n.Account(1)
	tx1, err := n.Send(ctx, a, devnode.Tx{To: &b.Address, Value: devnode.Ether(1)})
	if err != nil {
		t.Fatal(err)
	}
	tx2, err := n.Send(ctx, a, devnode.Tx{To: &b.Address, Value: devnode.Ether(2)})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.AddWithdrawal(ctx, 0, 7, b.Address, 5); err != nil {
		t.Fatal(err)
	}
	blk, err := n.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if blk.NumberU64() != 1 || len(blk.Transactions()) != 2 || len(blk.Withdrawals()) != 1 {
		t.Fatalf("block %d: %d txs, %d withdrawals; want 1, 2, 1", blk.NumberU64(), len(blk.Transactions()), len(blk.Withdrawals()))
	}
	for _, tx := range []string{tx1.Hash().Hex(), tx2.Hash().Hex()} {
		if blk.Transaction(tx1.Hash()) == nil {
			t.Errorf("tx %s not in block", tx)
		}
	}
	// The debug API answers over HTTP on loopback.
	hc, err := rpc.DialContext(ctx, n.HTTPURL())
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	var traces []json.RawMessage
	if err := hc.CallContext(ctx, &traces, "debug_traceBlockByNumber", hexutil.Uint64(1), map[string]any{"tracer": "callTracer"}); err != nil {
		t.Fatal(err)
	}
	if len(traces) != 2 {
		t.Fatalf("%d traces, want 2", len(traces))
	}
}

func TestDevnodeWithoutDebug(t *testing.T) {
	ctx := context.Background()
	n, err := devnode.Start(ctx, devnode.Config{Accounts: 1, NoDebug: true, NoHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.HTTPURL() != "" {
		t.Errorf("HTTPURL %q with NoHTTP", n.HTTPURL())
	}
	var out any
	err = n.RPC().CallContext(ctx, &out, "debug_traceBlockByNumber", hexutil.Uint64(0), map[string]any{"tracer": "callTracer"})
	if err == nil {
		t.Fatal("debug_traceBlockByNumber answered on a node without the debug API")
	}
}
