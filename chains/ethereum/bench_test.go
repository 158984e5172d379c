package ethereum_test

import (
	"context"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/ethereum/contracts"
	"github.com/chaintrace/chaintrace/chains/ethereum/devnode"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/ethereum/go-ethereum/rpc"
)

// BenchmarkDecodeRecorded decodes the recorded dev-chain blocks (real geth responses:
// blocks, receipts, callTracer traces) and reports normalized transfers per second.
func BenchmarkDecodeRecorded(b *testing.B) {
	blocks := loadRecorded(b)
	var bytes, transfers int
	for _, r := range blocks {
		bytes += len(r.Block) + len(r.Receipts) + len(r.Traces)
		d, err := ethereum.DecodeBlock(r.Block, r.Receipts, r.Traces)
		if err != nil {
			b.Fatal(err)
		}
		for _, tx := range d.Block.AccountTxs {
			transfers += len(tx.Transfers)
		}
	}
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for b.Loop() {
		for _, r := range blocks {
			if _, err := ethereum.DecodeBlock(r.Block, r.Receipts, r.Traces); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(transfers)*float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
	b.ReportMetric(float64(len(blocks))*float64(b.N)/b.Elapsed().Seconds(), "blocks/s")
}

// tipStore keeps only the chain's tip: ingestion benchmarks measure fetching and decoding.
type tipStore struct {
	mu     sync.Mutex
	hashes map[uint64]string
	tip    uint64
	ok     bool
}

func (s *tipStore) WriteBlock(_ context.Context, b *graph.Block) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hashes == nil {
		s.hashes = map[uint64]string{}
	}
	s.hashes[b.Height], s.tip, s.ok = b.Hash, b.Height, true
	return nil
}

func (s *tipStore) Tip(context.Context, graph.Chain) (uint64, string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tip, s.hashes[s.tip], s.ok, nil
}

func (s *tipStore) BlockHash(_ context.Context, _ graph.Chain, h uint64) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.hashes[h]
	return v, ok, nil
}

func (s *tipStore) Rewind(_ context.Context, _ graph.Chain, h uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.hashes {
		if k > h {
			delete(s.hashes, k)
		}
	}
	s.tip, s.ok = h, len(s.hashes) > 0
	return nil
}

var (
	benchOnce  sync.Once
	benchNode  *devnode.Node
	benchErr   error
	benchHead  uint64
	benchMoves int
)

