package ethereum

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// Options tune a Client. The zero value is usable: batched fetch of 8 blocks per request,
// traces when the node has them, 4 retries.
type Options struct {
	// BlocksPerBatch is how many blocks one JSON-RPC batch request carries (block, receipts
	// and trace of each). Default 8.
	BlocksPerBatch int
	// Sequential disables JSON-RPC batching: every call is its own request. This is the
	// one-call-at-a-time baseline; use it only for nodes that reject batches.
	Sequential bool
	// RequireTraces makes a node without debug_traceBlockByNumber an error (ErrNoTraceAPI)
	// instead of a warning.
	RequireTraces bool
	// NoTraces skips tracing altogether (every block then carries an ErrNoTraces warning).
	NoTraces bool
	// TraceTimeout is passed to debug_traceBlockByNumber ("timeout"); empty = node default.
	TraceTimeout string
	// Retries is how often a transient failure (network, HTTP 5xx/429, timeout, responses
	// that disagree because the chain moved between two calls, a block not there yet) is retried,
	// with exponential backoff from RetryBackoff (default 200ms) up to 10s. Default 4; a
	// negative value disables retries.
	Retries      int
	RetryBackoff time.Duration
	// Logger receives the loud warnings (no debug API, …). Default slog.Default().
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	v := *o
	if v.BlocksPerBatch <= 0 {
		v.BlocksPerBatch = 8
	}
	if v.Retries == 0 {
		v.Retries = 4
	}
	if v.Retries < 0 {
		v.Retries = 0
	}
	if v.RetryBackoff <= 0 {
		v.RetryBackoff = 200 * time.Millisecond
	}
	if v.Logger == nil {
		v.Logger = slog.Default()
	}
	return v
}

// Client fetches blocks from an Ethereum JSON-RPC node and normalizes them into graph.Blocks.
// It is safe for concurrent use.
type Client struct {
	rpc  *rpc.Client
	own  bool
	opts Options

	// What the node supports, learned on first use: 0 unknown, 1 yes, 2 no.
	blockReceipts atomic.Int32
	traces        atomic.Int32
	warnOnce      sync.Once
	calls         atomic.Int64 // JSON-RPC calls issued (a batch element counts as one)
	requests      atomic.Int64 // HTTP/IPC requests issued (a batch counts as one)
}

// Dial connects to a node's JSON-RPC endpoint (http(s)://, ws(s)://, or an IPC path).
func Dial(ctx context.Context, url string, opts Options) (*Client, error) {
	c, err := rpc.DialContext(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("ethereum: dial %s: %w", url, err)
	}
	cl := NewClient(c, opts)
	cl.own = true
	return cl, nil
}

// NewClient wraps an existing go-ethereum rpc.Client (for example an in-process node's
// Attach()). Close does not close a client passed in here.
func NewClient(c *rpc.Client, opts Options) *Client {
	cl := &Client{rpc: c, opts: opts.withDefaults()}
	if cl.opts.NoTraces {
		cl.traces.Store(2)
	}
	return cl
}

// Close closes the connection if Dial opened it.
func (c *Client) Close() {
	if c.own {
		c.rpc.Close()
	}
}

// Stats reports how many JSON-RPC calls and transport requests the client has made.
func (c *Client) Stats() (calls, requests int64) { return c.calls.Load(), c.requests.Load() }

// HasTraces reports whether the node answered debug_traceBlockByNumber; ok is false before
// the first block was fetched.
func (c *Client) HasTraces() (has, ok bool) {
	switch c.traces.Load() {
	case 1:
		return true, true
	case 2:
		return false, true
	}
	return false, false
}

// Head returns the node's latest block number.
func (c *Client) Head(ctx context.Context) (uint64, error) {
	var n hexutil.Uint64
	if err := c.retry(ctx, "eth_blockNumber", func() error {
		c.calls.Add(1)
		c.requests.Add(1)
		return c.rpc.CallContext(ctx, &n, "eth_blockNumber")
	}); err != nil {
		return 0, fmt.Errorf("ethereum: eth_blockNumber: %w", err)
	}
	return uint64(n), nil
}

