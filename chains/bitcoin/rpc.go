package bitcoin

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/chaintrace/chaintrace/graph"
)

// RPCConfig configures a connection to btcd or bitcoind.
type RPCConfig struct {
	Host string // host:port of the JSON-RPC server, e.g. 127.0.0.1:8332
	User string
	Pass string
	// TLS enables HTTPS with the server certificate in Certificates (PEM); btcd serves TLS
	// by default, bitcoind never.
	TLS          bool
	Certificates []byte
	Net          *chaincfg.Params // network of the node (addresses are encoded for it); required
	// Workers fetch blocks in parallel (default 4); blocks are committed in height order.
	Workers int
	// Retries of a request failing with a transient error the node reports: HTTP 5xx
	// (bitcoind answers 503 "Work queue depth exceeded" when parallel requests outrun
	// its -rpcworkqueue) or "warming up" (-28); default 5. Backoff is the first wait
	// (default 250 ms), doubled after each retry up to 10 s. Connection errors are not
	// retried here: rpcclient already retries them 10 times (0.5 s, 1 s, … 4.5 s apart).
	Retries int
	Backoff time.Duration
	// Progress, when set, is called after every committed block.
	Progress func(Progress)
	// WindowStart, when set, starts a window there: every input of a block at or above it
	// that spends an output created below it is resolved (graph.TxIn.Resolved, with the
	// output's value and address), from bitcoind's getblock <hash> 3 or, on btcd, with
	// getrawtransaction, which needs the node's transaction index (--txindex); a node
	// offering neither is ErrNoPrevouts. See rpc_prevouts.go.
	WindowStart uint64
	// OnWarning, when set, is called with every Warning (a THORChain memo that gave no
	// link), in height order within a Range; Warnings keeps them too.
	OnWarning func(Warning)
	// Prevouts names the addresses that THORChain memo transactions spend when the node
	// has no transaction index (getrawtransaction fails), looked up in height order after
	// fn has taken the blocks below. Ingest into a graph.Store does so by itself
	// (StorePrevouts); set it for other consumers that store the blocks. Without it, such
	// memos give warnings (ErrInputsUnknown).
	Prevouts PrevoutLookup
}

// Progress reports a Range in flight.
type Progress struct {
	Height       uint64        // last committed height
	From, To     uint64        // the range
	Blocks       int           // blocks committed so far
	BlocksPerSec float64       // average rate since the start (a display figure, not money)
	ETA          time.Duration // time left at that rate
}

// RPC fetches blocks from a node with getblockhash and getblock <hash> 0 (raw, so btcd and
// bitcoind answers are decoded the same way, by this package). It is safe for concurrent
// use.
type RPC struct {
	c    *rpcclient.Client
	cfg  RPCConfig
	prev rpcPrevouts
	// batch sends a window's prevout lookups as JSON-RPC batches (rpc_prevouts.go),
	// created on first use; noBatch is set when the node refuses them.
	batchMu sync.Mutex
	batch   *rpcclient.Client
	noBatch atomic.Bool
	// batchOK is set once the node has answered a batch; until then batchProbe lets one
	// batch out at a time.
	batchOK    atomic.Bool
	batchProbe sync.Mutex
	warn       warnLog
}

