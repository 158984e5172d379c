package bitcoin_test

import (
	"context"
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
	run := func(method string, replay func(fn func(*graph.Block) error) error) *trace.Result {
		eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: method,
			Seeds:     []trace.Seed{{Outpoint: &cb1op, Source: "theft", Amount: &seedAmount}},
			Exchanges: map[string][]graph.Address{"exchange": {E.netAddr}},
			Params:    trace.DefaultParams()})
		require.NoError(t, err)
		require.NoError(t, replay(eng.ApplyBlock))
		return eng.Result()
	}
	win, err := bitcoin.DialRPC(ctx, bitcoin.RPCConfig{Host: node.host, User: "chaintrace", Pass: "chaintrace",
		Net: node.net, WindowStart: start})
	require.NoError(t, err)
	defer win.Close()
	for _, method := range []string{trace.Haircut, trace.Poison, trace.FIFO} {
		full := run(method, func(fn func(*graph.Block) error) error {
			return bitcoin.Stream(ctx, node.rpc.Source(0, tip), fn)
		})
		x := full.Exposure["exchange"]
		require.NotNil(t, x, method)
		require.False(t, x.TaintedTotal.IsZero(), method)
		w := run(method, func(fn func(*graph.Block) error) error {
			return bitcoin.Stream(ctx, win.Source(start, tip), fn)
		})
		require.Equal(t, full.Exposure, w.Exposure, method)
		require.Positive(t, w.Stats.OutsideWindowInputs)
		require.Equal(t, bitcoin.PrevoutMethod("txindex"), win.PrevoutMethod())

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