// BlockHash returns the canonical hash of the node's block at height (ErrBlockNotFound if
// the node has none).
func (c *Client) BlockHash(ctx context.Context, height uint64) (string, error) {
	var hdr *struct {
		Hash string `json:"hash"`
	}
	if err := c.retry(ctx, "eth_getBlockByNumber", func() error {
		c.calls.Add(1)
		c.requests.Add(1)
		return c.rpc.CallContext(ctx, &hdr, "eth_getBlockByNumber", hexutil.Uint64(height), false)
	}); err != nil {
		return "", fmt.Errorf("ethereum: block %d hash: %w", height, err)
	}
	if hdr == nil {
		return "", fmt.Errorf("ethereum: block %d: %w", height, ErrBlockNotFound)
	}
	return parseHash(fmt.Sprintf("block %d hash", height), hdr.Hash)
}

// Block fetches and normalizes one block.
func (c *Client) Block(ctx context.Context, height uint64) (*Decoded, error) {
	ds, err := c.Blocks(ctx, height, height)
	if err != nil {
		return nil, err
	}
	return ds[0], nil
}

// Blocks fetches and normalizes the blocks from..to (inclusive) in one round of requests:
// one JSON-RPC batch of blocks, receipts and traces (or one call each when Sequential),
// split into batches of BlocksPerBatch blocks. Transient failures are retried.
func (c *Client) Blocks(ctx context.Context, from, to uint64) ([]*Decoded, error) {
	if to < from {
		return nil, fmt.Errorf("ethereum: empty block range %d..%d", from, to)
	}
	out := make([]*Decoded, 0, to-from+1)
	for lo := from; ; {
		hi := min(to, lo+uint64(c.opts.BlocksPerBatch)-1)
		ds, err := c.fetchSplitting(ctx, lo, hi)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
		if hi == to {
			return out, nil
		}
		lo = hi + 1
	}
}

// fetchSplitting fetches lo..hi with retries; when the node refuses the batch as too large
// (geth limits batches to 1000 calls and 25 MB of response by default, and mainnet traces
// are big), it halves the range until the node accepts it.
func (c *Client) fetchSplitting(ctx context.Context, lo, hi uint64) ([]*Decoded, error) {
	var ds []*Decoded
	err := c.retry(ctx, fmt.Sprintf("blocks %d..%d", lo, hi), func() error {
		var err error
		ds, err = c.fetch(ctx, lo, hi)
		return err
	})
	if err == nil || hi == lo || !isTooLarge(err) {
		return ds, err
	}
	mid := lo + (hi-lo)/2
	c.opts.Logger.Info("ethereum: batch too large for the node, splitting", "from", lo, "to", hi)
	left, err := c.fetchSplitting(ctx, lo, mid)
	if err != nil {
		return nil, err
	}
	right, err := c.fetchSplitting(ctx, mid+1, hi)
	if err != nil {
		return nil, err
	}
	return append(left, right...), nil
}

func isTooLarge(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "too large") || strings.Contains(msg, "batch limit") || strings.Contains(msg, "limit exceeded")
}

// call is one JSON-RPC call of a round.
type call struct {
	method string
	args   []any
	result any
	err    error
}

// do runs calls as one batch request, or one request per call when Sequential. A transport
// failure is returned; per-call errors are left in call.err.
func (c *Client) do(ctx context.Context, calls []*call) error {
	c.calls.Add(int64(len(calls)))
	if c.opts.Sequential {
		for _, cl := range calls {
			c.requests.Add(1)
			cl.err = c.rpc.CallContext(ctx, cl.result, cl.method, cl.args...)
			if cl.err != nil && isTransport(cl.err) {
				return cl.err
			}
		}
		return nil
	}
	c.requests.Add(1)
	elems := make([]rpc.BatchElem, len(calls))
	for i, cl := range calls {
		elems[i] = rpc.BatchElem{Method: cl.method, Args: cl.args, Result: cl.result}
	}
	if err := c.rpc.BatchCallContext(ctx, elems); err != nil {
		return err
	}
	for i := range elems {
		calls[i].err = elems[i].Error
	}
	return nil
}

