package screen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// BlockSource is where a Follower takes new blocks from: a chain node behind an adapter
// (chains/bitcoin's RPC, chains/ethereum's Client) or anything else that yields normalized
// blocks. Tip is the node's best height; Block the normalized block at a height of its
// best chain.
type BlockSource interface {
	Tip(ctx context.Context) (uint64, error)
	Block(ctx context.Context, height uint64) (*graph.Block, error)
}

// BlockHasher is optionally implemented by a BlockSource that can return a block's hash
// without fetching the block; the Follower then uses it to find a reorg's fork point.
type BlockHasher interface {
	BlockHash(ctx context.Context, height uint64) (string, error)
}

// Follower errors.
var (
	// ErrReorgTooDeep: the source's chain forks off below the follower's start height.
	ErrReorgTooDeep = errors.New("reorg below the follower's start")
	// ErrSourceBlock: the source returned a block of another chain or height.
	ErrSourceBlock = errors.New("source returned an unexpected block")
)

// FollowOptions configure a Follower.
type FollowOptions struct {
	// Name keys the follower's checkpoints in the store (several followers may share one).
	Name string
	// Config is the trace configuration; its Model must be Chain's.
	Config trace.Config
	// Init, if set, declares initial holdings (Engine.Fund, Engine.SetBalance) on a fresh
	// engine, before any block.
	Init func(*trace.Engine) error
	// Chain is the followed chain.
	Chain graph.Chain
	// Start is the first height followed when the store holds no block of Chain yet.
	Start uint64
	// Confirmations: a block is taken once this many blocks have been built on it (0: at
	// once). Reorgs shallower than this never reach the store or the trace.
	Confirmations uint64
	// MaxBlocksPerAdvance bounds one Advance, so that verdicts stay current during a long
	// catch-up (default 500).
	MaxBlocksPerAdvance int
	// KeepCheckpoints is how many checkpoints are kept for rolling back over a reorg
	// without replaying from the start (default 8).
	KeepCheckpoints int
	// CheckpointEvery is how many blocks an Advance lets pass since the last checkpoint
	// before it saves a new one. A checkpoint holds the engine's whole state, so its cost
	// grows with the history (about 0.4 s and 55 MB at 100k UTXO transactions, 30% of them
	// tainted). Blocks are in the store before the engine applies them, so a restart or a
	// reorg replays the blocks after the newest usable checkpoint: the results are the same
	// however often checkpoints are saved.
	//
	// 0 (the default) adapts to that cost: after an Advance that applied blocks, a
	// checkpoint is saved when this process has saved none yet, or when at least
	// CheckpointCostRatio times as long as the last one took has passed since it was
	// saved. Checkpoints then take at most about 1/CheckpointCostRatio of the follower's
	// time: a small trace checkpoints after every Advance, a long one with frequent blocks
	// every so many blocks.
	CheckpointEvery uint64

	Store    *graph.Store
	Source   BlockSource
	Screener *Screener
}

// Follower keeps a trace and its Screener current as a chain grows: it takes confirmed
// blocks from a BlockSource, writes them to the graph.Store, advances the engine from its
// checkpoint (saving new checkpoints in the store), rebuilds the screener's index and
// rescreens the verdicts it watches.
//
// Reorgs. Blocks are taken only Confirmations deep, so a reorg the follower sees is deeper
// than that. It is detected when the next block's parent is not the stored tip; the fork
// point is the highest height where the store and the source agree (found walking down,
// by BlockHasher when the source has it). The follower then drops its checkpoints above the
// fork point, rewinds the store to it, restores the engine from the newest remaining
// checkpoint and replays the stored blocks up to the fork point (from Start with a fresh
// engine when no checkpoint is that old), and goes on along the new branch. The verdicts
// watched are rescreened, so the changes a reorg causes are reported like any other.
//
// Advance and Run must be called from one goroutine at a time; checks on the Screener may
// run concurrently with them.
type Follower struct {
	opts FollowOptions
	eng  *trace.Engine

	has    bool   // a block has been applied
	height uint64 // the last applied block
	hash   string
	ckpts  []uint64 // heights of the stored checkpoints, ascending

	// The last checkpoint this process saved: when, and how long it took (the adaptive
	// policy of CheckpointEvery 0). now is the clock (time.Now; tests set their own).
	lastCkptAt   time.Time
	lastCkptCost time.Duration
	now          func() time.Time

	resumed Resumed
	// broken is set when rebuilding the engine failed (a store read error during a
	// rollback): the engine's state is unusable until a rebuild succeeds.
	broken bool

	mu      sync.Mutex
	watched []*Verdict
}

