package bitcoin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

func coinbaseCoin(t *testing.T, ctx context.Context, n *regtestNode, height uint64, owner *wallet) coin {
	t.Helper()
	b, err := n.rpc.Block(ctx, height)
	require.NoError(t, err)
	cb := b.UTXOTxs[0]
	require.True(t, cb.Coinbase)
	require.Equal(t, owner.netAddr, cb.Outputs[0].Address)
	h, err := chainhash.NewHashFromStr(cb.TxID)
	require.NoError(t, err)
	return coin{op: wire.OutPoint{Hash: *h, Index: 0}, value: int64(cb.Outputs[0].Value.Uint64()), owner: owner}
}

// traceExpect are hand-computed figures for the regtest scenario (see the test comment).
type traceExpect struct {
	tainted, direct, indirect uint64 // exposure of the exchange
	fees                      uint64 // taint sunk into fees
	change                    uint64 // taint left on the final change output K2
}

// A real node: btcd --regtest on loopback, transactions signed here with keys we control.
//
//	block 1, 2   coinbases to the miner (50 BTC each); 430 more blocks activate segwit
//	t1 (433)     miner cb1 → L 30 BTC (the "Lazarus" seed address), change
//	t2 (433)     miner cb2 → C 20 BTC (clean money), change
//	p1 (434)     peel: L 30 → E 5 BTC (exchange, P2WPKH) + P1 24.9999 BTC (P2WPKH), fee 10,000 sat
//	p2 (434)     peel: P1 → E 5 BTC + P2 19.9998 BTC, fee 10,000
//	c1 (435)     consolidation: P2 + C → K 39.9997 BTC, fee 10,000
//	x1 (435)     payment: K → E 10 BTC + K2 29.9996 BTC, fee 10,000
//
// Haircut (spec §7.3, Hamilton rounding): p1, p2 outputs are fully tainted. c1 pools
// 1,999,980,000 tainted + 2,000,000,000 clean: K gets 1,999,975,000 tainted, the fee 5,000.
// x1: E gets 499,997,500 tainted, K2 1,499,972,500, the fee 5,000. The exchange received
// 2,000,000,000: tainted 500,000,000 (hop 1, direct) + 500,000,000 (hop 2) + 499,997,500
// (hop 4) = 1,499,997,500. Fees: 10,000 + 10,000 + 5,000 + 5,000 = 30,000. Conservation:
// 1,499,997,500 + 30,000 + 1,499,972,500 = 3,000,000,000 injected.
//
// FIFO (spec §7.4): c1 puts P2's 1,999,980,000 tainted first into K, then 1,999,990,000
// clean; the fee takes the last 10,000 clean. x1: E's 10 BTC come first out of K: all
// tainted; K2 keeps 999,980,000 tainted. Exchange tainted: 2,000,000,000 (500,000,000
// direct). Fees: 20,000.
func TestRegtestNodeIngestTraceReorg(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs btcd")
	}
	// Generous: on a shared 2-core machine, building btcd and mining the 432 segwit
	// activation blocks alone can take minutes while other test packages run beside it.
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()

	miner := newWallet(t, "miner", false)
	L := newWallet(t, "lazarus", false)
	C := newWallet(t, "clean", false)
	P1 := newWallet(t, "peel1", true)
	P2 := newWallet(t, "peel2", false)
	E := newWallet(t, "exchange", true)
	K := newWallet(t, "consolidated", false)
	K2 := newWallet(t, "change", false)
	other := newWallet(t, "other", true)

	node := startBtcd(t, miner.addr)
	// 432 blocks: segwit activates through BIP 9 on regtest (3 windows of 144 blocks);
	// the coinbases of blocks 1 and 2 are mature long before.
	node.generate(t, 432)
	const base = 432
	cb1 := coinbaseCoin(t, ctx, node, 1, miner)
	cb2 := coinbaseCoin(t, ctx, node, 2, miner)
	require.EqualValues(t, 5_000_000_000, cb1.value)

	t1, o1 := spend(t, []coin{cb1}, payment{L, 3_000_000_000}, payment{miner, 1_999_990_000})
	t2, o2 := spend(t, []coin{cb2}, payment{C, 2_000_000_000}, payment{miner, 2_999_990_000})
	node.send(t, t1)
	node.send(t, t2)
	node.generate(t, 1) // base+1
	p1, op1 := spend(t, []coin{o1[0]}, payment{E, 500_000_000}, payment{P1, 2_499_990_000})
	p2, op2 := spend(t, []coin{op1[1]}, payment{E, 500_000_000}, payment{P2, 1_999_980_000})
	node.send(t, p1)
	node.send(t, p2)
	node.generate(t, 1) // base+2
	c1, oc := spend(t, []coin{op2[1], o2[0]}, payment{K, 3_999_970_000})
	x1, _ := spend(t, []coin{oc[0]}, payment{E, 1_000_000_000}, payment{K2, 2_999_960_000})
	node.send(t, c1)
	node.send(t, x1)
	node.generate(t, 1) // base+3

	// Ingest over RPC into a real store on disk, with progress reports.
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	defer st.Close()
	var progress []bitcoin.Progress
	rpc, err := bitcoin.DialRPC(ctx, bitcoin.RPCConfig{Host: node.host, User: "chaintrace", Pass: "chaintrace",
		Net: node.net, Workers: 4, Progress: func(p bitcoin.Progress) { progress = append(progress, p) }})
	require.NoError(t, err)
	defer rpc.Close()
	stats, err := bitcoin.Ingest(ctx, st, rpc, bitcoin.IngestOptions{})
	require.NoError(t, err)
	require.Equal(t, base+4, stats.Written)
	require.EqualValues(t, base+3, stats.Tip)
	require.Len(t, progress, base+4)
	require.EqualValues(t, base+3, progress[base+3].Height)
	require.Equal(t, base+4, progress[base+3].Blocks)

	// The store resolved every input: c1's inputs carry their addresses and values, its fee
	// is known.
	var stored *graph.Block
	require.NoError(t, st.Blocks(ctx, graph.Bitcoin, base+3, base+3, func(b *graph.Block) error { stored = b; return nil }))
	require.Len(t, stored.UTXOTxs, 3)
	sc1 := stored.UTXOTxs[1]
	require.Equal(t, c1.TxHash().String(), sc1.TxID)
	require.Equal(t, []graph.TxIn{
		{Prev: graph.Outpoint{TxID: p2.TxHash().String(), Index: 1}, Address: P2.netAddr, Value: graph.NewAmount(1_999_980_000), Resolved: true},
		{Prev: graph.Outpoint{TxID: t2.TxHash().String(), Index: 0}, Address: C.netAddr, Value: graph.NewAmount(2_000_000_000), Resolved: true},
	}, sc1.Inputs)
	fee, err := sc1.Fee()
	require.NoError(t, err)
	require.Equal(t, graph.NewAmount(10_000), fee)
	require.Equal(t, x1.TxHash().String(), stored.UTXOTxs[2].TxID)
	require.Equal(t, []graph.TxOut{{Address: E.netAddr, Value: graph.NewAmount(1_000_000_000)}, {Address: K2.netAddr, Value: graph.NewAmount(2_999_960_000)}},
		stored.UTXOTxs[2].Outputs)

	k2 := graph.Outpoint{TxID: x1.TxHash().String(), Index: 1}.String()
	want := map[string]traceExpect{
		trace.Haircut: {tainted: 1_499_997_500, direct: 500_000_000, indirect: 999_997_500, fees: 30_000, change: 1_499_972_500},
		trace.FIFO:    {tainted: 2_000_000_000, direct: 500_000_000, indirect: 1_500_000_000, fees: 20_000, change: 999_980_000},
	}
	check := func(t *testing.T, method string, res *trace.Result) {
		w := want[method]
		exp := res.Exposure["ExchA"].Assets[graph.BTC]
		require.NotNil(t, exp, "exposure of ExchA")
		require.Equal(t, graph.NewAmount(2_000_000_000), exp.ReceivedTotal)
		require.Equal(t, graph.NewAmount(w.tainted), exp.TaintedTotal)
		require.Equal(t, graph.NewAmount(w.direct), exp.Direct)
		require.Equal(t, graph.NewAmount(w.indirect), exp.Indirect)
		require.Equal(t, graph.NewAmount(w.fees), *res.Sinks.Get(graph.BTC, trace.SinkFees, "lazarus"))
		require.Equal(t, graph.NewAmount(3_000_000_000), res.Injected[graph.BTC]["lazarus"])
		require.Contains(t, res.Unspent, k2)
		require.Equal(t, graph.NewAmount(w.change), res.Unspent[k2].Tainted)
	}
	newEngine := func(method string) *trace.Engine {
		eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: method,
			Seeds:     []trace.Seed{{Address: L.netAddr, Source: "lazarus"}},
			Exchanges: map[string][]graph.Address{"ExchA": {E.netAddr}},
			Params:    trace.DefaultParams()})
		require.NoError(t, err)
		return eng
	}
	for method := range want {
		t.Run("store/"+method, func(t *testing.T) {
			eng := newEngine(method)
			require.NoError(t, st.Blocks(ctx, graph.Bitcoin, 0, base+3, eng.ApplyBlock))
			check(t, method, eng.Result())

			// Streaming straight from the node, without the store, gives the same result.
			streamed := newEngine(method)
			require.NoError(t, bitcoin.Stream(ctx, node.rpc.Source(0, base+3), streamed.ApplyBlock))
			a, err := json.Marshal(eng.Result())
			require.NoError(t, err)
			b, err := json.Marshal(streamed.Result())
			require.NoError(t, err)
			require.JSONEq(t, string(a), string(b))
		})
	}

	// Resuming with nothing new writes nothing.
	stats, err = bitcoin.Ingest(ctx, st, node.rpc, bitcoin.IngestOptions{})
	require.NoError(t, err)
	require.Equal(t, 0, stats.Written)

	// A reorg on the node: block 104 is invalidated and a longer branch mined, with one more
	// transaction so its blocks differ. Ingest rolls the store back and follows.
	old104, err := node.rpc.BlockHash(ctx, base+3)
	require.NoError(t, err)
	h104, err := chainhash.NewHashFromStr(old104)
	require.NoError(t, err)
	require.NoError(t, node.rpc.Client().InvalidateBlock(h104))
	t3, _ := spend(t, []coin{o2[1]}, payment{other, 2_999_980_000})
	node.send(t, t3)
	mempool, err := node.rpc.Client().GetRawMempool()
	require.NoError(t, err)
	inPool := map[chainhash.Hash]bool{}
	for _, h := range mempool {
		inPool[*h] = true
	}
	for _, tx := range []*wire.MsgTx{c1, x1} { // btcd returns disconnected txs to the mempool; make sure
		if !inPool[tx.TxHash()] {
			node.send(t, tx)
		}
	}
	node.generate(t, 2) // a new base+3 and base+4
	new104, err := node.rpc.BlockHash(ctx, base+3)
	require.NoError(t, err)
	require.NotEqual(t, old104, new104)

	stats, err = bitcoin.Ingest(ctx, st, node.rpc, bitcoin.IngestOptions{})
	require.NoError(t, err)
	require.Equal(t, 1, stats.RolledBack)
	require.Equal(t, 1, stats.Reorgs)
	require.Equal(t, 2, stats.Written)
	require.EqualValues(t, base+4, stats.Tip)
	for h := uint64(base - 5); h <= base+4; h++ {
		nh, err := node.rpc.BlockHash(ctx, h)
		require.NoError(t, err)
		sh, ok, err := st.BlockHash(ctx, graph.Bitcoin, h)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, nh, sh, "height %d", h)
	}
	// The new branch holds c1, x1 and t3: the trace over the store gives the same figures.
	for method := range want {
		eng := newEngine(method)
		require.NoError(t, st.Blocks(ctx, graph.Bitcoin, 0, base+4, eng.ApplyBlock))
		check(t, method, eng.Result())
	}
}

