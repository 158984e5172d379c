package bitcoin

import (
	"context"
	"fmt"

	"github.com/chaintrace/chaintrace/graph"
)

// Source delivers blocks in chain order: BlockFiles (blk*.dat), RPC (a node) and anything
// else that produces graph.Blocks. It holds no chain-specific type.
type Source interface {
	// Blocks calls fn with every block of the source in chain order and stops at the first
	// error fn returns.
	Blocks(ctx context.Context, fn func(*graph.Block) error) error
}

// Stream passes every block of src to fn in chain order — straight into a trace engine
// (fn = engine.ApplyBlock) for one-pass analyses without a store — and checks that the
// blocks are contiguous: each at the previous height + 1 and, when both hashes are known,
// naming the previous block as its parent. A gap or a broken link is ErrNotContiguous.
func Stream(ctx context.Context, src Source, fn func(*graph.Block) error) error {
	var prev *graph.Block
	var prevHeight uint64
	var prevHash string
	return src.Blocks(ctx, func(b *graph.Block) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if prev != nil {
			if b.Height != prevHeight+1 {
				return fmt.Errorf("%w: block %s at height %d follows height %d", ErrNotContiguous, b.Hash, b.Height, prevHeight)
			}
			if b.Parent != "" && prevHash != "" && b.Parent != prevHash {
				return fmt.Errorf("%w: block %s at height %d has parent %s, previous block is %s",
					ErrNotContiguous, b.Hash, b.Height, b.Parent, prevHash)
			}
		}
		prev, prevHeight, prevHash = b, b.Height, b.Hash
		return fn(b)
	})
}
