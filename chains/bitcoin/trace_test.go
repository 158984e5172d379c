package bitcoin_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/stretchr/testify/require"
)

// Real mainnet history, blocks 1–255, read from blk framing. The spends in them are
// Satoshi's: block 170 pays Hal Finney 10 BTC out of the coinbase of block 9, then blocks
// 181, 182, 183 and 248 peel more payments off the change (always returned to
// 12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S), and blocks 187 and 221 forward two of the 1 BTC
// payments. Every transaction has one input and no fee.
//
// The seed is the first 20 BTC of the block 9 coinbase (0437cd7f…:0, 50 BTC), so that the
// methods differ. By hand:
//
//	haircut: every output carries 20/50 = 40 % taint
//	  170:0 Hal 10 → 4        170:1 change 40 → 16
//	  181:0 10 → 4            181:1 change 30 → 12
//	  182:0 1 → 0.4           182:1 change 29 → 11.6
//	  183:0 1 → 0.4           183:1 change 28 → 11.2
//	  187:0 (from 183:0) 1 → 0.4     221:0 (from 182:0) 1 → 0.4
//	  248:0 10 → 4            248:1 change 18 → 7.2
//	  unspent tainted: 170:0 4 + 181:0 4 + 187:0 0.4 + 221:0 0.4 + 248:0 4 + 248:1 7.2 = 20 BTC
//	FIFO: tainted units first, outputs filled in order
//	  170:0 Hal 10 → 10, 170:1 40 → 10;  181:0 10 → 10, 181:1 30 → 0;  nothing further
//	  unspent tainted: 170:0 10 + 181:0 10 = 20 BTC
func TestTraceMainnet1to255(t *testing.T) {
	const (
		tx170 = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
		tx181 = "a16f3ce4dd5deb92d98ef5cf8afeaf0775ebca408f708b2146c4fb42b41e14be"
		tx187 = "4385fcf8b14497d0659adccfe06ae7e38e0b5dc95ff8a13d7c62035994a0cd79"
		tx221 = "298ca2045d174f8a158961806ffc4ef96fad02d71a6b84d9fa0491813a776160"
		tx248 = "828ef3b079f9c23829c56fe86e85b4a69d9e06e5b54ea597eef5fb3ffef509fe"
		btc   = 100_000_000
	)
	want := map[string]map[string]uint64{
		trace.Haircut: {
			tx170 + ":0": 4 * btc, tx181 + ":0": 4 * btc, tx187 + ":0": 40_000_000,
			tx221 + ":0": 40_000_000, tx248 + ":0": 4 * btc, tx248 + ":1": 720_000_000,
		},
		trace.FIFO: {tx170 + ":0": 10 * btc, tx181 + ":0": 10 * btc},
	}
	hops := map[string]uint32{tx170 + ":0": 1, tx181 + ":0": 2, tx187 + ":0": 5, tx221 + ":0": 4, tx248 + ":0": 5, tx248 + ":1": 5}
	ctx := context.Background()
	bf := mustOpen(t, mainnet1to255(t), &chaincfg.MainNetParams)
	amount := graph.NewAmount(20 * btc)
	for method, unspent := range want {
		t.Run(method, func(t *testing.T) {
			eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: method,
				Seeds:  []trace.Seed{{Outpoint: &graph.Outpoint{TxID: coinbase9, Index: 0}, Source: "block9", Amount: &amount}},
				Params: trace.DefaultParams()})
			require.NoError(t, err)
			require.NoError(t, bitcoin.Stream(ctx, bf, eng.ApplyBlock))
			res := eng.Result()
			require.Equal(t, graph.NewAmount(20*btc), res.Injected[graph.BTC]["block9"])
			require.Len(t, res.Unspent, len(unspent))
			for op, v := range unspent {
				out := res.Unspent[op]
				require.NotNil(t, out, "unspent %s", op)
				require.Equal(t, graph.NewAmount(v), out.Tainted, "unspent %s", op)
				require.Len(t, out.Taint, 1)
				require.Equal(t, hops[op], out.Taint[0].Hop, "hop of %s", op)
			}
			require.Equal(t, graph.Address(halAddr), res.Unspent[tx170+":0"].Address)
			require.EqualValues(t, 255, res.Stats.Blocks)
		})
	}
}