// Fault injection in front of a real node: a proxy answers the first requests with 503
// "Work queue depth exceeded", as bitcoind does when parallel requests outrun its work
// queue. RPC retries them with backoff and the fetch succeeds; with fewer retries than
// failures it fails with ErrRPC naming the request.
func TestRPCRetriesTransientErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs btcd")
	}
	miner := newWallet(t, "miner", false)
	node := startBtcd(t, miner.addr)
	node.generate(t, 3)
	target, err := url.Parse("http://" + node.host)
	require.NoError(t, err)
	var failures atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failures.Add(-1) >= 0 {
			http.Error(w, "Work queue depth exceeded", http.StatusServiceUnavailable)
			return
		}
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	defer proxy.Close()
	cfg := bitcoin.RPCConfig{Host: strings.TrimPrefix(proxy.URL, "http://"), User: "chaintrace", Pass: "chaintrace",
		Net: &chaincfg.RegressionNetParams, Retries: 4, Backoff: 10 * time.Millisecond}
	failures.Store(3)
	rpc, err := bitcoin.DialRPC(context.Background(), cfg)
	require.NoError(t, err)
	defer rpc.Close()
	failures.Store(2)
	b, err := rpc.Block(context.Background(), 3)
	require.NoError(t, err)
	want, err := node.rpc.BlockHash(context.Background(), 3)
	require.NoError(t, err)
	require.Equal(t, want, b.Hash)

	failures.Store(10)
	_, err = rpc.BlockHash(context.Background(), 2)
	require.ErrorIs(t, err, bitcoin.ErrRPC)
	require.Contains(t, err.Error(), "getblockhash")
	require.Contains(t, err.Error(), "attempt 5")

	// A final error (unknown height) is not retried.
	failures.Store(0)
	_, err = rpc.BlockHash(context.Background(), 99)
	require.ErrorIs(t, err, bitcoin.ErrRPC)
	require.Contains(t, err.Error(), "attempt 1")
}