func (c *Client) traceConfig() map[string]any {
	cfg := map[string]any{"tracer": "callTracer"}
	if c.opts.TraceTimeout != "" {
		cfg["timeout"] = c.opts.TraceTimeout
	}
	return cfg
}

// fetch gets blocks lo..hi, their receipts and traces, and normalizes them.
func (c *Client) fetch(ctx context.Context, lo, hi uint64) ([]*Decoded, error) {
	n := int(hi - lo + 1)
	blocks := make([]*wireBlock, n)
	receipts := make([][]wireReceipt, n)
	traces := make([][]wireTraceResult, n)
	blockCalls := make([]*call, n)
	receiptCalls := make([]*call, n)
	traceCalls := make([]*call, n)
	wantReceipts := c.blockReceipts.Load() != 2
	wantTraces := c.traces.Load() != 2

	var round []*call
	for i := range n {
		h := hexutil.Uint64(lo + uint64(i))
		blockCalls[i] = &call{method: "eth_getBlockByNumber", args: []any{h, true}, result: &blocks[i]}
		round = append(round, blockCalls[i])
		if wantReceipts {
			receiptCalls[i] = &call{method: "eth_getBlockReceipts", args: []any{h}, result: &receipts[i]}
			round = append(round, receiptCalls[i])
		}
		if wantTraces {
			traceCalls[i] = &call{method: "debug_traceBlockByNumber", args: []any{h, c.traceConfig()}, result: &traces[i]}
			round = append(round, traceCalls[i])
		}
	}
	if err := c.do(ctx, round); err != nil {
		return nil, err
	}
	for i := range n {
		if err := blockCalls[i].err; err != nil {
			return nil, fmt.Errorf("ethereum: eth_getBlockByNumber %d: %w", lo+uint64(i), classify(err))
		}
		if blocks[i] == nil {
			return nil, fmt.Errorf("ethereum: block %d: %w", lo+uint64(i), ErrBlockNotFound)
		}
	}
	// Receipts: eth_getBlockReceipts, or one eth_getTransactionReceipt per transaction on
	// nodes without it (pre-2023 clients).
	var fallback []*call
	fallbackOf := make([][]wireReceipt, n)
	for i := range n {
		if wantReceipts {
			err := receiptCalls[i].err
			if err == nil && (receipts[i] != nil || len(blocks[i].Transactions) == 0) {
				c.blockReceipts.CompareAndSwap(0, 1)
				continue
			}
			if err != nil && !isMethodMissing(err) {
				return nil, fmt.Errorf("ethereum: eth_getBlockReceipts %d: %w", lo+uint64(i), classify(err))
			}
			if err != nil {
				c.blockReceipts.Store(2)
			}
		}
		fallbackOf[i] = make([]wireReceipt, len(blocks[i].Transactions))
		for j := range blocks[i].Transactions {
			fallback = append(fallback, &call{method: "eth_getTransactionReceipt", args: []any{blocks[i].Transactions[j].Hash}, result: &fallbackOf[i][j]})
		}
	}
	if len(fallback) > 0 {
		if err := c.do(ctx, fallback); err != nil {
			return nil, err
		}
		for _, cl := range fallback {
			if cl.err != nil {
				return nil, fmt.Errorf("ethereum: eth_getTransactionReceipt %v: %w", cl.args[0], classify(cl.err))
			}
		}
	}
	for i := range n {
		if fallbackOf[i] != nil {
			receipts[i] = fallbackOf[i]
		}
	}
	out := make([]*Decoded, n)
	for i := range n {
		height := lo + uint64(i)
		haveTraces := false
		if wantTraces {
			switch err := traceCalls[i].err; {
			case err == nil:
				haveTraces = true
				c.traces.CompareAndSwap(0, 1)
			case isMethodMissing(err):
				c.traces.Store(2)
			case len(blocks[i].Transactions) == 0:
				// Nothing to trace (geth refuses to trace genesis).
			case strings.Contains(strings.ToLower(err.Error()), "historical state"), strings.Contains(strings.ToLower(err.Error()), "missing trie node"):
				return nil, fmt.Errorf("ethereum: debug_traceBlockByNumber %d: %w (a non-archive node traces only recent blocks: use an archive node, or Options.NoTraces to ingest without internal transfers)", height, err)
			default:
				return nil, fmt.Errorf("ethereum: debug_traceBlockByNumber %d: %w", height, classify(err))
			}
		}
		if !haveTraces && len(blocks[i].Transactions) > 0 {
			if c.opts.RequireTraces {
				return nil, fmt.Errorf("ethereum: block %d: %w", height, ErrNoTraceAPI)
			}
			c.warnOnce.Do(func() {
				c.opts.Logger.Warn("ethereum: NO CALL TRACES — the node has no debug_traceBlockByNumber (or tracing is off): internal ETH transfers are NOT ingested, only top-level values and ERC-20 logs; contract balances will be under-reported", "first_block", height)
			})
		}
		d, err := normalize(blocks[i], receipts[i], traces[i], haveTraces || (wantTraces && len(blocks[i].Transactions) == 0))
		if err != nil {
			return nil, fmt.Errorf("ethereum: %w", err)
		}
		out[i] = d
	}
	return out, nil
}

