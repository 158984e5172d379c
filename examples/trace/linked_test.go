package main

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
)

// pushRun is a chainRun whose blocks are pushed by a callback, as blk files streamed
// without a store are; it reuses one block value, as a streaming decoder may.
func pushRun(n int, fail error) chainRun {
	return chainRun{chain: graph.Bitcoin, from: 1, to: uint64(n), blocks: func(ctx context.Context, from, to uint64, fn func(*graph.Block) error) error {
		var b graph.Block
		for h := from; h <= to; h++ {
			b = graph.Block{Chain: graph.Bitcoin, Height: h, Time: int64(h)}
			if err := fn(&b); err != nil {
				return err
			}
			if fail != nil && h == to/2 {
				return fail
			}
		}
		return nil
	}}
}

// trace.Multi pulls blocks one at a time; a pushed source hands each over and waits until
// the next is asked for, so a block is never overwritten while the trace holds it.
func TestPushedBlocks(t *testing.T) {
	ctx := context.Background()
	p := newPushedBlocks(ctx, pushRun(50, nil), nil)
	for h := uint64(1); h <= 50; h++ {
		b, err := p.Next(ctx)
		if err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
		if b.Height != h {
			t.Fatalf("got block %d, want %d", b.Height, h)
		}
		time.Sleep(time.Microsecond) // the source must not run ahead meanwhile
		if b.Height != h {
			t.Fatalf("block %d was overwritten with %d before the next was asked for", h, b.Height)
		}
	}
	for range 2 {
		if _, err := p.Next(ctx); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last block: %v, want io.EOF", err)
		}
	}

	boom := errors.New("blk00001.dat: truncated")
	p = newPushedBlocks(ctx, pushRun(10, boom), nil)
	var err error
	for range 20 {
		if _, err = p.Next(ctx); err != nil {
			break
		}
	}
	if !errors.Is(err, boom) {
		t.Fatalf("a failing source: %v, want its error", err)
	}

	// A trace that stops early cancels the source, whose goroutine then ends.
	cctx, cancel := context.WithCancel(ctx)
	p = newPushedBlocks(cctx, pushRun(10, nil), nil)
	if _, err := p.Next(cctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-p.done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the cancelled source ended with %v", err)
		}
	case <-time.After(time.Minute): // a hang guard
		t.Fatal("the source's goroutine did not end after the trace was cancelled")
	}
}
