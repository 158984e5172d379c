package graph

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/require"
)

func openMem(t testing.TB, opts ...func(*StoreOptions)) *Store {
	t.Helper()
	o := StoreOptions{InMemory: true, MemTableSize: 16 << 20, BlockCacheSize: 8 << 20, IndexCacheSize: 8 << 20}
	for _, f := range opts {
		f(&o)
	}
	st, err := OpenStore(context.Background(), o)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func openDir(t testing.TB, dir string) *Store {
	t.Helper()
	st, err := OpenStore(context.Background(), StoreOptions{Dir: dir, MemTableSize: 16 << 20, BlockCacheSize: 8 << 20, IndexCacheSize: 8 << 20})
	require.NoError(t, err)
	return st
}

func writeAll(t testing.TB, st *Store, blocks []Block) WriteStats {
	t.Helper()
	var total WriteStats
	for i := range blocks {
		b := CloneBlock(&blocks[i])
		s, err := st.WriteBlockStats(context.Background(), &b)
		require.NoError(t, err, "block %d", b.Height)
		total.Resolved += s.Resolved
		total.OutsideWindow += s.OutsideWindow
		total.RolledBack += s.RolledBack
	}
	return total
}

func readAll(t testing.TB, st *Store, c Chain) []Block {
	t.Helper()
	var out []Block
	require.NoError(t, st.Blocks(context.Background(), c, 0, ^uint64(0), func(b *Block) error {
		out = append(out, *b)
		return nil
	}))
	return out
}

// dump returns every key/value of the store, for comparing two stores exactly.
func dump(t testing.TB, st *Store) map[string]string {
	t.Helper()
	m := map[string]string{}
	require.NoError(t, st.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			m[string(it.Item().KeyCopy(nil))] = string(v)
		}
		return nil
	}))
	return m
}

func TestStoreRoundTripUTXO(t *testing.T) {
	ctx := context.Background()
	g := GenerateUTXO(1, 3000, 60)
	st := openMem(t)
	stats := writeAll(t, st, g.Unresolved())
	inputs := 0
	for _, b := range g.Blocks {
		for _, tx := range b.UTXOTxs {
			inputs += len(tx.Inputs)
		}
	}
	require.Equal(t, inputs, stats.Resolved, "every input resolved from the outpoint index")
	require.Zero(t, stats.OutsideWindow)

	got := readAll(t, st, Bitcoin)
	require.Equal(t, len(g.Blocks), len(got))
	for i := range got {
		if !reflect.DeepEqual(g.Blocks[i], got[i]) {
			t.Fatalf("block %d differs after the round trip:\nwant %+v\ngot  %+v", i, g.Blocks[i], got[i])
		}
	}
	last := g.Blocks[len(g.Blocks)-1]
	h, hash, ok, err := st.Tip(ctx, Bitcoin)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, last.Height, h)
	require.Equal(t, last.Hash, hash)

	// A sub-range, a single block, a hash.
	var heights []uint64
	require.NoError(t, st.Blocks(ctx, Bitcoin, 10, 14, func(b *Block) error { heights = append(heights, b.Height); return nil }))
	require.Equal(t, []uint64{10, 11, 12, 13, 14}, heights)
	b7, err := st.Block(ctx, Bitcoin, 7)
	require.NoError(t, err)
	require.Equal(t, g.Blocks[7], *b7)
	_, err = st.Block(ctx, Bitcoin, 1e9)
	require.ErrorIs(t, err, ErrNotFound)
	hash, ok, err = st.BlockHash(ctx, Bitcoin, 3)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, g.Blocks[3].Hash, hash)
	_, _, ok, err = st.Tip(ctx, Ethereum)
	require.NoError(t, err)
	require.False(t, ok, "no ethereum blocks")

	rep, err := st.Verify(ctx, Bitcoin)
	require.NoError(t, err)
	require.Equal(t, len(g.Blocks), rep.Blocks)

	// fn's error stops the scan and comes back as is.
	stop := errors.New("stop")
	n := 0
	err = st.Blocks(ctx, Bitcoin, 0, ^uint64(0), func(*Block) error { n++; return stop })
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, n)
}

func TestStoreRoundTripAccount(t *testing.T) {
	g := GenerateAccount(2, 3000, 40)
	st := openMem(t)
	writeAll(t, st, g.Blocks)
	got := readAll(t, st, Ethereum)
	require.Equal(t, len(g.Blocks), len(got))
	for i := range got {
		if !reflect.DeepEqual(g.Blocks[i], got[i]) {
			t.Fatalf("block %d differs after the round trip:\nwant %+v\ngot  %+v", i, g.Blocks[i], got[i])
		}
	}
	_, err := st.Verify(context.Background(), Ethereum)
	require.NoError(t, err)
}

// Both chains in one store stay apart.
func TestStoreTwoChains(t *testing.T) {
	u := GenerateUTXO(3, 500, 20)
	a := GenerateAccount(3, 500, 20)
	st := openMem(t)
	writeAll(t, st, u.Unresolved())
	writeAll(t, st, a.Blocks)
	require.Equal(t, u.Blocks, readAll(t, st, Bitcoin))
	require.Equal(t, a.Blocks, readAll(t, st, Ethereum))
	for _, c := range []Chain{Bitcoin, Ethereum} {
		_, err := st.Verify(context.Background(), c)
		require.NoError(t, err)
	}
}

