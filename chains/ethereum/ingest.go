package ethereum

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chaintrace/chaintrace/graph"
)

// Store is what ingestion needs of a block store; graph.Store satisfies it.
type Store interface {
	WriteBlock(ctx context.Context, b *graph.Block) error
	Tip(ctx context.Context, chain graph.Chain) (height uint64, hash string, ok bool, err error)
	BlockHash(ctx context.Context, chain graph.Chain, height uint64) (hash string, ok bool, err error)
	Rewind(ctx context.Context, chain graph.Chain, height uint64) error
}

// IngestOptions say which blocks to ingest and how.
type IngestOptions struct {
	// From is the first height when the store holds no Ethereum block yet; otherwise
	// ingestion resumes after the store's tip.
	From uint64
	// To is the last height; 0 means the node's head at the start (minus Confirmations).
	To uint64
	// Confirmations keeps this many of the newest blocks out when To is 0.
	Confirmations uint64
	// Workers is how many batches are fetched in parallel; default 4. Blocks are still
	// written in chain order. Parallel batches hide network latency (a hosted node at 20 ms
	// gives 2.3x over one worker); for a node on the same small machine, whose CPU is the
	// limit, 1 worker is as fast or faster (see BenchmarkIngestSpeedup).
	Workers int
	// Progress, if set, is called after each written batch and at the end.
	Progress func(Progress)
	// MaxWarnings caps IngestResult.Warnings (the counts stay exact); default 1000.
	MaxWarnings int
}

// Progress describes a running ingestion.
type Progress struct {
	Height    uint64        // last height written
	Target    uint64        // last height to write
	Blocks    uint64        // blocks written in this run
	Transfers uint64        // transfers written in this run
	Rate      float64       // blocks per second in this run
	ETA       time.Duration // estimated time to reach Target at Rate
}

// IngestResult summarizes a run.
type IngestResult struct {
	From, To   uint64 // heights written; meaningful when Blocks > 0
	Blocks     uint64
	Txs        uint64
	Transfers  uint64
	Reorgs     int    // fork points resolved
	RolledBack uint64 // blocks dropped by reorgs
	// Warnings lists incomplete normalizations and unusable link events (see Warning);
	// WarningCounts counts them by kind (ErrNoTraces, ErrTraceFailed, ErrStatusUnknown,
	// ErrRewardsOmitted, ErrLinkEvent, ErrLinkUnmatched) and is exact even when Warnings
	// was capped.
	Warnings      []Warning
	WarningCounts map[error]int
	// NoTraces is true when blocks with transactions were ingested without call traces:
	// internal transfers are then missing (see ErrNoTraces).
	NoTraces bool
	Elapsed  time.Duration
}

// Degraded returns nil when every block was normalized completely, and otherwise an error
// joining one example Warning of each kind, for callers that want to fail loudly.
func (r *IngestResult) Degraded() error {
	var errs []error
	seen := map[error]bool{}
	for _, w := range r.Warnings {
		for _, k := range warningKinds {
			if errors.Is(w, k) && !seen[k] {
				seen[k] = true
				errs = append(errs, fmt.Errorf("%d blocks/txs, first: %w", r.WarningCounts[k], w))
			}
		}
	}
	return errors.Join(errs...)
}

var warningKinds = []error{ErrNoTraces, ErrTraceFailed, ErrStatusUnknown, ErrRewardsOmitted}

// countedWarnings are the kinds WarningCounts counts: the incomplete normalizations, and
// the link events no link could be made of — which leave the block complete, so Degraded
// does not report them.
var countedWarnings = append(warningKinds[:len(warningKinds):len(warningKinds)], ErrLinkEvent, ErrLinkUnmatched)

// errReorg is raised inside a run when a fetched block does not extend the written chain.
var errReorg = errors.New("fetched block does not extend the stored chain")

// Ingest fetches blocks from the node and writes them to the store in chain order. It
// resumes after the store's tip, resolves reorgs (the node's hash at the stored tip differs:
// walk back to the fork point with BlockHash, Rewind, re-ingest), fetches Workers batches in
// parallel and commits them in order. It returns when To is written, on the first error, or
// when ctx is cancelled; what was written stays written, so calling it again resumes.
func Ingest(ctx context.Context, c *Client, st Store, opts IngestOptions) (*IngestResult, error) {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.MaxWarnings <= 0 {
		opts.MaxWarnings = 1000
	}
	res := &IngestResult{WarningCounts: map[error]int{}}
	start := time.Now()
	defer func() { res.Elapsed = time.Since(start) }()

	target := opts.To
	if target == 0 {
		head, err := c.Head(ctx)
		if err != nil {
			return res, err
		}
		if head < opts.Confirmations {
			return res, nil
		}
		target = head - opts.Confirmations
	}
	first := true
	for {
		next, parent, err := resumePoint(ctx, c, st, opts.From, res)
		if err != nil {
			return res, err
		}
		if first {
			res.From = next
			first = false
		}
		if next > target {
			report(opts, res, target, start)
			return res, nil
		}
		err = run(ctx, c, st, next, target, parent, opts, res, start)
		if errors.Is(err, errReorg) {
			continue // resumePoint finds the fork point
		}
		report(opts, res, target, start)
		return res, err
	}
}

