package graph

import (
	"reflect"
	"testing"
)

// The store's decoders read bytes from disk: on any input they return a value or an error
// wrapping errCodec / ErrIncompatibleStore, never panic; and whatever they accept
// re-encodes to something that decodes to the same value.

func fuzzSeedBlocks() []Block {
	seeds := []Block{
		{},
		{Hash: "h", Parent: "p", Time: -5, UTXOTxs: []UTXOTx{}},
		{Hash: "0x" + genHash("x", 1), AccountTxs: []AccountTx{{Hash: "0x" + genHash("t", 1), From: Address("0x" + genHash("a", 1)[:40]), Fee: MustAmount("115792089237316195423570985008687907853269984665640564039457584007913129639935"),
			Transfers: []Transfer{{ID: "0x" + genHash("t", 1) + ".0", Asset: "USDT", Kind: "weird", Reverted: true}, {ID: "free", Kind: KindERC20}}}}},
		// Link parts: a swap seen whole, one side of a THORChain swap, and empty lists.
		{Hash: "l", AccountTxs: []AccountTx{}, Links: []LinkPart{
			{Key: "swap:0xab:3", Kind: LinkSwap, Chain: Ethereum, In: []Leg{{Chain: Ethereum, Ref: "0xab.log1"}},
				Out: []Leg{{Chain: Ethereum, Ref: "0xab.log4"}}, Venues: []Address{Address("0x" + genHash("p", 1)[:40])}, Evidence: "Swap log 3"},
			{Key: "thorchain:" + genHash("in", 1), Kind: LinkThorchain, Chain: Bitcoin, Out: []Leg{{Chain: Bitcoin, Ref: genHash("o", 1) + ":0"}}, Evidence: "memo OUT:…"},
			{Key: "k", In: []Leg{}, Venues: []Address{}},
		}},
		{Hash: "e", Links: []LinkPart{}},
	}
	u := GenerateUTXO(1, 40, 10)
	a := GenerateAccount(1, 40, 10)
	seeds = append(seeds, u.Blocks[:3]...)
	seeds = append(seeds, u.Unresolved()[2])
	return append(seeds, a.Blocks[:3]...)
}

func FuzzDecodeBlock(f *testing.F) {
	for _, b := range fuzzSeedBlocks() {
		f.Add(encodeBlock(nil, &b))
	}
	f.Add([]byte{})
	f.Add([]byte{blockCodecVersion, strRaw, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, rec []byte) {
		var b Block
		if err := decodeBlock(rec, &b); err != nil {
			return
		}
		var again Block
		if err := decodeBlock(encodeBlock(nil, &b), &again); err != nil {
			t.Fatalf("re-encoded block does not decode: %v", err)
		}
		if !reflect.DeepEqual(b, again) {
			t.Fatalf("re-encoding changed the block:\n%+v\n%+v", b, again)
		}
	})
}

// Encoding then decoding any block gives it back exactly (nil and empty slices included).
func TestBlockCodecRoundTrip(t *testing.T) {
	for _, b := range fuzzSeedBlocks() {
		var got Block
		if err := decodeBlock(encodeBlock(nil, &b), &got); err != nil {
			t.Fatal(err)
		}
		got.Chain, got.Height = b.Chain, b.Height
		if !reflect.DeepEqual(b, got) {
			t.Fatalf("round trip changed the block:\n%+v\n%+v", b, got)
		}
	}
}

func FuzzDecodeIndexRecords(f *testing.F) {
	op := outpointRecord{Created: true, ValueKnown: true, Coinbase: true, Spent: true, CreatedAt: Position{1, 2, 3}, Address: "bc1q", Value: NewAmount(5), SpentAt: Position{4, 5, 6}, SpentBy: genHash("tx", 1)}
	f.Add(encodeOutpoint(nil, &op), uint32(3))
	m := Movement{TxID: "0xabc", Asset: ETH, Amount: NewAmount(9), TransferID: "0xabc.0", Counterparty: "bob"}
	f.Add(encodeMovement(nil, &m), uint32(0))
	f.Add(encodeCursor(cursor{HasTip: true, TipHeight: 7, TipHash: "h", HasWindow: true, WindowStart: 3}), uint32(0))
	f.Fuzz(func(t *testing.T, rec []byte, index uint32) {
		if r, err := decodeOutpoint(rec, index); err == nil {
			again, err := decodeOutpoint(encodeOutpoint(nil, &r), index)
			if err != nil || !reflect.DeepEqual(r, again) {
				t.Fatalf("outpoint record re-encoding: %v\n%+v\n%+v", err, r, again)
			}
		}
		var m Movement
		if err := decodeMovement(rec, &m); err == nil {
			var again Movement
			if err := decodeMovement(encodeMovement(nil, &m), &again); err != nil || !reflect.DeepEqual(m, again) {
				t.Fatalf("movement re-encoding: %v\n%+v\n%+v", err, m, again)
			}
		}
		if c, err := decodeCursor(rec); err == nil {
			again, err := decodeCursor(encodeCursor(c))
			if err != nil || c != again {
				t.Fatalf("cursor re-encoding: %v\n%+v\n%+v", err, c, again)
			}
		}
	})
}