func TestStorePrevoutResolution(t *testing.T) {
	ctx := context.Background()
	cb := Block{Chain: Bitcoin, Height: 100, Hash: "b100", UTXOTxs: []UTXOTx{
		{TxID: "cb", Coinbase: true, Outputs: []TxOut{{Address: "A", Value: NewAmount(50)}, {Address: "B", Value: NewAmount(20)}}},
	}}
	spend := func(prev Outpoint) Block {
		return Block{Chain: Bitcoin, Height: 101, Hash: "b101", Parent: "b100", UTXOTxs: []UTXOTx{
			{TxID: "t1", Index: 1, Inputs: []TxIn{{Prev: prev}}, Outputs: []TxOut{{Address: "C", Value: NewAmount(45)}}},
		}}
	}

	t.Run("resolved from the index", func(t *testing.T) {
		st := openMem(t)
		require.NoError(t, st.WriteBlock(ctx, &cb))
		b := spend(Outpoint{"cb", 0})
		stats, err := st.WriteBlockStats(ctx, &b)
		require.NoError(t, err)
		require.Equal(t, 1, stats.Resolved)
		in := b.UTXOTxs[0].Inputs[0]
		require.True(t, in.Resolved, "the caller's block is filled in")
		require.Equal(t, Address("A"), in.Address)
		require.Equal(t, NewAmount(50), in.Value)
		fee, err := b.UTXOTxs[0].Fee()
		require.NoError(t, err)
		require.Equal(t, NewAmount(5), fee)

		info, err := st.Outpoint(ctx, Bitcoin, Outpoint{"cb", 0})
		require.NoError(t, err)
		require.Equal(t, OutpointInfo{Outpoint: Outpoint{"cb", 0}, Created: true, CreatedAt: Position{100, 0, 0}, Coinbase: true,
			ValueKnown: true, Address: "A", Value: NewAmount(50), Spent: true, SpentBy: "t1", SpentAt: Position{101, 1, 0}}, info)
		info, err = st.Outpoint(ctx, Bitcoin, Outpoint{"cb", 1})
		require.NoError(t, err)
		require.False(t, info.Spent)
		_, err = st.Outpoint(ctx, Bitcoin, Outpoint{"nope", 0})
		require.ErrorIs(t, err, ErrNotFound)

		// Spending it again is a double spend naming the first spender.
		b2 := Block{Chain: Bitcoin, Height: 102, Hash: "b102", Parent: "b101", UTXOTxs: []UTXOTx{
			{TxID: "t2", Index: 1, Inputs: []TxIn{{Prev: Outpoint{"cb", 0}}}, Outputs: []TxOut{{Address: "D", Value: NewAmount(1)}}},
		}}
		err = st.WriteBlock(ctx, &b2)
		require.ErrorIs(t, err, ErrDoubleSpend)
		require.ErrorContains(t, err, "t1")
		require.ErrorContains(t, err, "block 102")
		_, err = st.Verify(ctx, Bitcoin)
		require.NoError(t, err, "a refused block leaves nothing behind")
	})

	t.Run("unknown outpoint", func(t *testing.T) {
		st := openMem(t)
		require.NoError(t, st.WriteBlock(ctx, &cb))
		b := spend(Outpoint{"elsewhere", 3})
		err := st.WriteBlock(ctx, &b)
		require.ErrorIs(t, err, ErrUnknownOutpoint)
		require.ErrorContains(t, err, "block 101")
		require.ErrorContains(t, err, "tx t1")
		require.ErrorContains(t, err, "elsewhere:3")
		h, _, _, err := st.Tip(ctx, Bitcoin)
		require.NoError(t, err)
		require.Equal(t, uint64(100), h, "the failed block is not written")
	})

	t.Run("outside the window", func(t *testing.T) {
		st, err := OpenStore(ctx, StoreOptions{InMemory: true, WindowStarts: map[Chain]uint64{Bitcoin: 100}})
		require.NoError(t, err)
		defer st.Close()
		ws, ok, err := st.WindowStart(ctx, Bitcoin)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(100), ws)
		require.NoError(t, st.WriteBlock(ctx, &cb))
		b := spend(Outpoint{"old", 1})
		b.UTXOTxs[0].Inputs = append(b.UTXOTxs[0].Inputs, TxIn{Prev: Outpoint{"cb", 1}}, TxIn{Prev: Outpoint{"old2", 0}, Address: "Z", Value: NewAmount(7), Resolved: true})
		stats, err := st.WriteBlockStats(ctx, &b)
		require.NoError(t, err)
		require.Equal(t, WriteStats{Resolved: 1, OutsideWindow: 1}, stats)
		require.False(t, b.UTXOTxs[0].Inputs[0].Resolved, "an input outside the window stays unresolved")

		info, err := st.Outpoint(ctx, Bitcoin, Outpoint{"old", 1})
		require.NoError(t, err)
		require.Equal(t, OutpointInfo{Outpoint: Outpoint{"old", 1}, Spent: true, SpentBy: "t1", SpentAt: Position{101, 1, 0}}, info)
		info, err = st.Outpoint(ctx, Bitcoin, Outpoint{"old2", 0})
		require.NoError(t, err)
		require.Equal(t, OutpointInfo{Outpoint: Outpoint{"old2", 0}, ValueKnown: true, Address: "Z", Value: NewAmount(7), Spent: true, SpentBy: "t1", SpentAt: Position{101, 1, 2}}, info)
		_, err = st.Verify(ctx, Bitcoin)
		require.NoError(t, err)

		// Rolling back removes what only the spend had recorded.
		require.NoError(t, st.Rewind(ctx, Bitcoin, 100))
		_, err = st.Outpoint(ctx, Bitcoin, Outpoint{"old", 1})
		require.ErrorIs(t, err, ErrNotFound)
		info, err = st.Outpoint(ctx, Bitcoin, Outpoint{"cb", 1})
		require.NoError(t, err)
		require.False(t, info.Spent)
		_, err = st.Verify(ctx, Bitcoin)
		require.NoError(t, err)
	})

	t.Run("resolved input disagreeing with the index", func(t *testing.T) {
		st := openMem(t)
		require.NoError(t, st.WriteBlock(ctx, &cb))
		b := spend(Outpoint{"cb", 0})
		b.UTXOTxs[0].Inputs[0] = TxIn{Prev: Outpoint{"cb", 0}, Address: "A", Value: NewAmount(51), Resolved: true}
		err := st.WriteBlock(ctx, &b)
		require.ErrorIs(t, err, ErrPrevoutMismatch)
		require.ErrorContains(t, err, "51")
	})

	t.Run("spending an output of the same block", func(t *testing.T) {
		st := openMem(t)
		b := cb
		b.UTXOTxs = append(append([]UTXOTx{}, cb.UTXOTxs...), UTXOTx{TxID: "t1", Index: 1, Inputs: []TxIn{{Prev: Outpoint{"cb", 1}}}, Outputs: []TxOut{{Address: "C", Value: NewAmount(20)}}})
		stats, err := st.WriteBlockStats(ctx, &b)
		require.NoError(t, err)
		require.Equal(t, 1, stats.Resolved)
		require.NoError(t, st.Rewind(ctx, Bitcoin, 0))
		require.Empty(t, withoutMeta(dump(t, st)), "a rewind below the first block leaves only metadata and the cursor")
	})
}