// The same history through the store: ingest blk files (resumable: in two runs), then trace
// from the store; the store resolves every input, so fees are known (all zero here).
func TestIngestBlockFilesIntoStore(t *testing.T) {
	ctx := context.Background()
	bf := mustOpen(t, mainnet1to255(t), &chaincfg.MainNetParams)
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	defer st.Close()
	stats, err := bitcoin.Ingest(ctx, st, bf, bitcoin.IngestOptions{From: 1, To: 100})
	require.NoError(t, err)
	require.Equal(t, 100, stats.Written)
	require.EqualValues(t, 100, stats.Tip)
	stats, err = bitcoin.Ingest(ctx, st, bf, bitcoin.IngestOptions{})
	require.NoError(t, err)
	require.Equal(t, 155, stats.Written)
	require.EqualValues(t, 255, stats.Tip)
	h, err := bf.BlockHash(ctx, 255)
	require.NoError(t, err)
	require.Equal(t, h, stats.TipHash)

	var b170 *graph.Block
	require.NoError(t, st.Blocks(ctx, graph.Bitcoin, 170, 170, func(b *graph.Block) error { b170 = b; return nil }))
	in := b170.UTXOTxs[1].Inputs[0]
	require.True(t, in.Resolved)
	require.Equal(t, graph.Address(satoshi9Addr), in.Address)
	require.Equal(t, graph.NewAmount(50e8), in.Value)
	fee, err := b170.UTXOTxs[1].Fee()
	require.NoError(t, err)
	require.True(t, fee.IsZero())

	eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: trace.Haircut,
		Seeds: []trace.Seed{{Outpoint: &graph.Outpoint{TxID: coinbase9, Index: 0}, Source: "block9"}}, Params: trace.DefaultParams()})
	require.NoError(t, err)
	require.NoError(t, st.Blocks(ctx, graph.Bitcoin, 1, 255, eng.ApplyBlock))
	res := eng.Result()
	// The whole coinbase is the seed: everything downstream is fully tainted, 50 BTC in all.
	var sum graph.Amount
	for _, o := range res.Unspent {
		require.Equal(t, o.Value, o.Tainted)
		sum.Add(&sum, &o.Tainted)
	}
	require.Equal(t, graph.NewAmount(50e8), sum)
	require.Len(t, res.Unspent, 6)
}

// A node whose chain forks below the store's tip: mainnet blocks 1–50 followed by a
// competing block 51' (block 51 with another nonce). Ingest finds the fork point, rewinds
// the store from 100 to 50 and writes 51'.
func TestIngestRewindsToForkPoint(t *testing.T) {
	ctx := context.Background()
	net := &chaincfg.MainNetParams
	st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true})
	require.NoError(t, err)
	defer st.Close()
	_, err = bitcoin.Ingest(ctx, st, mustOpen(t, mainnet1to255(t), net), bitcoin.IngestOptions{From: 1, To: 100})
	require.NoError(t, err)

	raws := splitFrames(t, readBz2(t, "blocks1-256.bz2"), net)
	var fork wire.MsgBlock
	require.NoError(t, fork.Deserialize(bytes.NewReader(raws[50])))
	fork.Header.Nonce++
	var buf bytes.Buffer
	require.NoError(t, fork.Serialize(&buf))
	var frames [][]byte
	for _, r := range raws[:50] {
		frames = append(frames, frame(net, r))
	}
	frames = append(frames, frame(net, buf.Bytes()))
	dir := t.TempDir()
	writeBlk(t, dir, "blk00000.dat", [8]byte{}, 0, frames...)
	node := mustOpen(t, dir, net)

	stats, err := bitcoin.Ingest(ctx, st, node, bitcoin.IngestOptions{})
	require.NoError(t, err)
	require.Equal(t, 50, stats.RolledBack)
	require.Equal(t, 1, stats.Reorgs)
	require.Equal(t, 1, stats.Written)
	require.EqualValues(t, 51, stats.Tip)
	require.Equal(t, fork.BlockHash().String(), stats.TipHash)
	_, ok, err := st.BlockHash(ctx, graph.Bitcoin, 52)
	require.NoError(t, err)
	require.False(t, ok)
}