// DialRPC connects to a node (HTTP POST mode: works with btcd and bitcoind) and checks that
// it answers getblockcount and serves cfg.Net (its genesis hash).
func DialRPC(ctx context.Context, cfg RPCConfig) (*RPC, error) {
	if cfg.Net == nil {
		return nil, fmt.Errorf("%w: RPCConfig.Net is nil", ErrUnknownNetwork)
	}
	if cfg.User == "" {
		// Without a user btcd's client falls back to a cookie file at an empty path and
		// fails with "stat : no such file or directory", which says nothing to a user.
		return nil, fmt.Errorf("%w: %s: no RPC user: give the node's rpcuser and rpcpassword (examples/trace: -btc-rpc http://user:pass@host:port; examples/screen: -btc-user and -btc-pass); cookie authentication is not supported", ErrRPC, cfg.Host)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 250 * time.Millisecond
	}
	r := &RPC{cfg: cfg}
	r.warn.on = cfg.OnWarning
	c, err := rpcclient.New(r.connConfig(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: connect %s: %v", ErrRPC, cfg.Host, err)
	}
	r.c = c
	h, err := r.BlockHash(ctx, 0)
	if err != nil {
		c.Shutdown()
		return nil, err
	}
	if h != cfg.Net.GenesisHash.String() {
		c.Shutdown()
		return nil, fmt.Errorf("%w: %s serves a chain with genesis %s, not %s (%s)", ErrRPC, cfg.Host, h, cfg.Net.GenesisHash, cfg.Net.Name)
	}
	return r, nil
}

// connConfig is the rpcclient configuration (HTTP POST mode: works with btcd and bitcoind).
func (r *RPC) connConfig() *rpcclient.ConnConfig {
	return &rpcclient.ConnConfig{
		Host: r.cfg.Host, User: r.cfg.User, Pass: r.cfg.Pass,
		HTTPPostMode: true, DisableTLS: !r.cfg.TLS, Certificates: r.cfg.Certificates,
	}
}

// Close shuts the client down.
func (r *RPC) Close() {
	r.c.Shutdown()
	r.batchMu.Lock()
	if r.batch != nil {
		r.batch.Shutdown()
	}
	r.batchMu.Unlock()
}

// Client is the underlying btcd rpcclient, for calls this type does not wrap.
func (r *RPC) Client() *rpcclient.Client { return r.c }

// call sends one JSON-RPC request, retrying transient errors with exponential backoff, and
// gives up when ctx ends.
func (r *RPC) call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	raw := make([]json.RawMessage, len(params))
	for i, p := range params {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: marshal parameter %d: %v", ErrRPC, method, i, err)
		}
		raw[i] = b
	}
	wait := r.cfg.Backoff
	for attempt := 0; ; attempt++ {
		fut := r.c.RawRequestAsync(method, raw)
		type answer struct {
			res json.RawMessage
			err error
		}
		ch := make(chan answer, 1)
		go func() { res, err := fut.Receive(); ch <- answer{res, err} }()
		var a answer
		select {
		case a = <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if a.err == nil {
			return a.res, nil
		}
		if !transient(a.err) || attempt >= r.cfg.Retries {
			return nil, fmt.Errorf("%w: %s %v (attempt %d): %w", ErrRPC, method, params, attempt+1, a.err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if wait *= 2; wait > 10*time.Second {
			wait = 10 * time.Second
		}
	}
}

// transient reports whether a request may succeed when repeated: the node's own errors
// (unknown block, bad parameter) are final, except "warming up"; an HTTP 5xx answer
// (rpcclient reports it as "status code: 5xx, response: …") is transient. Transport
// errors are final here because rpcclient has already retried them.
func transient(err error) bool {
	var rpcErr *btcjson.RPCError
	if errors.As(err, &rpcErr) {
		return rpcErr.Code == btcjson.ErrRPCInWarmup
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) || errors.Is(err, rpcclient.ErrClientShutdown) {
		return false
	}
	return strings.Contains(err.Error(), "status code: 5")
}

// BestHeight returns the height of the node's tip (getblockcount).
func (r *RPC) BestHeight(ctx context.Context) (uint64, error) {
	res, err := r.call(ctx, "getblockcount")
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(res), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: getblockcount answered %.40q", ErrRPC, res)
	}
	return n, nil
}

// BlockHash returns the hash of the node's block at height (getblockhash).
func (r *RPC) BlockHash(ctx context.Context, height uint64) (string, error) {
	res, err := r.call(ctx, "getblockhash", height)
	if err != nil {
		return "", err
	}
	var h string
	if err := json.Unmarshal(res, &h); err != nil || len(h) != 64 {
		return "", fmt.Errorf("%w: getblockhash %d answered %.80q", ErrRPC, height, res)
	}
	return h, nil
}

// RawBlock returns the serialized block with the given hash (getblock <hash> 0).
func (r *RPC) RawBlock(ctx context.Context, hash string) ([]byte, error) {
	res, err := r.call(ctx, "getblock", hash, 0)
	if err != nil {
		return nil, err
	}
	var s string
	if err := json.Unmarshal(res, &s); err != nil {
		return nil, fmt.Errorf("%w: getblock %s 0 did not answer a hex string: %.80q", ErrRPC, hash, res)
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: getblock %s 0: %v", ErrRPC, hash, err)
	}
	return raw, nil
}

// Block fetches and normalizes the node's block at height. The hash is checked against
// the decoded header, so a block that changed under a reorg between the two calls is an
// error rather than a block at the wrong height. THORChain memos become Block.Links
// (DetectThorchain); the addresses their inputs spend come from getrawtransaction (a
// node with a transaction index), and what gives no link is in Warnings.
func (r *RPC) Block(ctx context.Context, height uint64) (*graph.Block, error) {
	f, err := r.block(ctx, height, r.cfg.Prevouts)
	if err != nil {
		return nil, err
	}
	more, err := r.linkPending(ctx, f.b, f.pending, r.cfg.Prevouts)
	if err != nil {
		return nil, err
	}
	r.warn.add(f.warns)
	r.warn.add(more)
	return f.b, nil
}

// fetched is a fetched block with its THORChain warnings and the memos left to link in
// height order (see detectThorchain).
type fetched struct {
	b       *graph.Block
	warns   []Warning
	pending []TxMemo
}

func (r *RPC) block(ctx context.Context, height uint64, look PrevoutLookup) (fetched, error) {
	hash, err := r.BlockHash(ctx, height)
	if err != nil {
		return fetched{}, err
	}
	raw, err := r.RawBlock(ctx, hash)
	if err != nil {
		return fetched{}, err
	}
	d := NewDecoder(r.cfg.Net)
	b, err := d.decode(raw, height)
	if err != nil {
		return fetched{}, fmt.Errorf("node %s: %w", r.cfg.Host, err)
	}
	if b.Hash != hash {
		return fetched{}, fmt.Errorf("%w: getblock %s returned block %s", ErrRPC, hash, b.Hash)
	}
	if err := r.resolveWindow(ctx, b); err != nil {
		return fetched{}, err
	}
	warns, pending, err := r.detectThorchain(ctx, b, d.memos, look)
	if err != nil {
		return fetched{}, err
	}
	return fetched{b, warns, pending}, nil
}

// Warnings returns the first 1000 warnings of the blocks fetched so far (THORChain memos
// that gave no link, see Warning) and their total count. RPCConfig.OnWarning sees each
// as it comes.
func (r *RPC) Warnings() ([]Warning, int) { return r.warn.warnings() }

// Range fetches blocks from..to (inclusive) with cfg.Workers parallel requests, and calls
// fn with them in height order (in-order commit), reporting progress after each.
func (r *RPC) Range(ctx context.Context, from, to uint64, fn func(*graph.Block) error) error {
	return r.rangeWith(ctx, from, to, r.cfg.Prevouts, fn)
}

func (r *RPC) rangeWith(ctx context.Context, from, to uint64, look PrevoutLookup, fn func(*graph.Block) error) error {
	if from > to {
		return nil
	}
	start := time.Now()
	var mu sync.Mutex // Progress may be read by a callback on another goroutine
	return orderedMap(ctx, int(to-from+1), r.cfg.Workers,
		func(_, i int) (fetched, error) { return r.block(ctx, from+uint64(i), look) },
		func(i int, f fetched) error {
			b := f.b
			// In height order: the lookup may read what fn stored of the blocks below.
			more, err := r.linkPending(ctx, b, f.pending, look)
			if err != nil {
				return err
			}
			r.warn.add(f.warns)
			r.warn.add(more)
			if err := fn(b); err != nil {
				return err
			}
			if r.cfg.Progress != nil {
				mu.Lock()
				defer mu.Unlock()
				done := i + 1
				elapsed := time.Since(start).Seconds()
				p := Progress{Height: b.Height, From: from, To: to, Blocks: done}
				if elapsed > 0 {
					p.BlocksPerSec = float64(done) / elapsed
					p.ETA = time.Duration(float64(int(to-from+1)-done) / p.BlocksPerSec * float64(time.Second))
				}
				r.cfg.Progress(p)
			}
			return nil
		})
}

// Source returns the node's blocks from..to as a Source for Stream.
func (r *RPC) Source(from, to uint64) Source { return rangeSource{r, from, to} }

type rangeSource struct {
	r        *RPC
	from, to uint64
}

func (s rangeSource) Blocks(ctx context.Context, fn func(*graph.Block) error) error {
	return s.r.Range(ctx, s.from, s.to, fn)
}