// withoutMeta drops metadata and cursors.
func withoutMeta(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k[0] != tagMeta && k[0] != tagCursor {
			out[k] = v
		}
	}
	return out
}

func TestStoreBadBlocks(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	for name, b := range map[string]*Block{
		"nil":              nil,
		"no chain":         {Height: 1},
		"mixed models":     {Chain: Bitcoin, AccountTxs: []AccountTx{{Hash: "x"}}},
		"utxo on ethereum": {Chain: Ethereum, UTXOTxs: []UTXOTx{{TxID: "x"}}},
		"index order":      {Chain: Bitcoin, UTXOTxs: []UTXOTx{{TxID: "a", Index: 2}, {TxID: "b", Index: 1}}},
		"no txid":          {Chain: Bitcoin, UTXOTxs: []UTXOTx{{Coinbase: true}}},
	} {
		err := st.WriteBlock(ctx, b)
		require.ErrorIs(t, err, ErrBadBlock, name)
	}
}

func TestStoreMovements(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	blocks := []Block{
		{Chain: Ethereum, Height: 5, Hash: "0x05", AccountTxs: []AccountTx{
			{Hash: "0xa", Index: 0, From: "0xmint", Success: true, Transfers: []Transfer{{ID: "0xa.r", Asset: ETH, From: ZeroAddress, To: "alice", Amount: NewAmount(100), Kind: KindReward}}},
		}},
		{Chain: Ethereum, Height: 6, Hash: "0x06", Parent: "0x05", AccountTxs: []AccountTx{
			{Hash: "0xb", Index: 3, From: "alice", To: "bob", Fee: NewAmount(2), Success: true, Transfers: []Transfer{
				{ID: "0xb.0", Asset: ETH, From: "alice", To: "bob", Amount: NewAmount(10), Kind: KindCall},
				{ID: "0xb.1", Asset: ETH, From: "bob", To: "alice", Amount: NewAmount(4), Kind: KindInternal},
				{ID: "0xb.2", Asset: ETH, From: "bob", To: "carol", Amount: NewAmount(1), Kind: KindInternal, Reverted: true},
				{ID: "0xb.3", Asset: "USDT", From: "alice", To: "alice", Amount: NewAmount(7), Kind: KindERC20},
			}},
			{Hash: "0xc", Index: 4, From: "alice", To: "carol", Fee: NewAmount(1), Success: false, Transfers: []Transfer{
				{ID: "0xc.0", Asset: ETH, From: "alice", To: "carol", Amount: NewAmount(50), Kind: KindCall},
			}},
		}},
	}
	writeAll(t, st, blocks)
	var got []string
	require.NoError(t, st.Movements(ctx, Ethereum, "alice", func(m Movement) error {
		got = append(got, fmt.Sprintf("%s credit=%v %s %s %s %s", m.Position, m.Credit, m.Amount.Dec(), m.Asset, m.TransferID, m.Counterparty))
		return nil
	}))
	require.Equal(t, []string{
		"5/0/0 credit=true 100 ETH 0xa.r 0x0000000000000000000000000000000000000000",
		"6/3/-1 credit=false 2 ETH 0xb#fee ",
		"6/3/0 credit=false 10 ETH 0xb.0 bob",
		"6/3/1 credit=true 4 ETH 0xb.1 bob",
		"6/3/3 credit=false 7 USDT 0xb.3 alice",
		"6/3/3 credit=true 7 USDT 0xb.3 alice",
		"6/4/-1 credit=false 1 ETH 0xc#fee ",
	}, got)
	got = nil
	require.NoError(t, st.Movements(ctx, Ethereum, "carol", func(m Movement) error { got = append(got, m.TransferID); return nil }))
	require.Empty(t, got, "a failed transaction and a reverted frame move nothing")

	// UTXO: inputs first, then outputs; the outpoint is named.
	u := GenerateUTXO(9, 400, 20)
	writeAll(t, st, u.Unresolved())
	checkMovements(t, st, u.Blocks)

	// A window: inputs spending outputs from before it come resolved by the caller, and
	// their debits are stored, while those of stored outputs are derived. Both survive a
	// rewind as they should.
	w := GenerateUTXO(10, 400, 20).Blocks[6:]
	st = openMem(t)
	require.NoError(t, st.SetWindowStart(ctx, Bitcoin, w[0].Height))
	writeAll(t, st, w)
	checkMovements(t, st, w)
	require.NoError(t, st.Rewind(ctx, Bitcoin, w[len(w)/2].Height))
	checkMovements(t, st, w[:len(w)/2+1])
	_, err := st.Verify(ctx, Bitcoin)
	require.NoError(t, err)
}