// Resumed says how the engine was last rebuilt: when the follower was opened, or after a
// reorg.
type Resumed struct {
	FromCheckpoint   bool   // restored from a checkpoint rather than started fresh
	CheckpointHeight uint64 // the checkpoint's block
	Replayed         int    // stored blocks replayed after it (or from Start)
}

// Resumed says how the engine was last rebuilt (see Resumed).
func (f *Follower) Resumed() Resumed { return f.resumed }

// AdvanceReport says what one Advance did.
type AdvanceReport struct {
	// Applied is the number of blocks applied; Height and Hash the last block now applied.
	Applied int
	Height  uint64
	Hash    string
	// Reorg is set when the source's chain had forked off the stored one.
	Reorg *Reorg
	// Changes lists the watched verdicts that changed.
	Changes []Change
}

// Reorg describes a rollback.
type Reorg struct {
	ForkHeight uint64 // the last height the old and new chains share
	Dropped    int    // blocks rolled back
	Replayed   int    // stored blocks replayed to rebuild the engine
}

const followNamespace = "trace/follow"

type followState struct {
	Checkpoints []uint64 `json:"checkpoints"`
}

func (f *Follower) ckptName(h uint64) string { return fmt.Sprintf("%s@%020d", f.opts.Name, h) }

// Follow opens a follower of opts.Chain: it restores the engine from the newest checkpoint
// in the store (or starts a fresh one), replays stored blocks the checkpoint does not cover,
// and gives the Screener its first index. It reads only the store; Run (or Advance) then
// takes new blocks from the source.
func Follow(ctx context.Context, opts FollowOptions) (*Follower, error) {
	switch {
	case opts.Name == "":
		return nil, fmt.Errorf("%w: follower has no name", trace.ErrBadConfig)
	case opts.Store == nil || opts.Source == nil || opts.Screener == nil:
		return nil, fmt.Errorf("%w: follower needs a store, a source and a screener", trace.ErrBadConfig)
	case opts.Chain.Model() != opts.Config.Model:
		return nil, fmt.Errorf("%w: chain %s is %s, the trace configuration %s", trace.ErrBadConfig, opts.Chain, opts.Chain.Model(), opts.Config.Model)
	case opts.Screener.Chain() != opts.Chain:
		return nil, fmt.Errorf("%w: the screener serves %s, the follower follows %s", trace.ErrBadConfig, opts.Screener.Chain(), opts.Chain)
	}
	if opts.MaxBlocksPerAdvance <= 0 {
		opts.MaxBlocksPerAdvance = 500
	}
	if opts.KeepCheckpoints <= 0 {
		opts.KeepCheckpoints = 8
	}
	f := &Follower{opts: opts, now: time.Now}
	b, err := opts.Store.GetRecord(ctx, followNamespace, []byte(opts.Name))
	switch {
	case err == nil:
		var st followState
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("follower %s: %w: state record: %v", opts.Name, trace.ErrCheckpoint, err)
		}
		f.ckpts = st.Checkpoints
	case !errors.Is(err, graph.ErrNotFound):
		return nil, fmt.Errorf("follower %s: %w", opts.Name, err)
	}
	tip, tipHash, hasTip, err := opts.Store.Tip(ctx, opts.Chain)
	if err != nil {
		return nil, fmt.Errorf("follower %s: %w", opts.Name, err)
	}
	limit := uint64(0)
	if hasTip {
		limit = tip
	}
	if f.resumed.Replayed, err = f.restore(ctx, limit, hasTip); err != nil {
		return nil, err
	}
	if hasTip {
		f.height, f.hash, f.has = tip, tipHash, tip >= opts.Start
	}
	f.publish()
	return f, nil
}

