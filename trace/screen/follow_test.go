package screen_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/scenario"
	"github.com/chaintrace/chaintrace/trace/screen"
)

// chainSource serves a list of blocks as a chain (hashes and parents filled in) that the
// test can grow and fork: the peel case's blocks as a node would serve them.
type chainSource struct {
	mu     sync.Mutex
	blocks []graph.Block
	calls  int
}

func (c *chainSource) Tip(context.Context) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blocks[len(c.blocks)-1].Height, nil
}

func (c *chainSource) Block(_ context.Context, h uint64) (*graph.Block, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	for i := range c.blocks {
		if c.blocks[i].Height == h {
			b := c.blocks[i] // a copy: the store resolves inputs in place
			b.UTXOTxs = append([]graph.UTXOTx(nil), b.UTXOTxs...)
			for j := range b.UTXOTxs {
				b.UTXOTxs[j].Inputs = append([]graph.TxIn(nil), b.UTXOTxs[j].Inputs...)
			}
			return &b, nil
		}
	}
	return nil, fmt.Errorf("no block %d", h)
}

// link gives the blocks consecutive heights from 1, parents, and hashes of their content
// (parent, height, transactions), so that two branches share the blocks below their fork.
func link(blocks []graph.Block) []graph.Block {
	out := make([]graph.Block, len(blocks))
	for i, b := range blocks {
		b.Chain, b.Height = graph.Bitcoin, uint64(i+1)
		if i > 0 {
			b.Parent = out[i-1].Hash
		}
		h := sha256.New()
		fmt.Fprint(h, b.Parent, b.Height)
		for _, tx := range b.UTXOTxs {
			fmt.Fprint(h, tx.TxID)
		}
		b.Hash = hex.EncodeToString(h.Sum(nil))
		for j := range b.UTXOTxs {
			b.UTXOTxs[j].Index = uint32(j)
		}
		out[i] = b
	}
	return out
}

// peelBlocks returns the peel case with one transaction per block (so that a fork can drop
// single transactions), and its scenario.
func peelBlocks(t *testing.T) (*scenario.Scenario, []graph.Block) {
	t.Helper()
	sc, err := scenario.Load("../../examples/screen/bundled/peel-case.json")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []graph.Block
	for _, b := range sc.Blocks() {
		for _, tx := range b.UTXOTxs {
			blocks = append(blocks, graph.Block{UTXOTxs: []graph.UTXOTx{tx}})
		}
	}
	return sc, link(blocks)
}

type followFixture struct {
	sc  *scenario.Scenario
	src *chainSource
	st  *graph.Store
	pol *screen.Policy
	set *labels.Set
	dir string
	// every is FollowOptions.CheckpointEvery for the followers the fixture makes (1
	// unless a test sets it: a checkpoint after every block).
	every uint64
}

func newFollowFixture(t *testing.T) *followFixture {
	t.Helper()
	sc, blocks := peelBlocks(t)
	pol, err := screen.LoadPolicy("default-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := labels.LoadSet(context.Background(), "../../examples/screen/bundled/case-labels.csv")
	if err != nil {
		t.Fatal(err)
	}
	fx := &followFixture{sc: sc, src: &chainSource{blocks: blocks[:3]}, pol: pol, set: set, dir: t.TempDir(), every: 1}
	fx.open(t)
	t.Cleanup(func() { fx.st.Close() })
	return fx
}

func (fx *followFixture) open(t *testing.T) {
	t.Helper()
	st, err := graph.OpenStore(context.Background(), graph.StoreOptions{Dir: fx.dir, WindowStarts: map[graph.Chain]uint64{graph.Bitcoin: 1}})
	if err != nil {
		t.Fatal(err)
	}
	fx.st = st
}

// reopen closes the fixture's store and opens it again, as a restarted process would.
func (fx *followFixture) reopen(t *testing.T) {
	t.Helper()
	fx.st.Close()
	fx.open(t)
}

func (fx *followFixture) follower(t *testing.T, keep int) (*screen.Screener, *screen.Follower) {
	t.Helper()
	s, err := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: fx.pol, Labels: fx.set})
	if err != nil {
		t.Fatal(err)
	}
	f, err := screen.Follow(context.Background(), screen.FollowOptions{Name: "peel", Chain: graph.Bitcoin, Start: 1,
		Config: fx.sc.Config(trace.Haircut), Init: func(e *trace.Engine) error {
			for _, fd := range fx.sc.Funding {
				if err := e.Fund(fd.Outpoint, fd.Address, fd.Value); err != nil {
					return err
				}
			}
			return nil
		}, MaxBlocksPerAdvance: 1, KeepCheckpoints: keep, CheckpointEvery: fx.every, Store: fx.st, Source: fx.src, Screener: s})
	if err != nil {
		t.Fatal(err)
	}
	return s, f
}