// checkMovements compares every address's Movements with the movements of blocks, which are
// all the store holds (with their inputs resolved).
func checkMovements(t *testing.T, st *Store, blocks []Block) {
	t.Helper()
	want := map[Address][]Movement{}
	for i := range blocks {
		forEachMovement(&blocks[i], func(m *Movement) bool { want[m.Address] = append(want[m.Address], *m); return true })
	}
	require.NotEmpty(t, want)
	for addr, ms := range want {
		sort.SliceStable(ms, func(i, j int) bool {
			if ms[i].Position != ms[j].Position {
				return ms[i].Position.Less(ms[j].Position)
			}
			return !ms[i].Credit && ms[j].Credit
		})
		var got []Movement
		require.NoError(t, st.Movements(context.Background(), blocks[0].Chain, addr, func(m Movement) error { got = append(got, m); return nil }))
		require.Equal(t, ms, got, "movements of %s", addr)
	}
}

func TestStoreRecords(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	_, err := st.GetRecord(ctx, "labels", []byte("x"))
	require.ErrorIs(t, err, ErrNotFound)
	require.NoError(t, st.PutRecord(ctx, "labels", []byte("b"), []byte("2")))
	require.NoError(t, st.PutRecords(ctx, "labels", []Record{{[]byte("a"), []byte("1")}, {[]byte("c"), []byte("3")}}))
	require.NoError(t, st.PutRecord(ctx, "labelsX", []byte("a"), []byte("other namespace")))
	require.NoError(t, st.PutRecord(ctx, "checkpoint", []byte("big"), bytes.Repeat([]byte{7}, 3<<20)))
	v, err := st.GetRecord(ctx, "labels", []byte("b"))
	require.NoError(t, err)
	require.Equal(t, []byte("2"), v)
	var keys []string
	require.NoError(t, st.Records(ctx, "labels", func(k, v []byte) error { keys = append(keys, string(k)+"="+string(v)); return nil }))
	require.Equal(t, []string{"a=1", "b=2", "c=3"}, keys)
	require.NoError(t, st.DeleteRecord(ctx, "labels", []byte("b")))
	_, err = st.GetRecord(ctx, "labels", []byte("b"))
	require.ErrorIs(t, err, ErrNotFound)
	big, err := st.GetRecord(ctx, "checkpoint", []byte("big"))
	require.NoError(t, err)
	require.Len(t, big, 3<<20)
}

// linked returns a chain of n empty-ish blocks on top of parent, each with a coinbase, and
// a spend of the previous block's coinbase, hashes tagged with branch.
func linked(branch string, from uint64, n int, parent string) []Block {
	var out []Block
	for i := 0; i < n; i++ {
		h := from + uint64(i)
		b := Block{Chain: Bitcoin, Height: h, Hash: fmt.Sprintf("%s%d", branch, h), Parent: parent}
		b.UTXOTxs = []UTXOTx{{TxID: fmt.Sprintf("cb-%s%d", branch, h), Coinbase: true, Outputs: []TxOut{{Address: Address("M" + branch), Value: NewAmount(50)}}}}
		if i > 0 || from > 0 {
			prev := fmt.Sprintf("cb-%s%d", branch, h-1)
			if i == 0 {
				prev = fmt.Sprintf("cb-%s%d", "a", h-1) // the first block of a branch spends the trunk
			}
			b.UTXOTxs = append(b.UTXOTxs, UTXOTx{TxID: fmt.Sprintf("t-%s%d", branch, h), Index: 1,
				Inputs: []TxIn{{Prev: Outpoint{prev, 0}}}, Outputs: []TxOut{{Address: Address("P" + branch), Value: NewAmount(49)}}})
		}
		out = append(out, b)
		parent = b.Hash
	}
	return out
}

func TestStoreReorg(t *testing.T) {
	ctx := context.Background()
	trunk := linked("a", 0, 10, "")          // a0..a9
	fork := linked("b", 6, 6, trunk[5].Hash) // b6..b11 on a5

	st := openMem(t)
	writeAll(t, st, trunk)
	first := CloneBlock(&fork[0])
	stats, err := st.WriteBlockStats(ctx, &first)
	require.NoError(t, err)
	require.Equal(t, 4, stats.RolledBack, "a6..a9 rolled back")
	writeAll(t, st, fork[1:])
	_, err = st.Verify(ctx, Bitcoin)
	require.NoError(t, err)

	// The result is exactly a store that only ever saw a0..a5 + b6..b11.
	want := openMem(t)
	writeAll(t, want, trunk[:6])
	writeAll(t, want, fork)
	require.Equal(t, dump(t, want), dump(t, st))

	// The rolled-back outputs are gone, the trunk's spent-by is undone.
	_, err = st.Outpoint(ctx, Bitcoin, Outpoint{"cb-a8", 0})
	require.ErrorIs(t, err, ErrNotFound)
	info, err := st.Outpoint(ctx, Bitcoin, Outpoint{"cb-a5", 0})
	require.NoError(t, err)
	require.Equal(t, "t-b6", info.SpentBy)

	// Re-sending a stored block is a no-op.
	again := CloneBlock(&fork[2])
	stats, err = st.WriteBlockStats(ctx, &again)
	require.NoError(t, err)
	require.True(t, stats.AlreadyStored)

	// A block whose parent is not stored at height-1: the fork is deeper, the caller must
	// send the branch from the fork point.
	deep := linked("c", 9, 1, "c8")[0]
	deep.UTXOTxs = deep.UTXOTxs[:1]
	err = st.WriteBlock(ctx, &deep)
	require.ErrorIs(t, err, ErrParentMismatch)
	tip := linked("d", 12, 1, "zz")[0]
	tip.UTXOTxs = tip.UTXOTxs[:1]
	err = st.WriteBlock(ctx, &tip)
	require.ErrorIs(t, err, ErrParentMismatch)
	gap := linked("e", 14, 1, "e13")[0]
	gap.UTXOTxs = gap.UTXOTxs[:1]
	err = st.WriteBlock(ctx, &gap)
	require.ErrorIs(t, err, ErrGap)

	// Rewind, then the trunk again: identical to a fresh trunk-only store.
	require.NoError(t, st.Rewind(ctx, Bitcoin, 5))
	writeAll(t, st, trunk[6:])
	fresh := openMem(t)
	writeAll(t, fresh, trunk)
	require.Equal(t, dump(t, fresh), dump(t, st))
	h, hash, ok, err := st.Tip(ctx, Bitcoin)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(9), h)
	require.Equal(t, "a9", hash)

	// Rewind to below everything empties the chain.
	require.NoError(t, st.Rewind(ctx, Bitcoin, 0))
	h, _, ok, err = st.Tip(ctx, Bitcoin)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(0), h)
	b0 := CloneBlock(&trunk[0])
	b0.Hash = "x0"
	stats, err = st.WriteBlockStats(ctx, &b0)
	require.NoError(t, err)
	require.Equal(t, 1, stats.RolledBack, "a new block 0 replaces the old one")
}

