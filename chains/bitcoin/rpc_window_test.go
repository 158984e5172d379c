package bitcoin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

// A window over a real btcd node with --txindex: blocks 105..112 of a regtest chain whose
// spends come from coinbases of blocks 1–3. The inputs from before the window are resolved
// with getrawtransaction; the exposure of the exchange equals the full replay's, streamed
// and through a store that holds only the window.
//
//	block 111  t1: cb1 → L 30 BTC + miner change;  t2: cb2 → C 49.9999 BTC
//	block 112  t3: L + C → E 40 BTC + K rest;        t4: cb3 → E 5 BTC + miner change
//
// The seed is 20 BTC of cb1 (an outpoint from before the window), so haircut and FIFO
// differ from poison.
func TestRegtestWindowTxIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs btcd")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	miner := newWallet(t, "miner", false)
	L := newWallet(t, "lazarus", false)
	C := newWallet(t, "clean", false)
	E := newWallet(t, "exchange", false)
	K := newWallet(t, "consolidated", false)
	node := startBtcd(t, miner.addr, "--txindex")
	node.generate(t, 110)
	cb1 := coinbaseCoin(t, ctx, node, 1, miner)
	cb2 := coinbaseCoin(t, ctx, node, 2, miner)
	cb3 := coinbaseCoin(t, ctx, node, 3, miner)
	t1, o1 := spend(t, []coin{cb1}, payment{L, 3_000_000_000}, payment{miner, 1_999_990_000})
	t2, o2 := spend(t, []coin{cb2}, payment{C, 4_999_990_000})
	node.send(t, t1)
	node.send(t, t2)
	node.generate(t, 1) // 111
	t3, _ := spend(t, []coin{o1[0], o2[0]}, payment{E, 4_000_000_000}, payment{K, 3_999_980_000})
	t4, _ := spend(t, []coin{cb3}, payment{E, 500_000_000}, payment{miner, 4_499_990_000})
	node.send(t, t3)
	node.send(t, t4)
	node.generate(t, 1) // 112

	const start, tip = 105, 112
	seedAmount := graph.NewAmount(2_000_000_000)
	cb1op := graph.Outpoint{TxID: cb1.op.Hash.String(), Index: 0}
	run := func(method string, replay func(func(*graph.Block) error) error) *trace.Result {
		eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: method,
			Seeds:     []trace.Seed{{Outpoint: &cb1op, Source: "theft", Amount: &seedAmount}},
			Exchanges: map[string][]graph.Address{"exchange": {E.netAddr}},
			Params:    trace.DefaultParams()})
		require.NoError(t, err)
		require.NoError(t, replay(eng.ApplyBlock))
		return eng.Result()
	}
	// Two windows over the same node: btcd itself (getrawtransaction, --txindex), and btcd
	// behind a front that answers getblock <hash> 3 in bitcoind's form (bitcoind ≥ 23: a
	// prevout on every input), so that the path bitcoind takes is played on real data.
	front := bitcoindFront(t, node)
	defer front.Close()
	// btcd takes the getrawtransaction lookups as JSON-RPC batches; a node that refuses
	// batches (here a front answering them 500) gets single requests.
	var batches, refused atomic.Int32
	target, err := url.Parse("http://" + node.host)
	require.NoError(t, err)
	counting := func(refuse bool) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
				if refuse {
					refused.Add(1)
					http.Error(w, "batch requests are not allowed", http.StatusForbidden)
					return
				}
				batches.Add(1)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
		}))
	}
	batching, noBatches := counting(false), counting(true)
	defer batching.Close()
	defer noBatches.Close()
	for _, tc := range []struct {
		host   string
		method bitcoin.PrevoutMethod
	}{
		{strings.TrimPrefix(batching.URL, "http://"), "txindex"},
		{strings.TrimPrefix(noBatches.URL, "http://"), "txindex"},
		{strings.TrimPrefix(front.URL, "http://"), "getblock3"},
	} {
		win, err := bitcoin.DialRPC(ctx, bitcoin.RPCConfig{Host: tc.host, User: "chaintrace", Pass: "chaintrace",
			Net: node.net, WindowStart: start})
		require.NoError(t, err)
		defer win.Close()
		checkRPCWindow(t, ctx, node, win, tc.method, run, start, tip, E)
	}
	require.Positive(t, batches.Load())
	require.EqualValues(t, 1, refused.Load(), "one refused batch, then single requests")
}

func checkRPCWindow(t *testing.T, ctx context.Context, node *regtestNode, win *bitcoin.RPC, prevouts bitcoin.PrevoutMethod,
	run func(string, func(func(*graph.Block) error) error) *trace.Result, start, tip uint64, E *wallet) {
	t.Helper()
	for _, method := range []string{trace.Haircut, trace.Poison, trace.FIFO} {
		full := run(method, func(fn func(*graph.Block) error) error {
			return bitcoin.Stream(ctx, node.rpc.Source(0, tip), fn)
		})
		x := full.Exposure["exchange"].Asset(graph.BTC)
		require.NotNil(t, x, method)
		require.False(t, x.TaintedTotal.IsZero(), method)
		w := run(method, func(fn func(*graph.Block) error) error {
			return bitcoin.Stream(ctx, win.Source(start, tip), fn)
		})
		require.Equal(t, full.Exposure, w.Exposure, method)
		require.Positive(t, w.Stats.OutsideWindowInputs)
		require.Equal(t, prevouts, win.PrevoutMethod())

		st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
		require.NoError(t, err)
		require.NoError(t, st.SetWindowStart(ctx, graph.Bitcoin, start))
		_, err = bitcoin.Ingest(ctx, st, win, bitcoin.IngestOptions{From: start, To: tip})
		require.NoError(t, err)
		stored := run(method, func(fn func(*graph.Block) error) error { return st.Blocks(ctx, graph.Bitcoin, start, tip, fn) })
		require.NoError(t, st.Close())
		require.Equal(t, full.Exposure, stored.Exposure, method)
	}
}