// resumePoint returns the next height to fetch and the hash it must build on ("" for an
// empty store), after undoing any blocks the node no longer has.
func resumePoint(ctx context.Context, c *Client, st Store, from uint64, res *IngestResult) (uint64, string, error) {
	tip, tipHash, ok, err := st.Tip(ctx, graph.Ethereum)
	if err != nil {
		return 0, "", fmt.Errorf("ethereum: store tip: %w", err)
	}
	if !ok {
		return from, "", nil
	}
	h, hash := tip, tipHash
	for {
		nodeHash, err := c.BlockHash(ctx, h)
		if err != nil && !errors.Is(err, ErrBlockNotFound) {
			return 0, "", err
		}
		if err == nil && nodeHash == hash {
			break
		}
		// The node's chain differs at h (or is shorter): step back.
		if h == 0 {
			return 0, "", fmt.Errorf("ethereum: the node's chain shares no block with the store (genesis differs)")
		}
		prev, ok, err := st.BlockHash(ctx, graph.Ethereum, h-1)
		if err != nil {
			return 0, "", fmt.Errorf("ethereum: store hash at %d: %w", h-1, err)
		}
		if !ok {
			// The store starts above h-1: the whole stored range is off the node's chain.
			if err := st.Rewind(ctx, graph.Ethereum, h-1); err != nil {
				return 0, "", fmt.Errorf("ethereum: rewind to %d: %w", h-1, err)
			}
			res.Reorgs++
			res.RolledBack += tip - (h - 1)
			return h, "", nil
		}
		h, hash = h-1, prev
	}
	if h < tip {
		if err := st.Rewind(ctx, graph.Ethereum, h); err != nil {
			return 0, "", fmt.Errorf("ethereum: rewind to %d: %w", h, err)
		}
		res.Reorgs++
		res.RolledBack += tip - h
		c.opts.Logger.Warn("ethereum: reorg: rolled back to the fork point", "fork_height", h, "dropped_blocks", tip-h)
	}
	return h + 1, hash, nil
}

type batchResult struct {
	ds  []*Decoded
	err error
}

// run fetches from..to with parallel workers and writes the blocks in order.
func run(ctx context.Context, c *Client, st Store, from, to uint64, parent string, opts IngestOptions, res *IngestResult, start time.Time) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	per := uint64(c.opts.BlocksPerBatch)
	type job struct {
		lo, hi uint64
		out    chan batchResult
	}
	jobs := make(chan job)
	ordered := make(chan chan batchResult, opts.Workers)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var r batchResult
				r.ds, r.err = c.Blocks(ctx, j.lo, j.hi)
				j.out <- r
			}
		}()
	}
	go func() {
		defer close(ordered)
		defer close(jobs)
		for lo := from; lo <= to; lo += per {
			j := job{lo: lo, hi: min(to, lo+per-1), out: make(chan batchResult, 1)}
			select {
			case ordered <- j.out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
			if j.hi == to {
				return
			}
		}
	}()
	defer wg.Wait()
	defer cancel()

	for out := range ordered {
		if err := ctx.Err(); err != nil {
			return err // stop between batches: what is written is whole blocks in order
		}
		var r batchResult
		select {
		case r = <-out:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		for _, d := range r.ds {
			b := d.Block
			if parent != "" && b.Parent != parent {
				c.opts.Logger.Warn("ethereum: reorg while ingesting", "height", b.Height, "parent", b.Parent, "expected", parent)
				return errReorg
			}
			if err := st.WriteBlock(ctx, b); err != nil {
				return fmt.Errorf("ethereum: write block %d: %w", b.Height, err)
			}
			parent = b.Hash
			res.To = b.Height
			res.Blocks++
			res.Txs += uint64(len(b.AccountTxs))
			for i := range b.AccountTxs {
				res.Transfers += uint64(len(b.AccountTxs[i].Transfers))
			}
			for _, w := range d.Warnings {
				for _, k := range countedWarnings {
					if errors.Is(w, k) {
						res.WarningCounts[k]++
					}
				}
				if errors.Is(w, ErrNoTraces) {
					res.NoTraces = true
				}
				if len(res.Warnings) < opts.MaxWarnings {
					res.Warnings = append(res.Warnings, w)
				}
			}
		}
		report(opts, res, to, start) // after every batch: batches are the unit of progress
	}
	return ctx.Err()
}

func report(opts IngestOptions, res *IngestResult, target uint64, start time.Time) {
	if opts.Progress == nil {
		return
	}
	p := Progress{Height: res.To, Target: target, Blocks: res.Blocks, Transfers: res.Transfers}
	if el := time.Since(start).Seconds(); el > 0 {
		p.Rate = float64(res.Blocks) / el
	}
	if p.Rate > 0 && target > res.To {
		p.ETA = time.Duration(float64(target-res.To) / p.Rate * float64(time.Second))
	}
	opts.Progress(p)
}
