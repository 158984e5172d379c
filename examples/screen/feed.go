package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/screen"
)

// feed is one chain's follower in node mode, opened in the background so that the service
// listens at once: it dials the node (again after every failure), opens the follower from
// the store and advances it every poll. Until its first Advance has reached the node the
// chain is "syncing", and /healthz says what it waits for and the last error.
type feed struct {
	chain      graph.Chain
	screener   *screen.Screener
	waitingFor string // the node, in words: "the Bitcoin node at 127.0.0.1:8332"
	// dial connects to the node; the function it returns closes the connection.
	dial func(ctx context.Context) (screen.BlockSource, func(), error)
	// follow opens the follower over the node's source.
	follow func(ctx context.Context, src screen.BlockSource) (*screen.Follower, error)

	mu      sync.Mutex
	ready   bool
	lastErr string
}

// feedStatus is what /healthz says of a chain beyond its screener's block.
type feedStatus struct {
	Ready      bool
	WaitingFor string
	LastError  string
}

func (f *feed) status() feedStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := feedStatus{Ready: f.ready, LastError: f.lastErr}
	if !f.ready {
		st.WaitingFor = f.waitingFor
	}
	return st
}

func (f *feed) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		f.ready, f.lastErr = true, ""
		return
	}
	f.lastErr = oneLine(err.Error())
}

// oneLine keeps an error to one line of at most 300 characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}

// run dials, opens the follower and advances it every poll until ctx ends. An error
// opening the follower (the store, the trace configuration) is returned: retrying cannot
// mend it. A node that cannot be reached is retried every poll.
func (f *feed) run(ctx context.Context, poll time.Duration, log *slog.Logger) error {
	var src screen.BlockSource
	log.Info("waiting for "+f.waitingFor, "chain", f.chain)
	for attempt := 1; ; attempt++ {
		s, closeSrc, err := f.dial(ctx)
		if err == nil {
			src = s
			defer closeSrc()
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		f.setErr(err)
		log.Warn("still waiting for "+f.waitingFor, "chain", f.chain, "attempt", attempt, "retry_in", poll, "err", oneLine(err.Error()))
		if !sleep(ctx, poll) {
			return nil
		}
	}
	fl, err := f.follow(ctx, src)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%s: %w", f.chain, err)
	}
	h, _, _ := fl.Height()
	log.Info("following", "chain", f.chain, "height", h, "resumed", fl.Resumed())
	for {
		rep, err := fl.Advance(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if oe := (*trace.OverflowError)(nil); errors.As(err, &oe) && oe.Asset != "" && oe.Asset != f.chain.NativeAsset() {
			// Every retry fails the same way: say first (the error is cut at 300
			// characters) how to get past it, with this program's flag.
			err = fmt.Errorf("asset %s claims amounts no real token can hold: list the assets you accept with -eth-assets: %w", oe.Asset, err)
		}
		f.setErr(err)
		switch {
		case err != nil:
			log.Warn("follower", "chain", f.chain, "err", oneLine(err.Error()))
		case rep.Applied > 0 || rep.Reorg != nil:
			log.Info("advanced", "chain", f.chain, "height", rep.Height, "blocks", rep.Applied, "reorg", rep.Reorg != nil, "changes", len(rep.Changes))
		}
		if !sleep(ctx, poll) {
			return nil
		}
	}
}

// sleep waits d or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