// restore rebuilds the engine at the stored block upto (none when !any): from the newest
// checkpoint at or below it, then replaying the stored blocks after the checkpoint.
func (f *Follower) restore(ctx context.Context, upto uint64, any bool) (replayed int, err error) {
	from := f.opts.Start
	f.eng = nil
	f.resumed.FromCheckpoint, f.resumed.CheckpointHeight = false, 0
	for i := len(f.ckpts) - 1; i >= 0 && any; i-- {
		h := f.ckpts[i]
		if h > upto {
			continue
		}
		eng, err := trace.LoadCheckpoint(ctx, f.opts.Store, f.ckptName(h), f.opts.Config)
		if err != nil {
			continue // an unreadable or foreign checkpoint: fall back to an older one
		}
		f.eng, from = eng, h+1
		f.resumed.FromCheckpoint, f.resumed.CheckpointHeight = true, h
		break
	}
	if f.eng == nil {
		if f.eng, err = trace.NewEngine(f.opts.Config); err != nil {
			return 0, err
		}
		if f.opts.Init != nil {
			if err := f.opts.Init(f.eng); err != nil {
				return 0, fmt.Errorf("follower %s: initial holdings: %w", f.opts.Name, err)
			}
		}
	}
	f.eng.KeepCompositions() // a Result after every Advance
	if !any || from > upto {
		return 0, nil
	}
	err = f.opts.Store.Blocks(ctx, f.opts.Chain, from, upto, func(b *graph.Block) error {
		replayed++
		if err := f.eng.ApplyBlock(b); err != nil {
			return fmt.Errorf("follower %s: replaying stored block %d: %w", f.opts.Name, b.Height, err)
		}
		return nil
	})
	return replayed, err
}

// publish gives the screener the engine's current result.
func (f *Follower) publish() {
	f.opts.Screener.Update(f.eng.Result(), f.height, f.hash)
}

// Height returns the last applied block (ok false before any).
func (f *Follower) Height() (height uint64, hash string, ok bool) { return f.height, f.hash, f.has }

// Watch adds verdicts to rescreen after every Advance; a changed verdict is reported in
// AdvanceReport.Changes and replaced by its new version.
func (f *Follower) Watch(vs ...*Verdict) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watched = append(f.watched, vs...)
}

// Watched returns the current versions of the watched verdicts.
func (f *Follower) Watched() []*Verdict {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Verdict(nil), f.watched...)
}

// Advance takes the confirmed blocks the source has beyond the follower's tip (at most
// MaxBlocksPerAdvance), writes and applies them, saves a checkpoint, updates the screener and
// rescreens the watched verdicts.
func (f *Follower) Advance(ctx context.Context) (AdvanceReport, error) {
	var rep AdvanceReport
	if f.broken {
		if err := f.rebuild(ctx); err != nil {
			return rep, err
		}
	}
	tip, err := f.opts.Source.Tip(ctx)
	if err != nil {
		return rep, fmt.Errorf("follower %s: source tip: %w", f.opts.Name, err)
	}
	rep.Height, rep.Hash = f.height, f.hash
	if tip < f.opts.Confirmations {
		return rep, nil
	}
	target := tip - f.opts.Confirmations
	next := f.opts.Start
	if f.has {
		next = f.height + 1
	}
	for h := next; h <= target && rep.Applied < f.opts.MaxBlocksPerAdvance; h++ {
		b, err := f.opts.Source.Block(ctx, h)
		if err != nil {
			return rep, fmt.Errorf("follower %s: source block %d: %w", f.opts.Name, h, err)
		}
		if b.Chain != f.opts.Chain || b.Height != h {
			return rep, fmt.Errorf("follower %s: %w: asked for %s block %d, got %s block %d", f.opts.Name, ErrSourceBlock, f.opts.Chain, h, b.Chain, b.Height)
		}
		if f.has && b.Parent != "" && f.hash != "" && b.Parent != f.hash {
			rg, err := f.rollback(ctx)
			if err != nil {
				return rep, err
			}
			rep.Reorg = rg
			h = rg.ForkHeight // the loop goes on at the fork point + 1
			continue
		}
		if err := f.opts.Store.WriteBlock(ctx, b); err != nil {
			return rep, fmt.Errorf("follower %s: storing block %d: %w", f.opts.Name, h, err)
		}
		if err := f.eng.ApplyBlock(b); err != nil {
			// The engine's state is undefined after a failed block: rebuild it from the
			// store (which has the block) so that the next Advance does not build on it.
			err = fmt.Errorf("follower %s: applying block %d: %w", f.opts.Name, h, err)
			if oe := (*trace.OverflowError)(nil); errors.As(err, &oe) && oe.Asset != "" && oe.Asset != f.opts.Chain.NativeAsset() {
				// Every retry fails the same way: say how to get past it.
				err = fmt.Errorf("%w (asset %s claims amounts no real token can hold: list the traced assets in Config.Params.Assets)", err, oe.Asset)
			}
			_ = f.opts.Store.Rewind(ctx, f.opts.Chain, f.height)
			if rerr := f.rebuild(ctx); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return rep, err
		}
		f.height, f.hash, f.has = h, b.Hash, true
		rep.Applied++
		if err := ctx.Err(); err != nil {
			break
		}
	}
	rep.Height, rep.Hash = f.height, f.hash
	if rep.Applied == 0 && rep.Reorg == nil {
		return rep, nil
	}
	if rep.Applied > 0 && f.checkpointDue() {
		if err := f.saveCheckpoint(ctx); err != nil {
			return rep, err
		}
	}
	f.publish()
	f.mu.Lock()
	watched := append([]*Verdict(nil), f.watched...)
	f.mu.Unlock()
	changes, err := f.opts.Screener.Rescreen(ctx, watched)
	if err != nil {
		return rep, err
	}
	rep.Changes = changes
	if len(changes) > 0 {
		after := map[*Verdict]*Verdict{}
		for _, c := range changes {
			after[c.Before] = c.After
		}
		f.mu.Lock()
		for i, v := range f.watched {
			if a := after[v]; a != nil {
				f.watched[i] = a
			}
		}
		f.mu.Unlock()
	}
	return rep, nil
}