// A btcd node without --txindex cannot give a window its prevouts: the error names the
// option.
func TestRegtestWindowWithoutTxIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs btcd")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	miner := newWallet(t, "miner", false)
	L := newWallet(t, "lazarus", false)
	node := startBtcd(t, miner.addr)
	node.generate(t, 101)
	cb1 := coinbaseCoin(t, ctx, node, 1, miner)
	t1, _ := spend(t, []coin{cb1}, payment{L, 3_000_000_000}, payment{miner, 1_999_990_000})
	node.send(t, t1)
	node.generate(t, 1) // 102
	win, err := bitcoin.DialRPC(ctx, bitcoin.RPCConfig{Host: node.host, User: "chaintrace", Pass: "chaintrace",
		Net: node.net, WindowStart: 50})
	require.NoError(t, err)
	defer win.Close()
	err = bitcoin.Stream(ctx, win.Source(50, 102), func(*graph.Block) error { return nil })
	require.ErrorIs(t, err, bitcoin.ErrNoPrevouts)
	require.ErrorContains(t, err, "--txindex")
	require.ErrorContains(t, err, "block 102")
	t.Log(err)
}

// bitcoindFront is an HTTP JSON-RPC front for btcd (run with --txindex) that answers
// getblock <hash> 3 as bitcoind ≥ 23 does — transactions under "tx", each input with a
// "prevout" {generated, height, value (BTC, 8 decimals), scriptPubKey {hex}} — built from
// btcd's own getblock 2, getrawtransaction and getblockheader answers, and passes every
// other call through.
func bitcoindFront(t *testing.T, node *regtestNode) *httptest.Server {
	target, err := url.Parse("http://" + node.host)
	require.NoError(t, err)
	pass := httputil.NewSingleHostReverseProxy(target)
	call := func(method string, params ...any) (json.RawMessage, error) {
		raw := make([]json.RawMessage, len(params))
		for i, p := range params {
			raw[i], _ = json.Marshal(p)
		}
		return node.rpc.Client().RawRequest(method, raw)
	}
	getblock3 := func(hash string) (any, error) {
		res, err := call("getblock", hash, 2)
		if err != nil {
			return nil, err
		}
		var blk struct {
			Hash  string `json:"hash"`
			RawTx []struct {
				Txid string `json:"txid"`
				Vin  []struct {
					Coinbase string `json:"coinbase"`
					Txid     string `json:"txid"`
					Vout     uint32 `json:"vout"`
				} `json:"vin"`
			} `json:"rawtx"`
		}
		if err := json.Unmarshal(res, &blk); err != nil {
			return nil, err
		}
		type vin map[string]any
		var txs []map[string]any
		for _, tx := range blk.RawTx {
			var ins []vin
			for _, in := range tx.Vin {
				if in.Coinbase != "" {
					ins = append(ins, vin{"coinbase": in.Coinbase})
					continue
				}
				res, err := call("getrawtransaction", in.Txid, 1)
				if err != nil {
					return nil, err
				}
				var prev struct {
					BlockHash string `json:"blockhash"`
					Vin       []struct {
						Coinbase string `json:"coinbase"`
					} `json:"vin"`
					Vout []struct {
						Value        float64 `json:"value"`
						ScriptPubKey struct {
							Hex string `json:"hex"`
						} `json:"scriptPubKey"`
					} `json:"vout"`
				}
				if err := json.Unmarshal(res, &prev); err != nil {
					return nil, err
				}
				res, err = call("getblockheader", prev.BlockHash, true)
				if err != nil {
					return nil, err
				}
				var hdr struct {
					Height uint64 `json:"height"`
				}
				if err := json.Unmarshal(res, &hdr); err != nil {
					return nil, err
				}
				o := prev.Vout[in.Vout]
				ins = append(ins, vin{"txid": in.Txid, "vout": in.Vout, "prevout": map[string]any{
					"generated": len(prev.Vin) > 0 && prev.Vin[0].Coinbase != "", "height": hdr.Height,
					"value":        json.Number(strconv.FormatFloat(o.Value, 'f', 8, 64)),
					"scriptPubKey": map[string]any{"hex": o.ScriptPubKey.Hex}}})
			}
			txs = append(txs, map[string]any{"txid": tx.Txid, "vin": ins})
		}
		return map[string]any{"hash": blk.Hash, "tx": txs}, nil
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req struct {
			ID     json.RawMessage   `json:"id"`
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		if json.Unmarshal(body, &req) == nil && req.Method == "getblock" && len(req.Params) == 2 && string(req.Params[1]) == "3" {
			var hash string
			_ = json.Unmarshal(req.Params[0], &hash)
			res, err := getblock3(hash)
			w.Header().Set("Content-Type", "application/json")
			if err != nil {
				_ = json.NewEncoder(w).Encode(map[string]any{"id": req.ID, "result": nil,
					"error": map[string]any{"code": -5, "message": err.Error()}})
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"id": req.ID, "result": res, "error": nil})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		pass.ServeHTTP(w, r)
	}))
}