// Scenario chains have no parent hashes and sparse heights.
func TestStoreUnlinkedHeights(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	mk := func(h uint64, id string) Block {
		return Block{Chain: Ethereum, Height: h, AccountTxs: []AccountTx{{Hash: id, Index: 1, From: "a", To: "b", Success: true,
			Transfers: []Transfer{{ID: id + ".0", Asset: ETH, From: "a", To: "b", Amount: NewAmount(1), Kind: KindCall}}}}}
	}
	for _, b := range []Block{mk(101, "x"), mk(103, "y"), mk(110, "z")} {
		require.NoError(t, st.WriteBlock(ctx, &b))
	}
	r := mk(103, "w") // replaces 103 and 110
	stats, err := st.WriteBlockStats(ctx, &r)
	require.NoError(t, err)
	require.Equal(t, 2, stats.RolledBack)
	got := readAll(t, st, Ethereum)
	require.Len(t, got, 2)
	require.Equal(t, "w", got[1].AccountTxs[0].Hash)
	_, err = st.Verify(ctx, Ethereum)
	require.NoError(t, err)
}

func TestStoreReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	g := GenerateUTXO(4, 1500, 50)
	st := openDir(t, dir)
	half := len(g.Blocks) / 2
	writeAll(t, st, g.Unresolved()[:half])
	require.NoError(t, st.PutRecord(ctx, "checkpoint", []byte("k"), []byte("v")))
	require.NoError(t, st.Close())
	require.ErrorIs(t, st.WriteBlock(ctx, &g.Blocks[half]), ErrStoreClosed)

	st = openDir(t, dir)
	defer st.Close()
	h, _, _, err := st.Tip(ctx, Bitcoin)
	require.NoError(t, err)
	require.Equal(t, g.Blocks[half-1].Height, h)
	writeAll(t, st, g.Unresolved()[half:])
	require.Equal(t, g.Blocks, readAll(t, st, Bitcoin))
	v, err := st.GetRecord(ctx, "checkpoint", []byte("k"))
	require.NoError(t, err)
	require.Equal(t, "v", string(v))
	_, err = st.Verify(ctx, Bitcoin)
	require.NoError(t, err)
}