// errTransient marks failures worth retrying.
var errTransient = errors.New("transient")

// classify marks an error as transient when retrying it may help.
func classify(err error) error {
	if isTransient(err) {
		return fmt.Errorf("%w (%w)", err, errTransient)
	}
	return err
}

func isTransport(err error) bool {
	var rerr rpc.Error
	return !errors.As(err, &rerr) && !errors.Is(err, ErrMalformed)
}

func isTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, errTransient) {
		return true
	}
	if errors.Is(err, ErrInconsistent) || errors.Is(err, ErrBlockNotFound) {
		// A reorg between the calls of one round, or a load balancer answering from
		// backends at different heights: asking again usually gives a consistent view.
		return true
	}
	var herr rpc.HTTPError
	if errors.As(err, &herr) {
		return herr.StatusCode == 429 || herr.StatusCode >= 500
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return true
	}
	var rerr rpc.Error
	if errors.As(err, &rerr) {
		// -32000 server errors such as "header not found" or "request timed out" are
		// transient on load-balanced providers; -32005 is the common rate-limit code.
		msg := strings.ToLower(rerr.Error())
		return rerr.ErrorCode() == -32005 || strings.Contains(msg, "timeout") || strings.Contains(msg, "timed out") ||
			strings.Contains(msg, "rate limit") || strings.Contains(msg, "too many requests")
	}
	var jerr *json.SyntaxError
	if errors.As(err, &jerr) {
		return false
	}
	// Connection resets and EOFs surface as plain errors from the transports.
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "EOF") || strings.Contains(msg, "connection refused")
}

func isMethodMissing(err error) bool {
	var rerr rpc.Error
	if errors.As(err, &rerr) && rerr.ErrorCode() == -32601 {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "does not exist/is not available") || strings.Contains(msg, "method not found") ||
		strings.Contains(msg, "not supported")
}

// retry runs f until it succeeds, fails with a non-transient error, or the retries are spent.
func (c *Client) retry(ctx context.Context, what string, f func() error) error {
	backoff := c.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || attempt >= c.opts.Retries || !isTransient(err) || ctx.Err() != nil {
			return err
		}
		c.opts.Logger.Info("ethereum: retrying after transient error", "what", what, "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (after %v)", ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}