// benchChain builds a dev chain of 120 blocks, each with 4 plain transfers and 2 calls
// that forward ETH through internal calls (so traces are non-trivial).
func benchChain(b *testing.B) (*devnode.Node, uint64) {
	benchOnce.Do(func() {
		ctx := context.Background()
		n, err := devnode.Start(ctx, devnode.Config{})
		if err != nil {
			benchErr = err
			return
		}
		benchNode = n
		fwdC, _ := contracts.Load(contracts.Forwarder)
		fwd, _, err := n.Deploy(ctx, n.Account(0), fwdC.Bytecode, nil)
		if err != nil {
			benchErr = err
			return
		}
		n.Commit(ctx)
		accts := n.Accounts()
		for blk := 0; blk < 120; blk++ {
			for i := 0; i < 4; i++ {
				to := accts[(i+blk+1)%len(accts)].Address
				if _, benchErr = n.Send(ctx, accts[i], devnode.Tx{To: &to, Value: big.NewInt(int64(1e15 + blk))}); benchErr != nil {
					return
				}
			}
			for i := 4; i < 6; i++ {
				data, _ := fwdC.Call("forward", accts[6].Address, big.NewInt(1e15), accts[7].Address, big.NewInt(2e15), accts[5].Address, big.NewInt(3e15))
				if _, benchErr = n.Send(ctx, accts[i], devnode.Tx{To: &fwd, Value: big.NewInt(1e16), Data: data, Gas: 500_000}); benchErr != nil {
					return
				}
			}
			if _, benchErr = n.Commit(ctx); benchErr != nil {
				return
			}
		}
		benchHead, benchErr = n.Client().BlockNumber(ctx)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchNode, benchHead
}

// BenchmarkIngestRPC ingests the benchmark chain over loopback HTTP from the in-process
// node, one JSON-RPC call at a time versus batched requests with parallel workers.
func BenchmarkIngestRPC(b *testing.B) {
	n, head := benchChain(b)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	modes := []struct {
		name    string
		opts    ethereum.Options
		workers int
	}{
		{"sequential", ethereum.Options{Sequential: true, BlocksPerBatch: 1}, 1},
		{"batched", ethereum.Options{BlocksPerBatch: 8}, 1},
		{"batched+parallel", ethereum.Options{BlocksPerBatch: 8}, 4},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			m.opts.Logger = quiet
			c, err := ethereum.Dial(context.Background(), n.HTTPURL(), m.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			for b.Loop() {
				res, err := ethereum.Ingest(context.Background(), c, &tipStore{}, ethereum.IngestOptions{To: head, Workers: m.workers})
				if err != nil || res.Blocks != head+1 || res.NoTraces {
					b.Fatalf("%+v %v", res, err)
				}
			}
			b.ReportMetric(float64(head+1)*float64(b.N)/b.Elapsed().Seconds(), "blocks/s")
		})
	}
}

// delayTransport adds a fixed round-trip delay to every HTTP request: a node on a LAN or
// in another data centre instead of loopback.
type delayTransport struct {
	rtt  time.Duration
	next http.RoundTripper
}

func (d delayTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(d.rtt)
	return d.next.RoundTrip(r)
}

// BenchmarkIngestSpeedup measures, in the same run and alternating so that machine noise hits
// all alike, one-call-at-a-time ingestion, batched requests (8 blocks) with one worker, and
// batched requests with 4 parallel workers; it reports the median blocks/s of each and the
// speedup of the last over the first. "in-process" uses the node's
// in-process connection (no HTTP), "loopback" its HTTP endpoint on 127.0.0.1, and "rtt=1ms"
// puts a 1 ms round trip in front of every HTTP request (a node on the LAN), "rtt=20ms" a
// 20 ms one (a hosted provider).
func BenchmarkIngestSpeedup(b *testing.B) {
	n, head := benchChain(b)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, rtt := range []time.Duration{-1, 0, time.Millisecond, 20 * time.Millisecond} {
		name := "loopback"
		switch {
		case rtt < 0:
			name = "in-process"
		case rtt > 0:
			name = "rtt=" + rtt.String()
		}
		b.Run(name, func(b *testing.B) {
			dial := func(o ethereum.Options) *ethereum.Client {
				o.Logger = quiet
				if rtt < 0 {
					return ethereum.NewClient(n.RPC(), o)
				}
				hc := &http.Client{Transport: delayTransport{rtt: rtt, next: http.DefaultTransport}}
				rc, err := rpc.DialOptions(context.Background(), n.HTTPURL(), rpc.WithHTTPClient(hc))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(rc.Close)
				return ethereum.NewClient(rc, o)
			}
			seq := dial(ethereum.Options{Sequential: true, BlocksPerBatch: 1})
			par := dial(ethereum.Options{BlocksPerBatch: 8})
			var seqRates, batRates, parRates []float64
			run := func(c *ethereum.Client, workers int) float64 {
				res, err := ethereum.Ingest(context.Background(), c, &tipStore{}, ethereum.IngestOptions{To: head, Workers: workers})
				if err != nil || res.Blocks != head+1 {
					b.Fatalf("%+v %v", res, err)
				}
				return float64(res.Blocks) / res.Elapsed.Seconds()
			}
			for b.Loop() {
				seqRates = append(seqRates, run(seq, 1))
				batRates = append(batRates, run(par, 1))
				parRates = append(parRates, run(par, 4))
			}
			s, bt, p := median(seqRates), median(batRates), median(parRates)
			b.ReportMetric(s, "seq-blocks/s")
			b.ReportMetric(bt, "batched-blocks/s")
			b.ReportMetric(p, "batched-4workers-blocks/s")
			b.ReportMetric(p/s, "speedup")
		})
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