// reference screens the same blocks replayed in memory, without store or follower.
func (fx *followFixture) reference(t *testing.T, blocks []graph.Block) *screen.Screener {
	t.Helper()
	eng, err := fx.sc.NewEngine(trace.Haircut)
	if err != nil {
		t.Fatal(err)
	}
	for i := range blocks {
		if err := eng.ApplyBlock(&blocks[i]); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: fx.pol, Labels: fx.set})
	s.Update(eng.Result(), blocks[len(blocks)-1].Height, blocks[len(blocks)-1].Hash)
	return s
}

var peelSubjects = []string{
	"bc1qwzzk5mtvywu0u5y8c0ag6t4swa44x0r5m2tzuh", "bc1qelhyn050e330d6ganjsg7vur5h9nyklkn50hlm", "bc1qthl9z2xhupsxdtf3k9kqphufdfjmkk546mts6j",
	"bc1qexxac4d42wy6hhpuv85rrjhvd9anu26fclncew", "bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0", "bc1q3ph4cptwyaj2x2car4knkjlu34dq5mrmkxtj0t",
	"bc1qwj94cl6uzw9j5n7mqdme7rsugd8ep7l20axss0", "bc1qfagev77vgkgdr407ewqdr9dqlw7g4h3uegy2pg", "bc1qcvkf5thjeqw9yvhchxytgw7ewfwev7yuv2j0au",
	"bc1qu7p95j983lp747skrff8l0jwsqz0s3yfl7rtuy", "12283Cq1pJ3f1gXwqi6K3bRf5LZb8Bkm6g",
}

func sameVerdicts(t *testing.T, got, want *screen.Screener) {
	t.Helper()
	ctx := context.Background()
	for _, a := range peelSubjects {
		g, err1 := got.CheckAddress(ctx, graph.Bitcoin, a)
		w, err2 := want.CheckAddress(ctx, graph.Bitcoin, a)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		gj, _ := g.MarshalJSON()
		wj, _ := w.MarshalJSON()
		if !bytes.Equal(gj, wj) {
			t.Errorf("%s:\n got %s\nwant %s", a, gj, wj)
		}
	}
}

