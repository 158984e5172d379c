package bitcoin_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/btcsuite/btcd/txscript"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/thorchain"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/stretchr/testify/require"
)

// opReturn is a pseudo-wallet whose "address" is an OP_RETURN memo: a payment of 0 to it
// adds the memo output at that place of a transaction built by spend.
func opReturn(t *testing.T, memo string) *wallet {
	t.Helper()
	s, err := txscript.NullDataScript([]byte(memo))
	require.NoError(t, err)
	return &wallet{name: "op_return " + memo, script: s}
}

// THORChain vault transactions with real memos on btcd --regtest (with a transaction
// index, which the adapter uses to name the sender and the vault), ingested over RPC into a
// store: the parts the detector found are kept on the blocks, exactly these.
//
//	1..432      coinbases to the miner; segwit active
//	f  (433)    miner cb1 → U 10 BTC, V 20 BTC (the vault's holding), W 5 BTC, change
//	in1 (434)   U → V 3 BTC [0], OP_RETURN "SWAP:ETH.ETH:0x…" [1], change U [2]     inbound
//	out1 (434)  V → R 1.5 BTC [0], change V [1], OP_RETURN "OUT:<eth tx hash>" [2]   outbound
//	txt (434)   W → S 1 BTC [0], OP_RETURN "hello: world" [1], change W [2]          nothing
//	ref (435)   V (out1:1) → U 2 BTC [0], OP_RETURN "REFUND:<in1>" [1], change V [2] refund of in1
//	mig (435)   V (in1:0) → V2 [0], OP_RETURN "MIGRATE:434" [1]                      nothing
//	bad (435)   W (txt:2) → S [0], OP_RETURN "OUT:0xnothex" [1], change W [2]         warning
//	mix (435)   V (ref:2) + W (bad:2) → R [0], OP_RETURN "OUT:<eth tx hash 2>" [1]    warning
func TestThorchainRegtest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs btcd")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	miner := newWallet(t, "miner", false)
	U := newWallet(t, "thor user", false)
	V := newWallet(t, "thor vault", true)
	V2 := newWallet(t, "thor vault 2", true)
	W := newWallet(t, "bystander", false)
	R := newWallet(t, "recipient", true)
	S := newWallet(t, "shop", false)
	node := startBtcd(t, miner.addr, "--txindex")
	// 432 blocks: segwit activates (BIP 9 on regtest), so the vaults can be P2WPKH as
	// THORChain's are.
	const base = 432
	node.generate(t, base)
	cb1 := coinbaseCoin(t, ctx, node, 1, miner)

	const ethIn = "0x9a3b5e1f8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a"
	const ethIn2 = "0x1111111111111111111111111111111111111111111111111111111111111111"
	swap := "SWAP:ETH.ETH:0x1f9840a85d5af5bf1d1762f925bdaddc4201f984"

	f, fo := spend(t, []coin{cb1}, payment{U, 1_000_000_000}, payment{V, 2_000_000_000}, payment{W, 500_000_000}, payment{miner, 1_499_990_000})
	node.send(t, f)
	node.generate(t, 1) // base+1
	in1, in1o := spend(t, []coin{fo[0]}, payment{V, 300_000_000}, payment{opReturn(t, swap), 0}, payment{U, 699_990_000})
	out1, out1o := spend(t, []coin{fo[1]}, payment{R, 150_000_000}, payment{V, 1_849_990_000}, payment{opReturn(t, "OUT:"+ethIn), 0})
	txt, txto := spend(t, []coin{fo[2]}, payment{S, 100_000_000}, payment{opReturn(t, "hello: world"), 0}, payment{W, 399_990_000})
	node.send(t, in1)
	node.send(t, out1)
	node.send(t, txt)
	node.generate(t, 1) // base+2
	in1id := in1.TxHash().String()
	ref, refo := spend(t, []coin{out1o[1]}, payment{U, 200_000_000}, payment{opReturn(t, "REFUND:"+in1id), 0}, payment{V, 1_649_980_000})
	mig, _ := spend(t, []coin{in1o[0]}, payment{V2, 299_990_000}, payment{opReturn(t, "MIGRATE:434"), 0})
	bad, badO := spend(t, []coin{txto[2]}, payment{S, 100_000_000}, payment{opReturn(t, "OUT:0xnothex"), 0}, payment{W, 299_980_000})
	mix, _ := spend(t, []coin{refo[2], badO[2]}, payment{R, 1_949_950_000}, payment{opReturn(t, "OUT:"+ethIn2), 0})
	node.send(t, ref)
	node.send(t, mig)
	node.send(t, bad)
	node.send(t, mix)
	node.generate(t, 1) // base+3

	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	defer st.Close()
	var seen []bitcoin.Warning
	rpc, err := bitcoin.DialRPC(ctx, bitcoin.RPCConfig{Host: node.host, User: "chaintrace", Pass: "chaintrace",
		Net: node.net, Workers: 4, OnWarning: func(w bitcoin.Warning) { seen = append(seen, w) }})
	require.NoError(t, err)
	defer rpc.Close()
	stats, err := bitcoin.Ingest(ctx, st, rpc, bitcoin.IngestOptions{})
	require.NoError(t, err)
	require.EqualValues(t, base+3, stats.Tip)
	seen = seen[:len(seen):len(seen)] // what Ingest saw; the Stream below appends to a copy
	ingestSeen := seen

	// The parts, read back from the store.
	var parts []graph.LinkPart
	require.NoError(t, st.Blocks(ctx, graph.Bitcoin, 0, base+3, func(b *graph.Block) error {
		if b.Height != base+2 && b.Height != base+3 {
			require.Empty(t, b.Links, "block %d", b.Height)
		}
		parts = append(parts, b.Links...)
		return nil
	}))
	leg := func(txid string, i int) graph.Leg {
		return graph.Leg{Chain: graph.Bitcoin, Ref: graph.Outpoint{TxID: txid, Index: uint32(i)}.String()}
	}
	require.Len(t, parts, 3)
	// Streaming from the node (no store) finds the same parts, with the same evidence.
	var streamed []graph.LinkPart
	require.NoError(t, bitcoin.Stream(ctx, rpc.Source(0, base+3), func(b *graph.Block) error {
		streamed = append(streamed, b.Links...)
		return nil
	}))
	require.Equal(t, parts, streamed)
	t.Logf("evidence: %s", parts[0].Evidence)
	for i := range parts {
		require.NotEmpty(t, parts[i].Evidence)
		parts[i].Evidence = ""
	}
	// The node orders a block's transactions as it likes: compare as sets.
	require.ElementsMatch(t, []graph.LinkPart{
		{Key: thorchain.LinkKey(in1id), Kind: graph.LinkThorchain, Chain: graph.Bitcoin,
			In: []graph.Leg{leg(in1id, 0)}, Venues: []graph.Address{V.netAddr}},
		{Key: thorchain.LinkKey(ethIn), Kind: graph.LinkThorchain, Chain: graph.Bitcoin,
			Out: []graph.Leg{leg(out1.TxHash().String(), 0)}, Venues: []graph.Address{V.netAddr}},
		{Key: thorchain.LinkKey(in1id), Kind: graph.LinkThorchain, Chain: graph.Bitcoin,
			Out: []graph.Leg{leg(ref.TxHash().String(), 0)}, Venues: []graph.Address{V.netAddr}},
	}, parts)

	// The malformed OUT and the outbound spending from two addresses are warnings naming
	// their transactions; the plain text, the MIGRATE and everything else say nothing.
	require.Len(t, seen, 4, "ingest and stream saw each warning")
	seen = ingestSeen
	require.Len(t, seen, 2)
	if seen[0].Tx != bad.TxHash().String() {
		seen[0], seen[1] = seen[1], seen[0]
	}
	require.ErrorIs(t, seen[0], thorchain.ErrMemo)
	require.Equal(t, bad.TxHash().String(), seen[0].Tx)
	require.Equal(t, 1, seen[0].Output)
	require.EqualValues(t, base+3, seen[0].Height)
	require.ErrorIs(t, seen[1], bitcoin.ErrVaultInputs)
	require.Equal(t, mix.TxHash().String(), seen[1].Tx)
	kept, n := rpc.Warnings()
	require.Equal(t, 4, n)
	require.ElementsMatch(t, append(append([]bitcoin.Warning(nil), seen...), seen...), kept)
	_ = mig

	wantParts := parts
	wantWarnings := func(t *testing.T, seen []bitcoin.Warning) {
		t.Helper()
		require.Len(t, seen, 2)
		if seen[0].Tx != bad.TxHash().String() {
			seen[0], seen[1] = seen[1], seen[0]
		}
		require.ErrorIs(t, seen[0], thorchain.ErrMemo)
		require.ErrorIs(t, seen[1], bitcoin.ErrVaultInputs)
		require.Equal(t, mix.TxHash().String(), seen[1].Tx)
	}
	storedParts := func(t *testing.T, st *graph.Store) []graph.LinkPart {
		t.Helper()
		var got []graph.LinkPart
		require.NoError(t, st.Blocks(ctx, graph.Bitcoin, 0, base+3, func(b *graph.Block) error {
			got = append(got, b.Links...)
			return nil
		}))
		for i := range got {
			require.NotEmpty(t, got[i].Evidence)
			got[i].Evidence = ""
		}
		return got
	}
	// Without a transaction index the node cannot name the inputs' addresses: the memos
	// are warnings, unless the store being filled names them (StorePrevouts). A second
	// btcd, without --txindex, gets the first one's blocks.
	raws := make([][]byte, base+4)
	for h := range raws {
		hash, err := rpc.BlockHash(ctx, uint64(h))
		require.NoError(t, err)
		raws[h], err = rpc.RawBlock(ctx, hash)
		require.NoError(t, err)
	}
	plain := startBtcd(t, miner.addr)
	for h := 1; h < len(raws); h++ {
		_, err := plain.rpc.Client().RawRequest("submitblock", []json.RawMessage{jsonString(hex.EncodeToString(raws[h]))})
		require.NoError(t, err, "submitblock %d", h)
	}
	// streamWarnings streams src without a store: the memos whose inputs src cannot name
	// are warnings, no part is guessed.
	streamWarnings := func(t *testing.T, src bitcoin.Source, seen *[]bitcoin.Warning) {
		t.Helper()
		require.NoError(t, bitcoin.Stream(ctx, src, func(b *graph.Block) error {
			require.Empty(t, b.Links, "block %d", b.Height)
			return nil
		}))
		unknown := 0
		for _, w := range *seen {
			if errors.Is(w, bitcoin.ErrInputsUnknown) {
				unknown++
			}
		}
		// in1, out1, ref; bad is malformed before its inputs matter, and mix spends outputs
		// of its own block, whose addresses the block names.
		require.Equal(t, 3, unknown, "%v", *seen)
		require.Len(t, *seen, 5)
	}
	dialPlain := func(t *testing.T, seen *[]bitcoin.Warning) *bitcoin.RPC {
		rpc, err := bitcoin.DialRPC(ctx, bitcoin.RPCConfig{Host: plain.host, User: "chaintrace", Pass: "chaintrace",
			Net: plain.net, Workers: 4, OnWarning: func(w bitcoin.Warning) { *seen = append(*seen, w) }})
		require.NoError(t, err)
		t.Cleanup(rpc.Close)
		return rpc
	}
	t.Run("no txindex, stream", func(t *testing.T) {
		var seen []bitcoin.Warning
		streamWarnings(t, dialPlain(t, &seen).Source(0, base+3), &seen)
	})
	t.Run("no txindex, ingest", func(t *testing.T) {
		// Ingest names the inputs from the blocks it has stored.
		st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
		require.NoError(t, err)
		defer st.Close()
		var seen []bitcoin.Warning
		_, err = bitcoin.Ingest(ctx, st, dialPlain(t, &seen), bitcoin.IngestOptions{})
		require.NoError(t, err)
		require.ElementsMatch(t, wantParts, storedParts(t, st))
		wantWarnings(t, seen)
	})
	// Block files hold no prevouts either: the same, from blk00000.dat.
	dir := t.TempDir()
	frames := make([][]byte, len(raws))
	for h := range raws {
		frames[h] = frame(node.net, raws[h])
	}
	writeBlk(t, dir, "blk00000.dat", [8]byte{}, 0, frames...)
	openBlk := func(t *testing.T, seen *[]bitcoin.Warning, look bitcoin.PrevoutLookup) *bitcoin.BlockFiles {
		bf, err := bitcoin.OpenBlockFiles(ctx, dir, bitcoin.BlockFilesOptions{Net: node.net, Workers: 2,
			OnWarning: func(w bitcoin.Warning) { *seen = append(*seen, w) }, Prevouts: look})
		require.NoError(t, err)
		t.Cleanup(func() { bf.Close() })
		return bf
	}
	t.Run("block files, stream", func(t *testing.T) {
		var seen []bitcoin.Warning
		streamWarnings(t, openBlk(t, &seen, nil), &seen)
	})
	for _, explicit := range []bool{false, true} {
		t.Run(fmt.Sprintf("block files, ingest, Prevouts option %v", explicit), func(t *testing.T) {
			st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
			require.NoError(t, err)
			defer st.Close()
			var look bitcoin.PrevoutLookup
			if explicit {
				look = bitcoin.StorePrevouts(st)
			}
			var seen []bitcoin.Warning
			bf := openBlk(t, &seen, look)
			_, err = bitcoin.Ingest(ctx, st, bf, bitcoin.IngestOptions{})
			require.NoError(t, err)
			require.ElementsMatch(t, wantParts, storedParts(t, st))
			wantWarnings(t, seen)
			kept, n := bf.Warnings()
			require.Equal(t, 2, n)
			require.ElementsMatch(t, seen, kept)
		})
	}

	// Joined: the Bitcoin inbound and its refund are one complete link; the outbound of an
	// Ethereum inbound not read here is an orphan.
	j, err := graph.JoinLinks(parts)
	require.NoError(t, err)
	require.Len(t, j.Links, 1)
	require.Equal(t, []graph.Leg{leg(in1id, 0)}, j.Links[0].In)
	require.Equal(t, []graph.Leg{leg(ref.TxHash().String(), 0)}, j.Links[0].Out)
	require.Len(t, j.Orphans, 1)
	require.Equal(t, thorchain.LinkKey(ethIn), j.Orphans[0].Key)
	require.Equal(t, []graph.Address{V.netAddr}, j.Venues[graph.Bitcoin])
}
