package bitcoin

import (
	"context"
	"errors"
	"fmt"

	"github.com/chaintrace/chaintrace/graph"
)

// Store is what Ingest needs of a block store; *graph.Store implements it.
type Store interface {
	// WriteBlock stores a block atomically with the chain's ingest cursor.
	WriteBlock(ctx context.Context, b *graph.Block) error
	// Tip returns the height and hash of the last stored block of chain.
	Tip(ctx context.Context, chain graph.Chain) (height uint64, hash string, ok bool, err error)
	// BlockHash returns the hash of the stored block of chain at height.
	BlockHash(ctx context.Context, chain graph.Chain, height uint64) (hash string, ok bool, err error)
	// Rewind drops every block of chain above height.
	Rewind(ctx context.Context, chain graph.Chain, height uint64) error
}

// Node is a chain that Ingest follows: RPC (btcd, bitcoind) and BlockFiles implement it.
type Node interface {
	BestHeight(ctx context.Context) (uint64, error)
	BlockHash(ctx context.Context, height uint64) (string, error)
	// Range calls fn with the blocks from..to in height order.
	Range(ctx context.Context, from, to uint64, fn func(*graph.Block) error) error
}

// IngestOptions bounds an Ingest.
type IngestOptions struct {
	From uint64 // first height to store when the store holds no block yet
	To   uint64 // last height to store; 0 means the node's tip at the time of the call
	// OnBlock, when set, is called after each block is stored (e.g. to feed a trace).
	OnBlock func(*graph.Block) error
}

// IngestStats says what an Ingest did.
type IngestStats struct {
	Written    int    // blocks written
	RolledBack int    // blocks dropped because the node's chain changed under them
	Reorgs     int    // times the node's chain was found to disagree with the store
	Tip        uint64 // the store's tip afterwards
	TipHash    string
}

// prevoutRanger is a Node that can name THORChain memo inputs with a lookup while it
// ranges (RPC, BlockFiles).
type prevoutRanger interface {
	rangePrevouts(ctx context.Context, from, to uint64, look PrevoutLookup, fn func(*graph.Block) error) error
}

// errBranchChanged stops a Range when a fetched block does not extend the stored tip: the
// node reorganized while we were fetching.
var errBranchChanged = errors.New("node branch changed during fetch")

// Ingest brings st up to date with the node: resumable (it starts after the store's tip)
// and reorg-aware. Before writing it walks down from the store's tip until the store and
// the node agree on a block hash, rewinds the store to that fork point, and continues from
// there; if the node's chain changes during the fetch (a block whose parent is not the
// last stored block), it does the same again. Blocks are written in height order, one
// atomic WriteBlock each, so an interrupted Ingest resumes where it stopped. When st can
// look outputs up (OutpointStore: graph.Store), the THORChain memos of an RPC or
// BlockFiles node whose inputs the node cannot name are linked from the stored blocks.
func Ingest(ctx context.Context, st Store, node Node, opts IngestOptions) (IngestStats, error) {
	var stats IngestStats
	// THORChain memos whose inputs the node cannot name (block files, a node without a
	// transaction index) are linked from the blocks already in the store.
	var look PrevoutLookup
	if os, ok := st.(OutpointStore); ok {
		look = StorePrevouts(os)
	}
	for {
		best, err := node.BestHeight(ctx)
		if err != nil {
			return stats, err
		}
		to := best
		if opts.To != 0 && opts.To < to {
			to = opts.To
		}
		start, prevHash, err := forkPoint(ctx, st, node, best, opts.From, &stats)
		if err != nil {
			return stats, err
		}
		if start > to {
			break
		}
		rangeFn := node.Range
		if pr, ok := node.(prevoutRanger); ok && look != nil {
			rangeFn = func(ctx context.Context, from, to uint64, fn func(*graph.Block) error) error {
				return pr.rangePrevouts(ctx, from, to, look, fn)
			}
		}
		err = rangeFn(ctx, start, to, func(b *graph.Block) error {
			if prevHash != "" && b.Parent != prevHash {
				return errBranchChanged
			}
			if err := st.WriteBlock(ctx, b); err != nil {
				return fmt.Errorf("bitcoin: ingest block %s at height %d: %w", b.Hash, b.Height, err)
			}
			stats.Written++
			prevHash = b.Hash
			if opts.OnBlock != nil {
				return opts.OnBlock(b)
			}
			return nil
		})
		if errors.Is(err, errBranchChanged) {
			continue // find the new fork point and go on from there
		}
		if err != nil {
			return stats, err
		}
		if opts.To != 0 && to >= opts.To {
			break
		}
		// Blocks may have arrived while we fetched: loop until the node's tip is stored.
		if nb, err := node.BestHeight(ctx); err != nil {
			return stats, err
		} else if nb == best {
			if h, err := node.BlockHash(ctx, best); err != nil {
				return stats, err
			} else if h == prevHash || prevHash == "" {
				break
			}
		}
	}
	h, hash, ok, err := st.Tip(ctx, graph.Bitcoin)
	if err != nil {
		return stats, fmt.Errorf("bitcoin: ingest: store tip: %w", err)
	}
	if ok {
		stats.Tip, stats.TipHash = h, hash
	}
	return stats, nil
}

// forkPoint returns the first height to fetch and the hash its parent must have (empty
// when the store is empty), rewinding the store past blocks the node no longer has.
func forkPoint(ctx context.Context, st Store, node Node, best, from uint64, stats *IngestStats) (uint64, string, error) {
	tip, tipHash, ok, err := st.Tip(ctx, graph.Bitcoin)
	if err != nil {
		return 0, "", fmt.Errorf("bitcoin: ingest: store tip: %w", err)
	}
	if !ok {
		return from, "", nil
	}
	h, storedHash := tip, tipHash
	for {
		if h <= best {
			nodeHash, err := node.BlockHash(ctx, h)
			if err != nil {
				return 0, "", err
			}
			if nodeHash == storedHash {
				break
			}
		}
		if h == 0 || h <= from {
			return 0, "", fmt.Errorf("%w: heights %d..%d all differ", ErrReorgTooDeep, h, tip)
		}
		h--
		sh, ok, err := st.BlockHash(ctx, graph.Bitcoin, h)
		if err != nil {
			return 0, "", fmt.Errorf("bitcoin: ingest: stored hash at %d: %w", h, err)
		}
		if !ok {
			return 0, "", fmt.Errorf("%w: the store has no block at height %d below its tip %d", ErrReorgTooDeep, h, tip)
		}
		storedHash = sh
	}
	if h < tip {
		if err := st.Rewind(ctx, graph.Bitcoin, h); err != nil {
			return 0, "", fmt.Errorf("bitcoin: ingest: rewind to %d: %w", h, err)
		}
		stats.RolledBack += int(tip - h)
		stats.Reorgs++
	}
	return h + 1, storedHash, nil
}
