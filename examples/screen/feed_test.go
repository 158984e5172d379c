package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/screen"
)

// blockList serves blocks as a node would (heights from 1, hashes and parents set).
type blockList struct{ blocks []graph.Block }

func (l *blockList) Tip(context.Context) (uint64, error) { return uint64(len(l.blocks)), nil }
func (l *blockList) Block(_ context.Context, h uint64) (*graph.Block, error) {
	if h < 1 || h > uint64(len(l.blocks)) {
		return nil, fmt.Errorf("no block %d", h)
	}
	b := l.blocks[h-1]
	return &b, nil
}

// A feed is syncing, saying what it waits for and its last error, until its first Advance
// reaches the node; then ready. A node that fails the dial is retried; a follower stopped
// by a fake token's overflow says which flag gets past it (-eth-assets), not a Go option.
func TestFeedStatus(t *testing.T) {
	const (
		thief = graph.Address("0x1a2a000000000000000000000000000000000001")
		mule  = graph.Address("0x1a2a000000000000000000000000000000000002")
		other = graph.Address("0x1a2a000000000000000000000000000000000003")
		fake  = graph.Asset("0x1a2a00000000000000000000000000000000fa4e")
	)
	max := graph.MustAmount("115792089237316195423570985008687907853269984665640564039457584007913129639935")
	blocks := []graph.Block{
		{Chain: graph.Ethereum, Height: 1, Hash: "0x01", AccountTxs: []graph.AccountTx{{Hash: "0x1", From: thief, Success: true,
			Transfers: []graph.Transfer{{ID: "0x1.0", Asset: graph.ETH, From: thief, To: mule, Amount: graph.NewAmount(5), Kind: graph.KindCall}}}}},
		{Chain: graph.Ethereum, Height: 2, Hash: "0x02", Parent: "0x01", AccountTxs: []graph.AccountTx{{Hash: "0x2", From: other, Success: true,
			Transfers: []graph.Transfer{
				{ID: "0x2.log0", Asset: fake, From: thief, To: other, Amount: graph.NewAmount(1000), Kind: graph.KindERC20},
				{ID: "0x2.log1", Asset: fake, From: thief, To: other, Amount: max, Kind: graph.KindERC20}}}}},
	}
	for _, c := range []struct {
		name      string
		assets    []graph.Asset
		dialFails int
		ready     bool
		lastErr   string
	}{
		{"every asset traced", nil, 1, false, "list the assets you accept with -eth-assets"},
		{"ETH only", []graph.Asset{graph.ETH}, 1, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir(), WindowStarts: map[graph.Chain]uint64{graph.Ethereum: 1}})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			s, err := screen.New(screen.Options{Chain: graph.Ethereum})
			if err != nil {
				t.Fatal(err)
			}
			p := trace.DefaultParams()
			p.ImplicitBalances, p.Assets = true, c.assets
			var mu sync.Mutex
			dials := 0
			f := &feed{chain: graph.Ethereum, screener: s, waitingFor: "the Ethereum node at test",
				dial: func(context.Context) (screen.BlockSource, func(), error) {
					mu.Lock()
					defer mu.Unlock()
					if dials++; dials <= c.dialFails {
						return nil, nil, errors.New("connection refused\n(second line)")
					}
					return &blockList{blocks}, func() {}, nil
				},
				follow: func(ctx context.Context, src screen.BlockSource) (*screen.Follower, error) {
					return screen.Follow(ctx, screen.FollowOptions{Name: "t", Chain: graph.Ethereum, Start: 1, Store: st, Source: src, Screener: s,
						Config: trace.Config{Model: graph.Account, Method: trace.Haircut, Params: p, Seeds: []trace.Seed{{Address: thief, Source: "thief"}}},
						Init:   func(e *trace.Engine) error { return e.SetBalance(thief, graph.ETH, graph.NewAmount(100)) }})
				}}
			if st := f.status(); st.Ready || st.WaitingFor != "the Ethereum node at test" {
				t.Fatalf("before the first dial: %+v", st)
			}
			done := make(chan error, 1)
			go func() { done <- f.run(ctx, 5*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
			deadline := time.After(2 * time.Minute) // a hang guard, not a timing assertion
			for {
				st := f.status()
				mu.Lock()
				dialled := dials > c.dialFails
				mu.Unlock()
				if dialled && st.Ready == c.ready && (c.lastErr == "" || strings.Contains(st.LastError, c.lastErr)) {
					if strings.Contains(st.LastError, "\n") {
						t.Errorf("last error on several lines: %q", st.LastError)
					}
					if !c.ready && st.WaitingFor == "" {
						t.Errorf("not ready, waiting for nothing: %+v", st)
					}
					break
				}
				select {
				case <-deadline:
					t.Fatalf("status %+v, want ready %v with last error %q", st, c.ready, c.lastErr)
				case err := <-done:
					t.Fatalf("the feed ended: %v", err)
				case <-time.After(5 * time.Millisecond):
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}
