package ethereum_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
	"github.com/chaintrace/chaintrace/graph"
)

var _ ethereum.Store = (*graph.Store)(nil)

func openStore(t testing.TB) *graph.Store {
	t.Helper()
	st, err := graph.OpenStore(context.Background(), graph.StoreOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func storedBlocks(t testing.TB, st *graph.Store, from, to uint64) []*graph.Block {
	t.Helper()
	var out []*graph.Block
	if err := st.Blocks(context.Background(), graph.Ethereum, from, to, func(b *graph.Block) error {
		out = append(out, b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// The dev-chain scenario ingested into the real badger store on disk, one call at a time
// over the in-process connection, in two resumed runs; what the store gives back is what the
// batched HTTP ingest into the in-test store produced, and passes the same checks.
func TestDevChainIntoGraphStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard
	defer cancel()
	n := startNode(t, devnode.Config{NoHTTP: true})
	s := playScenario(t, ctx, n)
	st := openStore(t)

	seq := ethereum.NewClient(n.RPC(), ethereum.Options{Sequential: true, BlocksPerBatch: 1})
	r1, err := ethereum.Ingest(ctx, seq, st, ethereum.IngestOptions{To: 4, Workers: 1})
	if err != nil || r1.Blocks != 5 {
		t.Fatalf("first run: %+v %v", r1, err)
	}
	r2, err := ethereum.Ingest(ctx, seq, st, ethereum.IngestOptions{Workers: 2})
	if err != nil || r2.From != 5 || r2.To != 10 {
		t.Fatalf("resumed run: %+v %v", r2, err)
	}
	got := storedBlocks(t, st, 0, 10)
	checkBlocks(t, ctx, s, got)
	checkBalances(t, ctx, s, got)

	batched := ethereum.NewClient(n.RPC(), ethereum.Options{BlocksPerBatch: 4})
	mem := &memStore{}
	if _, err := ethereum.Ingest(ctx, batched, mem, ethereum.IngestOptions{Workers: 3}); err != nil {
		t.Fatal(err)
	}
	want := mem.all()
	if len(got) != len(want) {
		t.Fatalf("store gives %d blocks, batched ingest %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(normalizeEmpty(got[i]), normalizeEmpty(want[i])) {
			t.Errorf("block %d differs between the store and the batched ingest:\n%+v\n%+v", i, got[i], want[i])
		}
	}
	if calls, reqs := seq.Stats(); calls != reqs {
		t.Errorf("sequential client: %d calls in %d requests", calls, reqs)
	}
	if calls, reqs := batched.Stats(); reqs*3 > calls {
		t.Errorf("batched client: %d calls in %d requests", calls, reqs)
	}
}

// normalizeEmpty maps nil and empty slices to nil so that a stored round trip compares equal.
func normalizeEmpty(b *graph.Block) *graph.Block {
	c := *b
	if len(c.AccountTxs) == 0 {
		c.AccountTxs = nil
	}
	c.AccountTxs = append([]graph.AccountTx(nil), c.AccountTxs...)
	for i := range c.AccountTxs {
		if len(c.AccountTxs[i].Transfers) == 0 {
			c.AccountTxs[i].Transfers = nil
		}
	}
	c.UTXOTxs = nil
	return &c
}

// A reorg between two runs against the real store.
func TestDevChainReorgGraphStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard
	defer cancel()
	n := startNode(t, devnode.Config{Accounts: 3, NoHTTP: true})
	a, b, c := n.Account(0), n.Account(1), n.Account(2)
	for i := 0; i < 4; i++ {
		need(n.Send(ctx, a, devnode.Tx{To: &b.Address, Value: devnode.Ether(1)}))
		need(n.Commit(ctx))
	}
	cl := ethereum.NewClient(n.RPC(), ethereum.Options{})
	st := openStore(t)
	if _, err := ethereum.Ingest(ctx, cl, st, ethereum.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := n.Fork(need(n.Client().BlockByNumber(ctx, bigInt(1))).Hash()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		need(n.Send(ctx, a, devnode.Tx{To: &c.Address, Value: devnode.Ether(2)}))
		need(n.Commit(ctx))
	}
	res, err := ethereum.Ingest(ctx, cl, st, ethereum.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reorgs != 1 || res.RolledBack != 3 || res.From != 2 || res.To != 6 {
		t.Errorf("%+v", res)
	}
	for _, blk := range storedBlocks(t, st, 0, 6) {
		if want := strings.ToLower(need(n.Client().BlockByNumber(ctx, bigInt(blk.Height))).Hash().Hex()); blk.Hash != want {
			t.Errorf("block %d: stored %s, node %s", blk.Height, blk.Hash, want)
		}
	}
	if tip, _, _, _ := st.Tip(ctx, graph.Ethereum); tip != 6 {
		t.Errorf("tip %d", tip)
	}
}
