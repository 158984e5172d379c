package ethereum_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/ethereum"
)

// A node behind a proxy that fails the first requests with 503: the client retries with
// backoff and ingests everything; a malformed response is not retried.
func TestRetryTransient(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "ethereum", "rpc-stream-1755634-1755635")
	rn, _ := newRecordedNode(t, dir)
	var failures atomic.Int64
	failures.Store(3)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failures.Add(-1) >= 0 {
			http.Error(w, "upstream overloaded", http.StatusServiceUnavailable)
			return
		}
		rn.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := ethereum.Dial(ctx, flaky.URL, ethereum.Options{RetryBackoff: time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := ethereum.Ingest(ctx, c, &memStore{}, ethereum.IngestOptions{From: 1755634, To: 1755635})
	if err != nil || res.Blocks != 2 {
		t.Fatalf("%+v %v", res, err)
	}

	// Retries spent: the error names the cause.
	failures.Store(100)
	c2, _ := ethereum.Dial(ctx, flaky.URL, ethereum.Options{RetryBackoff: time.Millisecond, Retries: 2, Logger: quiet})
	defer c2.Close()
	if _, err := c2.Block(ctx, 1755635); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("after spent retries: %v", err)
	}
	if left := failures.Load(); left != 97 {
		t.Errorf("%d requests, want 3 (1 + 2 retries)", 100-left)
	}

	// A malformed answer is final.
	var served atomic.Int64
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `[{"jsonrpc":"2.0","id":1,"result":{"number":"0x1","hash":"nothex"}},{"jsonrpc":"2.0","id":2,"result":[]},{"jsonrpc":"2.0","id":3,"result":[]}]`)
	}))
	defer bad.Close()
	c3, _ := ethereum.Dial(ctx, bad.URL, ethereum.Options{RetryBackoff: time.Millisecond, Logger: quiet})
	defer c3.Close()
	if _, err := c3.Block(ctx, 1); !errors.Is(err, ethereum.ErrMalformed) || served.Load() != 1 {
		t.Errorf("malformed: %v after %d requests", err, served.Load())
	}
}