func TestStoreIncompatible(t *testing.T) {
	ctx := context.Background()
	rawSet := func(t *testing.T, dir string, k, v []byte) {
		db, err := badger.Open(badger.DefaultOptions(dir).WithLoggingLevel(badger.ERROR))
		require.NoError(t, err)
		require.NoError(t, db.Update(func(txn *badger.Txn) error { return txn.Set(k, v) }))
		require.NoError(t, db.Close())
	}

	for _, ver := range []uint32{StoreFormatVersion + 1, StoreFormatVersion - 1} {
		t.Run(fmt.Sprintf("format version %d", ver), func(t *testing.T) {
			dir := t.TempDir()
			st := openDir(t, dir)
			require.NoError(t, st.Close())
			rawSet(t, dir, metaFormatKey, binary.BigEndian.AppendUint32([]byte(storeMagic), ver))
			_, err := OpenStore(ctx, StoreOptions{Dir: dir})
			require.ErrorIs(t, err, ErrIncompatibleStore)
			require.ErrorContains(t, err, fmt.Sprintf("format %d", ver))
			if ver > StoreFormatVersion {
				require.ErrorIs(t, err, ErrNewerStoreFormat)
				require.ErrorContains(t, err, "run a newer chaintrace")
			} else {
				require.ErrorIs(t, err, ErrOlderStoreFormat)
				require.ErrorContains(t, err, "ingest again")
			}
		})
	}
	t.Run("another program's badger database", func(t *testing.T) {
		dir := t.TempDir()
		rawSet(t, dir, []byte("user/1"), []byte("alice"))
		_, err := OpenStore(ctx, StoreOptions{Dir: dir})
		require.ErrorIs(t, err, ErrIncompatibleStore)
		require.ErrorIs(t, err, ErrForeignStore)
		require.ErrorContains(t, err, "not a chaintrace store")
		require.ErrorContains(t, err, "new or empty directory")
		// Its data is left alone.
		db, err := badger.Open(badger.DefaultOptions(dir).WithLoggingLevel(badger.ERROR))
		require.NoError(t, err)
		require.NoError(t, db.View(func(txn *badger.Txn) error { _, err := txn.Get([]byte("user/1")); return err }))
		require.NoError(t, db.Close())
	})
	t.Run("another program's keys with chaintrace's tags", func(t *testing.T) {
		// Keys that start like a block's, with a value that is not a block record: not
		// mistaken for an interrupted bulk load.
		dir := t.TempDir()
		rawSet(t, dir, blockKey(nil, 1, 5), []byte("not a block"))
		_, err := OpenStore(ctx, StoreOptions{Dir: dir})
		require.ErrorIs(t, err, ErrForeignStore)
	})
	t.Run("garbled marker", func(t *testing.T) {
		dir := t.TempDir()
		st := openDir(t, dir)
		require.NoError(t, st.Close())
		rawSet(t, dir, metaFormatKey, []byte("chaintrace"))
		_, err := OpenStore(ctx, StoreOptions{Dir: dir})
		require.ErrorIs(t, err, ErrIncompatibleStore)
		require.ErrorIs(t, err, ErrForeignStore)
	})
	t.Run("block codec of a later version", func(t *testing.T) {
		dir := t.TempDir()
		st := openDir(t, dir)
		writeAll(t, st, linked("a", 0, 3, ""))
		require.NoError(t, st.Close())
		key := blockKey(nil, 1, 1)
		db, err := badger.Open(badger.DefaultOptions(dir).WithLoggingLevel(badger.ERROR))
		require.NoError(t, err)
		require.NoError(t, db.Update(func(txn *badger.Txn) error {
			item, err := txn.Get(key)
			if err != nil {
				return err
			}
			v, _ := item.ValueCopy(nil)
			v[0] = blockCodecVersion + 1
			return txn.Set(key, v)
		}))
		require.NoError(t, db.Close())
		st = openDir(t, dir)
		defer st.Close()
		err = st.Blocks(ctx, Bitcoin, 0, 10, func(*Block) error { return nil })
		require.ErrorIs(t, err, ErrIncompatibleStore)
		require.ErrorContains(t, err, "block 1 of bitcoin")
	})
	t.Run("address index setting", func(t *testing.T) {
		dir := t.TempDir()
		st, err := OpenStore(ctx, StoreOptions{Dir: dir, NoAddressIndex: true})
		require.NoError(t, err)
		require.NoError(t, st.Close())
		_, err = OpenStore(ctx, StoreOptions{Dir: dir})
		require.ErrorIs(t, err, ErrIncompatibleStore)
	})
}

func TestStoreCorrupt(t *testing.T) {
	ctx := context.Background()
	build := func(t *testing.T) string {
		dir := t.TempDir()
		st := openDir(t, dir)
		writeAll(t, st, GenerateUTXO(5, 800, 40).Unresolved())
		require.NoError(t, st.Close())
		return dir
	}
	t.Run("garbage block record", func(t *testing.T) {
		dir := build(t)
		db, err := badger.Open(badger.DefaultOptions(dir).WithLoggingLevel(badger.ERROR))
		require.NoError(t, err)
		require.NoError(t, db.Update(func(txn *badger.Txn) error {
			return txn.Set(blockKey(nil, 1, 4), []byte{blockCodecVersion, strRaw, 200})
		}))
		require.NoError(t, db.Close())
		st := openDir(t, dir)
		defer st.Close()
		err = st.Blocks(ctx, Bitcoin, 0, 100, func(*Block) error { return nil })
		require.ErrorIs(t, err, ErrCorruptStore)
		require.ErrorContains(t, err, "block 4 of bitcoin")
		_, err = st.Verify(ctx, Bitcoin)
		require.ErrorIs(t, err, ErrCorruptStore)
	})
	t.Run("index entry removed", func(t *testing.T) {
		dir := build(t)
		st := openDir(t, dir)
		defer st.Close()
		b, err := st.Block(ctx, Bitcoin, 3)
		require.NoError(t, err)
		require.NoError(t, st.db.Update(func(txn *badger.Txn) error {
			return txn.Delete(outpointKey(nil, 1, Outpoint{b.UTXOTxs[0].TxID, 0}))
		}))
		_, err = st.Verify(ctx, Bitcoin)
		require.ErrorIs(t, err, ErrCorruptStore)
	})
	t.Run("stray index entry", func(t *testing.T) {
		dir := build(t)
		st := openDir(t, dir)
		defer st.Close()
		require.NoError(t, st.db.Update(func(txn *badger.Txn) error {
			return txn.Set(movementKey(nil, 1, "ghost", Position{1, 1, 1}, true), encodeMovement(nil, &Movement{TxID: "x"}))
		}))
		_, err := st.Verify(ctx, Bitcoin)
		require.ErrorIs(t, err, ErrCorruptStore)
	})
	for _, target := range []string{"MANIFEST", ".sst"} {
		t.Run("damaged "+target, func(t *testing.T) {
			// Flip bytes in the middle of the file(s): opening must fail with
			// ErrCorruptStore — never return wrong blocks.
			dir := build(t)
			st := openDir(t, dir)
			require.NoError(t, st.db.Flatten(1)) // make sure there are tables on disk
			require.NoError(t, st.Close())
			damaged := 0
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				name := e.Name()
				if name != target && filepath.Ext(name) != target {
					continue
				}
				p := filepath.Join(dir, name)
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				for i := len(data) / 3; i < len(data)/3+64 && i < len(data); i++ {
					data[i] ^= 0x5a
				}
				require.NoError(t, os.WriteFile(p, data, 0o644))
				damaged++
			}
			require.NotZero(t, damaged)
			st, err = OpenStore(ctx, StoreOptions{Dir: dir})
			if err == nil {
				_, err = st.Verify(ctx, Bitcoin)
				st.Close()
			}
			t.Logf("damaged %d %s file(s): %v", damaged, target, err)
			require.ErrorIs(t, err, ErrCorruptStore)
		})
	}
}

