package ethereum_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
)

// A node without the debug API: ingestion still works, but says loudly — in the result,
// in each block's warnings and in the log — that internal transfers are missing.
func TestDevChainWithoutDebugAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard
	defer cancel()
	n := startNode(t, devnode.Config{NoDebug: true, NoHTTP: true})
	playScenario(t, ctx, n)

	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	c := ethereum.NewClient(n.RPC(), ethereum.Options{Logger: logger})
	st := &memStore{}
	res, err := ethereum.Ingest(ctx, c, st, ethereum.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NoTraces || !errors.Is(res.Degraded(), ethereum.ErrNoTraces) {
		t.Fatalf("NoTraces %v, Degraded %v", res.NoTraces, res.Degraded())
	}
	if got := res.WarningCounts[ethereum.ErrNoTraces]; got != 9 { // blocks 1-9 have transactions
		t.Errorf("%d ErrNoTraces warnings, want 9", got)
	}
	if !strings.Contains(logged.String(), "NO CALL TRACES") || strings.Count(logged.String(), "NO CALL TRACES") != 1 {
		t.Errorf("log: %q", logged.String())
	}
	if has, ok := c.HasTraces(); has || !ok {
		t.Errorf("HasTraces = %v, %v", has, ok)
	}
	// Top-level values and logs are still there, internal transfers are not.
	for _, b := range st.all() {
		for _, tx := range b.AccountTxs {
			for _, x := range tx.Transfers {
				if strings.Contains(x.ID, ".t") {
					t.Errorf("internal transfer %s without traces", x.ID)
				}
			}
		}
	}

	// RequireTraces turns the warning into an error.
	strict := ethereum.NewClient(n.RPC(), ethereum.Options{RequireTraces: true, Logger: logger})
	if _, err := ethereum.Ingest(ctx, strict, &memStore{}, ethereum.IngestOptions{}); !errors.Is(err, ethereum.ErrNoTraceAPI) {
		t.Errorf("RequireTraces: %v, want ErrNoTraceAPI", err)
	}
}

// A reorg between two runs: the node forks below the stored tip; the next run walks back to
// the fork point, rewinds the store and ingests the new branch.
func TestDevChainReorg(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard
	defer cancel()
	n := startNode(t, devnode.Config{Accounts: 3, NoHTTP: true})
	a, b, c := n.Account(0), n.Account(1), n.Account(2)
	var hashes []string
	for i := 0; i < 5; i++ {
		need(n.Send(ctx, a, devnode.Tx{To: &b.Address, Value: devnode.Ether(int64(i + 1))}))
		hashes = append(hashes, need(n.Commit(ctx)).Hash().Hex())
	}
	cl := ethereum.NewClient(n.RPC(), ethereum.Options{BlocksPerBatch: 2})
	st := &memStore{}
	if _, err := ethereum.Ingest(ctx, cl, st, ethereum.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	// Fork at block 2: blocks 3..5 are replaced by a longer branch paying c instead.
	if err := n.Fork(need(n.Client().BlockByNumber(ctx, bigInt(2))).Hash()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		need(n.Send(ctx, a, devnode.Tx{To: &c.Address, Value: devnode.Ether(int64(10 + i))}))
		need(n.Commit(ctx))
	}
	res, err := ethereum.Ingest(ctx, cl, st, ethereum.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reorgs != 1 || res.RolledBack != 3 || res.From != 3 || res.To != 6 || res.Blocks != 4 {
		t.Errorf("reorg run: %+v", res)
	}
	if len(st.rewinds) != 1 || st.rewinds[0] != 2 {
		t.Errorf("rewinds %v, want [2]", st.rewinds)
	}
	blocks := st.all()
	if len(blocks) != 7 {
		t.Fatalf("%d blocks stored, want 7", len(blocks))
	}
	toC := 0
	for _, blk := range blocks {
		if want := strings.ToLower(need(n.Client().BlockByNumber(ctx, bigInt(blk.Height))).Hash().Hex()); blk.Hash != want {
			t.Errorf("block %d: stored %s, node %s", blk.Height, blk.Hash, want)
		}
		for _, tx := range blk.AccountTxs {
			if tx.To == addr(c.Address) {
				toC++
			}
		}
	}
	// geth puts the dropped branch's transactions back into the pool, so the new block 3
	// also re-includes them; the four payments to c exist only on the new branch.
	if toC != 4 {
		t.Errorf("%d payments to c stored, want 4", toC)
	}
	if blocks[3].Hash == strings.ToLower(hashes[2]) {
		t.Error("block 3 kept its old hash")
	}
}

// A node with a strict batch limit: the client halves its batches until the node accepts
// them, and still gets every block.
func TestDevChainBatchLimit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard
	defer cancel()
	n := startNode(t, devnode.Config{Accounts: 2, BatchRequestLimit: 5})
	a, b := n.Account(0), n.Account(1)
	for i := 0; i < 6; i++ {
		need(n.Send(ctx, a, devnode.Tx{To: &b.Address, Value: devnode.Ether(1)}))
		need(n.Commit(ctx))
	}
	var logged bytes.Buffer
	c := need(ethereum.Dial(ctx, n.HTTPURL(), ethereum.Options{BlocksPerBatch: 8, Logger: slog.New(slog.NewTextHandler(&logged, nil))}))
	defer c.Close()
	st := &memStore{}
	res, err := ethereum.Ingest(ctx, c, st, ethereum.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Blocks != 7 || len(st.all()) != 7 || res.NoTraces {
		t.Errorf("%+v", res)
	}
	if !strings.Contains(logged.String(), "batch too large for the node, splitting") {
		t.Errorf("no split was logged: %s", logged.String())
	}
}

// Cancelling mid-run leaves whole blocks in chain order; the next run resumes after them.
func TestDevChainCancelAndResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard
	defer cancel()
	n := startNode(t, devnode.Config{Accounts: 2, NoHTTP: true})
	a, b := n.Account(0), n.Account(1)
	for i := 0; i < 8; i++ {
		need(n.Send(ctx, a, devnode.Tx{To: &b.Address, Value: devnode.Ether(1)}))
		need(n.Commit(ctx))
	}
	cl := ethereum.NewClient(n.RPC(), ethereum.Options{BlocksPerBatch: 2})
	st := &memStore{}
	runCtx, stop := context.WithCancel(ctx)
	res, err := ethereum.Ingest(runCtx, cl, st, ethereum.IngestOptions{Workers: 2, Progress: func(p ethereum.Progress) {
		if p.Blocks >= 2 {
			stop()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	written := len(st.all())
	if written != 2 || res.Blocks != 2 {
		t.Fatalf("cancelled run wrote %d blocks (result %d)", written, res.Blocks)
	}
	res, err = ethereum.Ingest(ctx, cl, st, ethereum.IngestOptions{Workers: 2})
	if err != nil || res.From != uint64(written) || res.To != 8 || len(st.all()) != 9 {
		t.Fatalf("resumed run: %+v %v, %d blocks", res, err, len(st.all()))
	}
	for i, blk := range st.all() {
		if blk.Height != uint64(i) {
			t.Fatalf("block %d at position %d", blk.Height, i)
		}
	}
}