// rebuild restores the engine at the follower's height, marking the follower broken
// while that fails.
func (f *Follower) rebuild(ctx context.Context) error {
	f.broken = true
	if _, err := f.restore(ctx, f.height, f.has); err != nil {
		return fmt.Errorf("follower %s: rebuilding the engine at %d: %w", f.opts.Name, f.height, err)
	}
	f.broken = false
	return nil
}

func (f *Follower) saveState(ctx context.Context) error {
	b, _ := json.Marshal(followState{Checkpoints: f.ckpts})
	if err := f.opts.Store.PutRecord(ctx, followNamespace, []byte(f.opts.Name), b); err != nil {
		return fmt.Errorf("follower %s: saving state: %w", f.opts.Name, err)
	}
	return nil
}

// CheckpointCostRatio is how many times as long as its last checkpoint took a follower with
// the adaptive policy (FollowOptions.CheckpointEvery 0) lets pass before the next one.
const CheckpointCostRatio = 10

// checkpointDue reports whether a checkpoint is due after an Advance that applied blocks:
// there is none, the newest is above the tip (after a reorg), or CheckpointEvery blocks
// (by default, CheckpointCostRatio times the last checkpoint's cost) have passed.
func (f *Follower) checkpointDue() bool {
	n := len(f.ckpts)
	if n == 0 || f.height < f.ckpts[n-1] {
		return true
	}
	if f.opts.CheckpointEvery > 0 {
		return f.height-f.ckpts[n-1] >= f.opts.CheckpointEvery
	}
	return f.lastCkptAt.IsZero() || f.now().Sub(f.lastCkptAt) >= CheckpointCostRatio*f.lastCkptCost
}

