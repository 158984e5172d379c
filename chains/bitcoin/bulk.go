package bitcoin

import (
	"context"
	"fmt"

	"github.com/chaintrace/chaintrace/graph"
)

// BulkStore is what BulkLoad needs of a block store; *graph.Store implements it.
type BulkStore interface {
	NewBulkLoader(ctx context.Context, opts graph.BulkOptions) (*graph.BulkLoader, error)
}

// BulkLoadOptions bounds a BulkLoad.
type BulkLoadOptions struct {
	From uint64 // first height to load
	To   uint64 // last height to load; 0 means the node's tip at the time of the call
	// Bulk configures the store's bulk loader (temporary directory, memory budget).
	Bulk graph.BulkOptions
	// OnBlock, when set, is called with each block once the loader has taken it, its
	// inputs resolved (e.g. to feed a trace in the same pass).
	OnBlock func(*graph.Block) error
}

// BulkLoad is the first-time load of a history: it stores heights From..To of node into
// st, which must hold no block and no record yet (graph.ErrStoreNotEmpty), through the
// store's bulk path (graph.BulkLoader), several times faster than Ingest's one commit per
// block. It is all or nothing: after an error the store is as it was before (window starts
// kept); after a crash, the next graph.OpenStore rolls the interrupted load back to that
// (graph.Store.Recovered says so) and the load can simply be run again. If the node's chain changes during the load (a block
// whose parent is not the block before it), the load fails with graph.ErrParentMismatch
// and can be retried, or left to Ingest, which follows reorgs.
//
// The store then holds what Ingest would have written; Ingest continues from its tip,
// block by block and reorg-aware. When From is not the genesis block, declare the window
// start (graph.Store.SetWindowStart) before, so that inputs spending older outputs count
// as outside the window instead of failing.
func BulkLoad(ctx context.Context, st BulkStore, node Node, opts BulkLoadOptions) (graph.BulkStats, error) {
	to := opts.To
	if to == 0 {
		best, err := node.BestHeight(ctx)
		if err != nil {
			return graph.BulkStats{}, fmt.Errorf("bitcoin: bulk load: %w", err)
		}
		to = best
	}
	if opts.From > to {
		return graph.BulkStats{}, fmt.Errorf("bitcoin: bulk load: heights %d..%d: nothing to load", opts.From, to)
	}
	bl, err := st.NewBulkLoader(ctx, opts.Bulk)
	if err != nil {
		return graph.BulkStats{}, fmt.Errorf("bitcoin: bulk load: %w", err)
	}
	err = node.Range(ctx, opts.From, to, func(b *graph.Block) error {
		if err := bl.Add(ctx, b); err != nil {
			return fmt.Errorf("bitcoin: bulk load block %s at height %d: %w", b.Hash, b.Height, err)
		}
		if opts.OnBlock != nil {
			return opts.OnBlock(b)
		}
		return nil
	})
	if err != nil {
		bl.Abort()
		return graph.BulkStats{}, err
	}
	return bl.Finish(ctx)
}