// Readers run while a writer writes (and reorgs): every reader sees a consistent snapshot.
func TestStoreConcurrentReaders(t *testing.T) {
	ctx := context.Background()
	st := openMem(t)
	g := GenerateUTXO(6, 2000, 25)
	blocks := g.Unresolved()
	var wg sync.WaitGroup
	done := make(chan struct{})
	errc := make(chan error, 8)
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var prev *Block
				err := st.Blocks(ctx, Bitcoin, 0, ^uint64(0), func(b *Block) error {
					if prev != nil && (b.Height != prev.Height+1 || b.Parent != prev.Hash) {
						return fmt.Errorf("block %d (parent %s) after %d (%s)", b.Height, b.Parent, prev.Height, prev.Hash)
					}
					prev = b
					return nil
				})
				if err == nil {
					_, err = st.Verify(ctx, Bitcoin)
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for i := range blocks {
		b := CloneBlock(&blocks[i])
		require.NoError(t, st.WriteBlock(ctx, &b))
		if i == len(blocks)/2 {
			require.NoError(t, st.Rewind(ctx, Bitcoin, blocks[i-10].Height))
			for j := i - 9; j <= i; j++ {
				b := CloneBlock(&blocks[j])
				require.NoError(t, st.WriteBlock(ctx, &b))
			}
		}
	}
	close(done)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	require.Equal(t, g.Blocks, readAll(t, st, Bitcoin))
}

func TestStoreContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st := openMem(t)
	writeAll(t, st, linked("a", 0, 3, ""))
	cancel()
	require.ErrorIs(t, st.Blocks(ctx, Bitcoin, 0, 10, func(*Block) error { return nil }), context.Canceled)
	b := linked("a", 3, 1, "a2")[0]
	require.ErrorIs(t, st.WriteBlock(ctx, &b), context.Canceled)
}

func TestStoreBulkLoadEqualsWriteBlock(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		blocks []Block
		window bool
		budget int
	}{
		{"utxo in memory", GenerateUTXO(7, 3000, 100).Unresolved(), false, 0},
		{"utxo spilled runs", GenerateUTXO(8, 3000, 100).Unresolved(), false, 64 << 10},
		{"account", GenerateAccount(7, 3000, 50).Blocks, false, 64 << 10},
		{"utxo window", GenerateUTXO(9, 3000, 100).Unresolved()[5:], true, 0},
		{"utxo window with resolved inputs", GenerateUTXO(10, 3000, 100).Blocks[5:], true, 64 << 10},
		{"duplicate txids", duplicateTxids(), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.blocks[0].Chain
			setup := func(st *Store) {
				if tc.window {
					require.NoError(t, st.SetWindowStart(ctx, c, tc.blocks[0].Height))
				}
			}
			want := openMem(t)
			setup(want)
			writeAll(t, want, tc.blocks)

			got := openDir(t, t.TempDir())
			defer got.Close()
			setup(got)
			bl, err := got.NewBulkLoader(ctx, BulkOptions{TempDir: t.TempDir(), MemoryBudget: tc.budget})
			require.NoError(t, err)
			defer bl.Abort()
			for i := range tc.blocks {
				b := CloneBlock(&tc.blocks[i])
				require.NoError(t, bl.Add(ctx, &b))
			}
			stats, err := bl.Finish(ctx)
			require.NoError(t, err)
			require.Equal(t, len(tc.blocks), stats.Blocks)
			if tc.budget > 0 {
				require.Greater(t, stats.Runs, 2, "the external sort spilled")
			}
			require.Equal(t, dump(t, want), dump(t, got))
			_, err = got.Verify(ctx, c)
			require.NoError(t, err)

			// The store carries on with ordinary writes and reorgs.
			require.NoError(t, got.Rewind(ctx, c, tc.blocks[len(tc.blocks)/2].Height))
			require.NoError(t, want.Rewind(ctx, c, tc.blocks[len(tc.blocks)/2].Height))
			require.Equal(t, dump(t, want), dump(t, got))
			_, err = got.Verify(ctx, c)
			require.NoError(t, err)
		})
	}
}

// duplicateTxids is a chain with Bitcoin's pre-BIP 30 duplicate coinbase transaction ids:
// block 3's coinbase repeats block 1's while its output is unspent, and block 4's repeats
// block 0's, whose output block 1 spent. Each later creation overwrites the outpoint's
// record, and the next blocks spend the second creations.
func duplicateTxids() []Block {
	blocks := linked("a", 0, 6, "")
	blocks[2].UTXOTxs[1].Inputs[0].Prev = Outpoint{"t-a1", 0} // cb-a1 stays unspent
	blocks[3].UTXOTxs[0].TxID = "cb-a1"
	blocks[4].UTXOTxs[0].TxID = "cb-a0"
	blocks[4].UTXOTxs[1].Inputs[0].Prev = Outpoint{"cb-a1", 0}
	blocks[5].UTXOTxs[1].Inputs[0].Prev = Outpoint{"cb-a0", 0}
	return blocks
}