// The follower over the real store: blocks one Advance at a time, checkpoints pruned to
// the last few, the same verdicts as an in-memory replay; a reopened store whose blocks got
// ahead of the last checkpoint (a crash between the two writes) is caught up by replaying
// the stored tail.
func TestFollowerStoreCheckpointsAndCatchUp(t *testing.T) {
	ctx := context.Background()
	fx := newFollowFixture(t)
	_, all := peelBlocks(t)
	fx.src.blocks = all
	_, f := fx.follower(t, 2)
	for i := 0; i < len(all); i++ {
		rep, err := f.Advance(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Applied != 1 || rep.Height != uint64(i+1) {
			t.Fatalf("advance %d: %+v", i, rep)
		}
	}
	if rep, err := f.Advance(ctx); err != nil || rep.Applied != 0 {
		t.Fatalf("advance at the tip: %+v %v", rep, err)
	}
	names := checkpointNames(t, fx.st)
	if len(names) != 2 || names[1] != fmt.Sprintf("peel@%020d", len(all)) {
		t.Fatalf("checkpoints kept: %v", names)
	}

	// Crash simulation: two more blocks reach the store but no checkpoint.
	more := link(append(append([]graph.Block(nil), all...), graph.Block{}, graph.Block{}))
	for _, b := range more[len(all):] {
		b := b
		if err := fx.st.WriteBlock(ctx, &b); err != nil {
			t.Fatal(err)
		}
	}
	fx.reopen(t)
	fx.src.blocks = more
	s, f := fx.follower(t, 2)
	if r := f.Resumed(); !r.FromCheckpoint || r.CheckpointHeight != uint64(len(all)) || r.Replayed != 2 {
		t.Fatalf("resumed %+v", r)
	}
	sameVerdicts(t, s, fx.reference(t, more))
}

// With CheckpointEvery 3, a checkpoint is saved every third block only; a reopened follower
// replays the blocks after the newest one, and a reorg below the newest one replays from an
// older one. The verdicts are the in-memory replay's throughout.
func TestFollowerSparseCheckpoints(t *testing.T) {
	ctx := context.Background()
	fx := newFollowFixture(t)
	fx.every = 3
	all := ninePeelBlocks(t)
	fx.src.blocks = all[:7]
	_, f := fx.follower(t, 8)
	advanceAll(t, f)
	names := checkpointNames(t, fx.st)
	if want := []string{"peel@00000000000000000001", "peel@00000000000000000004", "peel@00000000000000000007"}; !slices.Equal(names, want) {
		t.Fatalf("checkpoints %v, want %v", names, want)
	}

	// One more block: no checkpoint; reopened, the follower replays it after checkpoint 7.
	fx.src.blocks = all[:8]
	if rep, err := f.Advance(ctx); err != nil || rep.Applied != 1 {
		t.Fatalf("advance: %+v %v", rep, err)
	}
	fx.reopen(t)
	s, f := fx.follower(t, 8)
	if r := f.Resumed(); !r.FromCheckpoint || r.CheckpointHeight != 7 || r.Replayed != 1 {
		t.Fatalf("resumed %+v", r)
	}
	sameVerdicts(t, s, fx.reference(t, all[:8]))

	// A branch forking at 5: checkpoint 7 goes, checkpoint 4 and blocks 5 of the store serve.
	nb := append(append([]graph.Block(nil), all[:5]...), graph.Block{}, graph.Block{}, graph.Block{}, graph.Block{})
	branch := link(nb)
	fx.src.blocks = branch
	reorg, _ := advanceAll(t, f)
	if reorg == nil || reorg.ForkHeight != 5 || reorg.Replayed != 1 {
		t.Fatalf("reorg %+v", reorg)
	}
	sameVerdicts(t, s, fx.reference(t, branch))
}

// With CheckpointEvery 0, checkpoints follow their own cost: the first Advance saves one;
// later ones save the next only once CheckpointCostRatio times the last one's duration has
// passed on the follower's clock. A reopened follower replays what came after, and its
// verdicts are the in-memory replay's.
func TestFollowerAdaptiveCheckpoints(t *testing.T) {
	ctx := context.Background()
	fx := newFollowFixture(t)
	fx.every = 0
	all := ninePeelBlocks(t)
	fx.src.blocks = all
	_, f := fx.follower(t, 8)
	// The clock moves by a second each time the follower reads it, whatever happens in
	// between: every checkpoint "takes" one second, so the next is due 10 s after it.
	var clock time.Time
	screen.SetFollowerClock(f, func() time.Time { clock = clock.Add(time.Second); return clock })
	var saved []uint64
	for h := uint64(1); h <= uint64(len(all)); h++ {
		n := len(checkpointNames(t, fx.st))
		if rep, err := f.Advance(ctx); err != nil || rep.Applied != 1 {
			t.Fatalf("advance %d: %+v %v", h, rep, err)
		}
		if len(checkpointNames(t, fx.st)) > n {
			saved = append(saved, h)
		}
		if h == 1 || h == 5 {
			clock = clock.Add(10 * time.Second) // time passes between these blocks
		}
	}
	// Block 1: there is none yet. Block 2: 11 s have passed since block 1's checkpoint,
	// which took 1 s: due. Blocks 3–5: 1–3 s since block 2's: not due. Block 6: 14 s:
	// due. Blocks 7–9: not due.
	if want := []uint64{1, 2, 6}; !slices.Equal(saved, want) {
		t.Fatalf("checkpoints after blocks %v, want %v", saved, want)
	}
	fx.reopen(t)
	s, f := fx.follower(t, 8)
	if r := f.Resumed(); !r.FromCheckpoint || r.CheckpointHeight != 6 || r.Replayed != 3 {
		t.Fatalf("resumed %+v", r)
	}
	sameVerdicts(t, s, fx.reference(t, all))
}

// ninePeelBlocks is the peel case's blocks and three empty ones after them, linked.
func ninePeelBlocks(t *testing.T) []graph.Block {
	_, peel := peelBlocks(t)
	return link(append(append([]graph.Block(nil), peel...), graph.Block{}, graph.Block{}, graph.Block{}))
}

// checkpointNames lists the checkpoints st holds, in key order.
func checkpointNames(t *testing.T, st *graph.Store) []string {
	t.Helper()
	var names []string
	if err := st.Records(context.Background(), trace.CheckpointNamespace, func(k, _ []byte) error { names = append(names, string(k)); return nil }); err != nil {
		t.Fatal(err)
	}
	return names
}

// advanceAll advances f until it has nothing to apply, and returns the last reorg it went
// through and the verdict changes it reported.
func advanceAll(t *testing.T, f *screen.Follower) (reorg *screen.Reorg, changes []screen.Change) {
	t.Helper()
	for {
		rep, err := f.Advance(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Reorg != nil {
			reorg = rep.Reorg
		}
		changes = append(changes, rep.Changes...)
		if rep.Applied == 0 && rep.Reorg == nil {
			return reorg, changes
		}
	}
}

// A source without BlockHasher forks below the follower's tip: the follower finds the fork
// point by comparing whole blocks, rolls back over the checkpoints, and ends with the
// verdicts of the new branch. Here the new branch lacks p3 (the pooling with clean money)
// and pays X3 nothing: X3 goes back to none.
func TestFollowerReorgWithoutHasher(t *testing.T) {
	ctx := context.Background()
	fx := newFollowFixture(t)
	_, all := peelBlocks(t)
	fx.src.blocks = all[:5] // one transaction per block: p1 p2 p3 p4 p5
	s, f := fx.follower(t, 3)
	advanceAll(t, f)
	const x3 = "bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0"
	v, _ := s.CheckAddress(ctx, graph.Bitcoin, x3)
	if v.Risk != screen.RiskHigh {
		t.Fatalf("X3 before the reorg: %+v", v)
	}
	f.Watch(v)
	// The new branch: blocks 1–2 as before, then only w1 (clean), and two empty blocks.
	var nb []graph.Block
	nb = append(nb, all[0], all[1], all[5], graph.Block{}, graph.Block{}, graph.Block{})
	branch := link(nb)
	fx.src.blocks = branch
	reorg, changes := advanceAll(t, f)
	if reorg == nil || reorg.ForkHeight != 2 || reorg.Dropped != 3 {
		t.Fatalf("reorg %+v", reorg)
	}
	if len(changes) != 1 || changes[0].After.Risk != screen.RiskNone || changes[0].After.Known {
		t.Fatalf("changes %+v", changes)
	}
	sameVerdicts(t, s, fx.reference(t, branch))
}

func TestFollowerConfigErrors(t *testing.T) {
	ctx := context.Background()
	fx := newFollowFixture(t)
	pol := fx.pol
	sBTC, _ := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: pol})
	sETH, _ := screen.New(screen.Options{Chain: graph.Ethereum, Policy: pol})
	cfg := fx.sc.Config(trace.Haircut)
	cases := []screen.FollowOptions{
		{Chain: graph.Bitcoin, Config: cfg, Store: fx.st, Source: fx.src, Screener: sBTC},             // no name
		{Name: "x", Chain: graph.Bitcoin, Config: cfg, Source: fx.src, Screener: sBTC},                // no store
		{Name: "x", Chain: graph.Ethereum, Config: cfg, Store: fx.st, Source: fx.src, Screener: sETH}, // model
		{Name: "x", Chain: graph.Bitcoin, Config: cfg, Store: fx.st, Source: fx.src, Screener: sETH},  // screener chain
		{Name: "x", Chain: graph.Bitcoin, Config: trace.Config{Model: graph.UTXO, Method: "nope"}, Store: fx.st, Source: fx.src, Screener: sBTC},
	}
	for i, o := range cases {
		if _, err := screen.Follow(ctx, o); !errors.Is(err, trace.ErrBadConfig) {
			t.Errorf("case %d: %v, want ErrBadConfig", i, err)
		}
	}
	// A source that answers another chain's block is refused, and nothing is stored.
	bad := &chainSource{blocks: []graph.Block{{Chain: graph.Ethereum, Height: 1, Hash: "0x01"}}}
	s, _ := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: pol})
	f2, err := screen.Follow(ctx, screen.FollowOptions{Name: "bad", Chain: graph.Bitcoin, Start: 1, Config: cfg, Store: fx.st, Source: bad, Screener: s})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f2.Advance(ctx); !errors.Is(err, screen.ErrSourceBlock) {
		t.Errorf("foreign block: %v", err)
	}
}

// A source whose next block names a parent other than the source's own block below it is
// refused (instead of rolling back forever).
func TestFollowerInconsistentSource(t *testing.T) {
	ctx := context.Background()
	fx := newFollowFixture(t)
	_, all := peelBlocks(t)
	fx.src.blocks = all[:2]
	_, f := fx.follower(t, 2)
	for i := 0; i < 2; i++ {
		if _, err := f.Advance(ctx); err != nil {
			t.Fatal(err)
		}
	}
	bad := all[2]
	bad.Parent = all[0].Hash
	fx.src.blocks = append(all[:2:2], bad)
	if _, err := f.Advance(ctx); !errors.Is(err, screen.ErrSourceBlock) {
		t.Fatalf("inconsistent source: %v", err)
	}
	if h, _, _ := f.Height(); h != 2 {
		t.Fatalf("follower moved to %d", h)
	}
}