func (f *Follower) saveCheckpoint(ctx context.Context) error {
	start := f.now()
	if err := f.eng.SaveCheckpoint(ctx, f.opts.Store, f.ckptName(f.height)); err != nil {
		return fmt.Errorf("follower %s: %w", f.opts.Name, err)
	}
	f.lastCkptAt = f.now()
	f.lastCkptCost = f.lastCkptAt.Sub(start)
	if n := len(f.ckpts); n == 0 || f.ckpts[n-1] != f.height {
		f.ckpts = append(f.ckpts, f.height)
	}
	var drop []uint64
	if len(f.ckpts) > f.opts.KeepCheckpoints {
		drop = append(drop, f.ckpts[:len(f.ckpts)-f.opts.KeepCheckpoints]...)
		f.ckpts = append([]uint64(nil), f.ckpts[len(f.ckpts)-f.opts.KeepCheckpoints:]...)
	}
	// The state record is written before old checkpoints are deleted: a crash in between
	// leaves unreferenced records, never a reference to a missing one.
	if err := f.saveState(ctx); err != nil {
		return err
	}
	for _, h := range drop {
		if err := f.opts.Store.DeleteRecord(ctx, trace.CheckpointNamespace, []byte(f.ckptName(h))); err != nil {
			return fmt.Errorf("follower %s: dropping checkpoint %d: %w", f.opts.Name, h, err)
		}
	}
	return nil
}

// sourceHash returns the source's hash of the block at h.
func (f *Follower) sourceHash(ctx context.Context, h uint64) (string, error) {
	if bh, ok := f.opts.Source.(BlockHasher); ok {
		return bh.BlockHash(ctx, h)
	}
	b, err := f.opts.Source.Block(ctx, h)
	if err != nil {
		return "", err
	}
	return b.Hash, nil
}

// rollback finds the fork point between the store and the source, and rolls the store,
// the checkpoints and the engine back to it.
func (f *Follower) rollback(ctx context.Context) (*Reorg, error) {
	fork, found := f.height, false
	for {
		stored, ok, err := f.opts.Store.BlockHash(ctx, f.opts.Chain, fork)
		if err != nil {
			return nil, fmt.Errorf("follower %s: reorg: %w", f.opts.Name, err)
		}
		src, err := f.sourceHash(ctx, fork)
		if err != nil {
			return nil, fmt.Errorf("follower %s: reorg: source block %d: %w", f.opts.Name, fork, err)
		}
		if ok && stored == src {
			found = true
			break
		}
		if fork <= f.opts.Start {
			break
		}
		fork--
	}
	if !found {
		return nil, fmt.Errorf("follower %s: %w: the source disagrees with every stored block down to %d", f.opts.Name, ErrReorgTooDeep, f.opts.Start)
	}
	if fork == f.height {
		// The source's block at the tip is the stored one, yet its next block names
		// another parent: the source is inconsistent (or moved between two calls).
		return nil, fmt.Errorf("follower %s: %w: block %d does not name the source's own block %d as its parent", f.opts.Name, ErrSourceBlock, fork+1, fork)
	}
	rg := &Reorg{ForkHeight: fork, Dropped: int(f.height - fork)}
	// Checkpoints above the fork go first (state record, then records), then the store.
	keep := f.ckpts[:0:0]
	var drop []uint64
	for _, h := range f.ckpts {
		if h <= fork {
			keep = append(keep, h)
		} else {
			drop = append(drop, h)
		}
	}
	f.ckpts = keep
	if err := f.saveState(ctx); err != nil {
		return nil, err
	}
	for _, h := range drop {
		if err := f.opts.Store.DeleteRecord(ctx, trace.CheckpointNamespace, []byte(f.ckptName(h))); err != nil {
			return nil, fmt.Errorf("follower %s: reorg: %w", f.opts.Name, err)
		}
	}
	if err := f.opts.Store.Rewind(ctx, f.opts.Chain, fork); err != nil {
		return nil, fmt.Errorf("follower %s: reorg: rewinding the store to %d: %w", f.opts.Name, fork, err)
	}
	hash, _, err := f.opts.Store.BlockHash(ctx, f.opts.Chain, fork)
	if err != nil {
		return nil, err
	}
	f.height, f.hash = fork, hash
	f.broken = true
	if rg.Replayed, err = f.restore(ctx, fork, true); err != nil {
		return nil, fmt.Errorf("follower %s: reorg: rebuilding the engine at %d: %w", f.opts.Name, fork, err)
	}
	f.broken = false
	return rg, nil
}

// Run calls Advance every interval until ctx ends, handing each report that applied
// blocks (and each error: a failed Advance is retried at the next tick) to report.
func (f *Follower) Run(ctx context.Context, interval time.Duration, report func(AdvanceReport, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rep, err := f.Advance(ctx)
		if report != nil && (err != nil || rep.Applied > 0 || rep.Reorg != nil) {
			report(rep, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