func TestStoreBulkLoadRefusals(t *testing.T) {
	ctx := context.Background()
	st := openDir(t, t.TempDir())
	defer st.Close()
	require.NoError(t, st.PutRecord(ctx, "labels", []byte("k"), []byte("v")))
	_, err := st.NewBulkLoader(ctx, BulkOptions{})
	require.ErrorIs(t, err, ErrStoreNotEmpty)
	require.NoError(t, st.DeleteRecord(ctx, "labels", []byte("k")))

	// A double spend inside the load is found at the merge; the store is left empty and usable.
	blocks := linked("a", 0, 4, "")
	dbl := linked("a", 4, 1, "a3")[0]
	dbl.UTXOTxs[1].Inputs[0].Prev = Outpoint{"cb-a2", 0} // spent by t-a3 already
	dbl.UTXOTxs[1].Inputs[0].Address, dbl.UTXOTxs[1].Inputs[0].Value, dbl.UTXOTxs[1].Inputs[0].Resolved = "Ma", NewAmount(50), true
	bl, err := st.NewBulkLoader(ctx, BulkOptions{TempDir: t.TempDir()})
	require.NoError(t, err)
	for i := range blocks {
		require.NoError(t, bl.Add(ctx, &blocks[i]))
	}
	require.NoError(t, bl.Add(ctx, &dbl))
	_, err = bl.Finish(ctx)
	require.ErrorIs(t, err, ErrDoubleSpend)
	_, _, ok, err := st.Tip(ctx, Bitcoin)
	require.NoError(t, err)
	require.False(t, ok)
	writeAll(t, st, linked("a", 0, 4, ""))
	_, err = st.Verify(ctx, Bitcoin)
	require.NoError(t, err)

	// Out of order.
	st2 := openMem(t)
	bl, err = st2.NewBulkLoader(ctx, BulkOptions{})
	require.NoError(t, err)
	b := linked("a", 0, 3, "")
	require.NoError(t, bl.Add(ctx, &b[0]))
	require.ErrorIs(t, bl.Add(ctx, &b[2]), ErrParentMismatch)
	bl.Abort()
	writeAll(t, st2, linked("a", 0, 3, ""))
}

// A reader's callback may call the store again while Close waits: it gets ErrStoreClosed
// instead of a deadlock, and Close returns once the reader is done.
func TestStoreCloseDuringRead(t *testing.T) {
	ctx := context.Background()
	st, err := OpenStore(ctx, StoreOptions{InMemory: true})
	require.NoError(t, err)
	writeAll(t, st, linked("a", 0, 3, ""))
	inside := make(chan struct{})
	closed := make(chan error)
	var nested error
	err = st.Blocks(ctx, Bitcoin, 0, 10, func(b *Block) error {
		if b.Height == 0 {
			close(inside)
			go func() { closed <- st.Close() }()
			for {
				_, _, _, nested = st.Tip(ctx, Bitcoin)
				if nested != nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		return nil
	})
	require.NoError(t, err)
	<-inside
	require.ErrorIs(t, nested, ErrStoreClosed)
	require.NoError(t, <-closed)
	_, _, _, err = st.Tip(ctx, Bitcoin)
	require.ErrorIs(t, err, ErrStoreClosed)
}

// Block records are s2-compressed unless that gains nothing or compresses beyond
// maxBlockRatio (then raw, so that a damaged record can never claim a huge size); both
// forms round-trip, and a record claiming more than the ratio allows is refused unread.
func TestStoreBlockRecordForms(t *testing.T) {
	g := GenerateUTXO(3, 5000, 500)
	want := g.Blocks[len(g.Blocks)-2] // the first blocks are small: the history is young
	rec := encodeBlock(nil, &want)
	require.Equal(t, byte(blockS2), rec[1])
	got := Block{Chain: want.Chain, Height: want.Height}
	require.NoError(t, decodeBlock(rec, &got))
	require.Equal(t, want, got)

	dull := Block{Chain: Ethereum, Hash: "h", AccountTxs: make([]AccountTx, 20000)}
	rec = encodeBlock(nil, &dull)
	require.Equal(t, byte(blockRaw), rec[1], "a body compressing beyond maxBlockRatio is stored raw")
	got = Block{Chain: Ethereum}
	require.NoError(t, decodeBlock(rec, &got))
	require.Equal(t, dull, got)

	huge := binary.AppendUvarint([]byte{blockCodecVersion, blockS2}, 1<<30)
	huge = append(huge, make([]byte, 16)...)
	require.ErrorIs(t, decodeBlock(huge, &got), errCodec)
	require.ErrorIs(t, decodeBlock([]byte{blockCodecVersion}, &got), errCodec)
	require.ErrorIs(t, decodeBlock([]byte{blockCodecVersion, 9}, &got), errCodec)
}

// An aborted bulk load gives the store back as it was: the window starts declared before
// the load (the loaded chain's and another chain's) and the store's options survive, and a
// block-by-block ingest of the same window then works.
func TestStoreBulkLoadAbortKeepsCursors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := OpenStore(ctx, StoreOptions{Dir: dir, NoAddressIndex: true})
	require.NoError(t, err)
	blocks := GenerateUTXO(11, 2000, 100).Unresolved()[5:]
	from := blocks[0].Height
	require.NoError(t, st.SetWindowStart(ctx, Bitcoin, from))
	require.NoError(t, st.SetWindowStart(ctx, Ethereum, 42))
	bl, err := st.NewBulkLoader(ctx, BulkOptions{TempDir: t.TempDir()})
	require.NoError(t, err)
	for i := range blocks[:10] {
		b := CloneBlock(&blocks[i])
		require.NoError(t, bl.Add(ctx, &b))
	}
	bl.Abort()
	for c, want := range map[Chain]uint64{Bitcoin: from, Ethereum: 42} {
		h, ok, err := st.WindowStart(ctx, c)
		require.NoError(t, err)
		require.True(t, ok, "%s window start kept", c)
		require.Equal(t, want, h)
	}
	_, _, ok, err := st.Tip(ctx, Bitcoin)
	require.NoError(t, err)
	require.False(t, ok)
	writeAll(t, st, blocks)
	_, err = st.Verify(ctx, Bitcoin)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	st, err = OpenStore(ctx, StoreOptions{Dir: dir, NoAddressIndex: true})
	require.NoError(t, err, "the store's options survive the abort")
	require.NoError(t, st.Close())
}
