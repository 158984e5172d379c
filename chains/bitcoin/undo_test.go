package bitcoin_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/stretchr/testify/require"
)

const satsPerBTC = 100_000_000

// Bitcoin Core's own vectors (src/test/compress_tests.cpp, compress_amounts).
func TestCompressAmountCoreVectors(t *testing.T) {
	const cent = satsPerBTC / 100
	for _, tc := range []struct{ dec, enc uint64 }{
		{0, 0x0}, {1, 0x1}, {cent, 0x7}, {satsPerBTC, 0x9}, {50 * satsPerBTC, 0x32}, {21000000 * satsPerBTC, 0x1406f40},
	} {
		require.Equal(t, tc.enc, bitcoin.CompressAmount(tc.dec), "CompressAmount(%d)", tc.dec)
		require.Equal(t, tc.dec, bitcoin.DecompressAmount(tc.enc), "DecompressAmount(%#x)", tc.enc)
	}
	encode := func(v uint64) { // TestEncode
		if got := bitcoin.DecompressAmount(bitcoin.CompressAmount(v)); got != v {
			t.Fatalf("DecompressAmount(CompressAmount(%d)) = %d", v, got)
		}
	}
	for i := uint64(1); i <= 100000; i++ {
		encode(i)
	}
	for i := uint64(1); i <= 10000; i++ {
		encode(i * cent)
		encode(i * satsPerBTC)
		encode(i * 50 * satsPerBTC)
	}
	for i := uint64(0); i < 100000; i++ { // TestDecode
		if got := bitcoin.CompressAmount(bitcoin.DecompressAmount(i)); got != i {
			t.Fatalf("CompressAmount(DecompressAmount(%d)) = %d", i, got)
		}
	}
}

// Bitcoin Core's VARINT bit patterns (src/test/serialize_tests.cpp, varint_bitpatterns).
func TestCoreVarIntBitPatterns(t *testing.T) {
	for _, tc := range []struct {
		n   uint64
		hex string
	}{
		{0, "00"}, {0x7f, "7f"}, {0x80, "8000"}, {0x1234, "a334"}, {0xffff, "82fe7f"},
		{0x123456, "c7e756"}, {0x80123456, "86ffc7e756"}, {0xffffffff, "8efefefe7f"},
		{0x7fffffffffffffff, "fefefefefefefefe7f"}, {0xffffffffffffffff, "80fefefefefefefefe7f"},
	} {
		enc := bitcoin.AppendCoreVarInt(nil, tc.n)
		require.Equal(t, tc.hex, hex.EncodeToString(enc), "VARINT(%#x)", tc.n)
		v, n, err := bitcoin.ReadCoreVarInt(enc)
		require.NoError(t, err)
		require.Equal(t, tc.n, v)
		require.Equal(t, len(enc), n)
	}
	for _, bad := range []string{"", "80", "ff", "80fefefefefefefefeff7f", "fefefefefefefefefeff7f"} {
		b, _ := hex.DecodeString(bad)
		_, _, err := bitcoin.ReadCoreVarInt(b)
		require.Error(t, err, "VARINT %s", bad)
	}
}

// Each script form survives compression; the compressed forms take the sizes Bitcoin Core
// gives them (21, 21, 33, 33 bytes; a raw script VARINT(len+6) and its bytes).
func TestUndoScriptForms(t *testing.T) {
	h20 := bytes.Repeat([]byte{0xab}, 20)
	// Block 9's coinbase key (uncompressed, P2PK) and its compressed form.
	key9, _ := hex.DecodeString("0411db93e1dcdb8a016b49840f8c53bc1eb68a382e97b1482ecad7b148a6909a5cb2e0eaddfb84ccf9744464f82e160bfa9b8b64f9d4c03f999b8643f656b412a3")
	comp := append([]byte{0x02 | key9[64]&1}, key9[1:33]...)
	p2pkh := append(append([]byte{0x76, 0xa9, 20}, h20...), 0x88, 0xac)
	p2sh := append(append([]byte{0xa9, 20}, h20...), 0x87)
	for _, tc := range []struct {
		name   string
		script []byte
		size   int
	}{
		{"p2pkh", p2pkh, 21},
		{"p2sh", p2sh, 21},
		{"p2pk compressed", append(append([]byte{33}, comp...), 0xac), 33},
		{"p2pk uncompressed", append(append([]byte{65}, key9...), 0xac), 33},
		{"p2wpkh raw", append([]byte{0, 20}, h20...), 1 + 22},
		{"p2pk off-curve key raw", append(append([]byte{65, 4}, bytes.Repeat([]byte{1}, 64)...), 0xac), 1 + 67},
		{"empty", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := bitcoin.BlockUndo{{{Height: 9, Coinbase: true, Value: 50 * satsPerBTC, Script: tc.script}}}
			data := bitcoin.AppendBlockUndo(nil, u)
			// counts (2) + code + dummy + amount (1 each: 50 BTC compresses to 0x32) + script
			require.Len(t, data, 2+3+tc.size)
			got, err := bitcoin.DecodeBlockUndo(data)
			require.NoError(t, err)
			require.Equal(t, tc.script, []byte(got[0][0].Script))
			require.Equal(t, u[0][0].Value, got[0][0].Value)
			require.Equal(t, uint32(9), got[0][0].Height)
			require.True(t, got[0][0].Coinbase)
		})
	}
}

// Garbage undo data is an error wrapping ErrBadUndo, never a panic.
func TestDecodeBlockUndoErrors(t *testing.T) {
	good := bitcoin.AppendBlockUndo(nil, bitcoin.BlockUndo{{{Height: 5, Value: 1, Script: []byte{0x51}}}})
	for name, data := range map[string][]byte{
		"truncated":        good[:len(good)-1],
		"trailing":         append(append([]byte(nil), good...), 0),
		"huge count":       {0xfe, 0xff, 0xff, 0xff, 0x7f},
		"value over max":   append([]byte{1, 1, 10, 0}, append(bitcoin.AppendCoreVarInt(nil, bitcoin.CompressAmount(21_000_001*satsPerBTC)), 0)...),
		"x not on curve":   append([]byte{1, 1, 10, 0, 9, 4}, bytes.Repeat([]byte{0xff}, 32)...),
		"short p2pkh body": {1, 1, 10, 0, 9, 0, 1, 2},
	} {
		_, err := bitcoin.DecodeBlockUndo(data)
		require.ErrorIs(t, err, bitcoin.ErrBadUndo, name)
	}
}

func FuzzDecodeBlockUndo(f *testing.F) {
	f.Add(bitcoin.AppendBlockUndo(nil, bitcoin.BlockUndo{{{Height: 5, Value: 1, Script: []byte{0x51}}}}))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := bitcoin.DecodeBlockUndo(data)
		if err != nil {
			return
		}
		// What decodes re-encodes to something that decodes to the same coins.
		again, err := bitcoin.DecodeBlockUndo(bitcoin.AppendBlockUndo(nil, u))
		if err != nil {
			t.Fatalf("re-encoded undo data fails: %v", err)
		}
		if len(again) != len(u) {
			t.Fatalf("re-encoded undo data has %d transactions, want %d", len(again), len(u))
		}
	})
}

// mainnetUndo builds Bitcoin Core undo records for the blocks of a blk file that starts at
// height 1: it replays the blocks' UTXO set and, for each block, serializes the coins its
// inputs spend (CBlockUndo) into a rev-file record checksummed with the parent's hash.
func mainnetUndo(t testing.TB, blkData []byte, net *chaincfg.Params) []byte {
	t.Helper()
	type utxo struct {
		height   uint32
		coinbase bool
		out      *wire.TxOut
	}
	coins := make(map[wire.OutPoint]utxo)
	var rev []byte
	magic := [4]byte{}
	m := uint32(net.Net)
	magic = [4]byte{byte(m), byte(m >> 8), byte(m >> 16), byte(m >> 24)}
	for i, raw := range splitFrames(t, blkData, net) {
		height := uint32(i + 1)
		var msg wire.MsgBlock
		require.NoError(t, msg.Deserialize(bytes.NewReader(raw)))
		var undo bitcoin.BlockUndo
		for ti, tx := range msg.Transactions {
			if ti > 0 {
				var spent []bitcoin.SpentCoin
				for _, in := range tx.TxIn {
					c, ok := coins[in.PreviousOutPoint]
					require.True(t, ok, "block %d spends unknown %s", height, in.PreviousOutPoint)
					delete(coins, in.PreviousOutPoint)
					spent = append(spent, bitcoin.SpentCoin{Height: c.height, Coinbase: c.coinbase,
						Value: uint64(c.out.Value), Script: c.out.PkScript})
				}
				undo = append(undo, spent)
			}
			txid := tx.TxHash()
			for oi, out := range tx.TxOut {
				coins[wire.OutPoint{Hash: txid, Index: uint32(oi)}] = utxo{height, ti == 0, out}
			}
		}
		rev = bitcoin.AppendUndoRecord(rev, magic, msg.Header.PrevBlock, bitcoin.AppendBlockUndo(nil, undo))
	}
	return rev
}

// writeObfuscated writes data to path XORed with key from offset 0, followed by pad zero
// bytes (the preallocated tail, physical zeros).
func writeObfuscated(t testing.TB, path string, data []byte, key [8]byte, pad int) {
	t.Helper()
	out := append([]byte(nil), data...)
	for i := range out {
		out[i] ^= key[i%8]
	}
	require.NoError(t, os.WriteFile(path, append(out, make([]byte, pad)...), 0o644))
}

// mainnetDirs writes blocks 1–255 into two obfuscated blocks directories, one with the
// undo file rev00000.dat and one without.
func mainnetDirs(t testing.TB) (withUndo, without string) {
	t.Helper()
	blk := readBz2(t, "blocks1-256.bz2")
	key := [8]byte{0x5a, 0x13, 0x77, 0x01, 0xfe, 0x42, 0x00, 0x99}
	rev := mainnetUndo(t, blk, &chaincfg.MainNetParams)
	withUndo, without = t.TempDir(), t.TempDir()
	for _, dir := range []string{withUndo, without} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "xor.dat"), key[:], 0o644))
		writeObfuscated(t, filepath.Join(dir, "blk00000.dat"), blk, key, 0)
	}
	writeObfuscated(t, filepath.Join(withUndo, "rev00000.dat"), rev, key, 4096)
	return withUndo, without
}

func openWindow(t testing.TB, dir string, start uint64, noUndo bool) *bitcoin.BlockFiles {
	t.Helper()
	bf, err := bitcoin.OpenBlockFiles(context.Background(), dir,
		bitcoin.BlockFilesOptions{Net: &chaincfg.MainNetParams, WindowStart: start, NoUndo: noUndo})
	require.NoError(t, err)
	t.Cleanup(func() { bf.Close() })
	return bf
}

// The undo records written from Bitcoin Core's format carry exactly the outputs the
// blocks spend: every input of a window resolved from them has the value and address of
// the output a full pass over the blocks gives it, and so does the scan without undo data.
func TestWindowPrevoutsMatchFullPass(t *testing.T) {
	ctx := context.Background()
	withUndo, without := mainnetDirs(t)
	full := make(map[graph.Outpoint]graph.TxOut)
	require.NoError(t, mustOpen(t, without, &chaincfg.MainNetParams).Blocks(ctx, func(b *graph.Block) error {
		for _, tx := range b.UTXOTxs {
			for i, o := range tx.Outputs {
				full[graph.Outpoint{TxID: tx.TxID, Index: uint32(i)}] = o
			}
		}
		return nil
	}))
	for _, start := range []uint64{2, 100, 171, 255} {
		for _, tc := range []struct {
			dir    string
			noUndo bool
			method bitcoin.PrevoutMethod
		}{{withUndo, false, bitcoin.PrevoutsUndo}, {without, false, bitcoin.PrevoutsScan}, {withUndo, true, bitcoin.PrevoutsScan}} {
			bf := openWindow(t, tc.dir, start, tc.noUndo)
			resolved, first := 0, uint64(0)
			require.NoError(t, bf.Blocks(ctx, func(b *graph.Block) error {
				if first == 0 {
					first = b.Height
				}
				for _, tx := range b.UTXOTxs {
					for _, in := range tx.Inputs {
						if !in.Resolved {
							continue
						}
						resolved++
						o, ok := full[in.Prev]
						require.True(t, ok)
						require.Equal(t, o.Address, in.Address, "%s", in.Prev)
						require.Equal(t, o.Value, in.Value, "%s", in.Prev)
					}
				}
				return nil
			}))
			require.Equal(t, start, first)
			require.Equal(t, tc.method, bf.PrevoutMethod(), "start %d", start)
			if start > 9 && start <= 170 {
				require.Positive(t, resolved, "start %d: block 170 spends block 9's coinbase", start)
			}
		}
	}
}

// An undo record whose checksum does not cover its block's parent belongs to no block of
// the chain: the window falls back to the scan. A record that fits but does not decode is
// an error naming the rev file and block.
func TestWindowUndoChecksumAndGarbage(t *testing.T) {
	ctx := context.Background()
	withUndo, _ := mainnetDirs(t)
	revPath := filepath.Join(withUndo, "rev00000.dat")
	key, err := bitcoin.ReadXORKey(withUndo)
	require.NoError(t, err)
	orig, err := os.ReadFile(revPath)
	require.NoError(t, err)
	plain := append([]byte(nil), orig...)
	for i := range plain[:len(plain)-4096] {
		plain[i] ^= key[i%8]
	}
	// The last record (block 255): flip a byte of its checksum.
	plain = plain[:len(plain)-4096]
	bad := append([]byte(nil), plain...)
	end := bytes.LastIndex(bad, []byte{0xf9, 0xbe, 0xb4, 0xd9})
	require.Positive(t, end)
	n := int(bad[end+4]) | int(bad[end+5])<<8
	bad[end+8+n] ^= 1
	writeObfuscated(t, revPath, bad, key, 4096)
	bf := openWindow(t, withUndo, 200, false)
	blocks := 0
	require.NoError(t, bf.Blocks(ctx, func(*graph.Block) error { blocks++; return nil }))
	require.Equal(t, 56, blocks)
	require.Equal(t, bitcoin.PrevoutsScan, bf.PrevoutMethod())

	// A bad magic is an error naming the file.
	bad = append([]byte(nil), plain...)
	bad[end] ^= 0xff
	writeObfuscated(t, revPath, bad, key, 4096)
	bf = openWindow(t, withUndo, 200, false)
	err = bf.Blocks(ctx, func(*graph.Block) error { return nil })
	require.ErrorIs(t, err, bitcoin.ErrBadMagic)
	require.ErrorContains(t, err, "rev00000.dat")

	// Block 170's record replaced by one with the right transaction count and checksum
	// whose coin does not decode: the error names the file and the block.
	var recs [][]byte
	for rest := plain; len(rest) > 0; {
		n := int(binary.LittleEndian.Uint32(rest[4:]))
		recs = append(recs, rest[:8+n+32])
		rest = rest[8+n+32:]
	}
	require.Len(t, recs, 255)
	h169, err := bf.BlockHash(ctx, 169)
	require.NoError(t, err)
	parent, err := chainhash.NewHashFromStr(h169)
	require.NoError(t, err)
	recs[169] = bitcoin.AppendUndoRecord(nil, [4]byte{0xf9, 0xbe, 0xb4, 0xd9}, *parent, []byte{1, 1, 0xff})
	writeObfuscated(t, revPath, bytes.Join(recs, nil), key, 0)
	bf = openWindow(t, withUndo, 100, false)
	err = bf.Blocks(ctx, func(*graph.Block) error { return nil })
	require.ErrorIs(t, err, bitcoin.ErrBadUndo)
	require.ErrorContains(t, err, "rev00000.dat")
	require.ErrorContains(t, err, "block 170")
	require.Equal(t, bitcoin.PrevoutsUndo, bf.PrevoutMethod())

}

// FuzzUndoFile: whatever rev00000.dat holds, a window over blocks 1–255 either resolves
// every input from before it with the value and address of the output it spends, or fails
// with an error; it never panics.
func FuzzUndoFile(f *testing.F) {
	blk := readBz2(f, "blocks1-256.bz2")
	rev := mainnetUndo(f, blk, &chaincfg.MainNetParams)
	f.Add(rev, uint8(200))
	f.Add(rev[:len(rev)-40], uint8(171))
	f.Add(append(append([]byte(nil), rev...), make([]byte, 100)...), uint8(10))
	dir := f.TempDir()
	require.NoError(f, os.WriteFile(filepath.Join(dir, "blk00000.dat"), blk, 0o644))
	full := make(map[graph.Outpoint]graph.TxOut)
	bf, err := bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: &chaincfg.MainNetParams})
	require.NoError(f, err)
	require.NoError(f, bf.Blocks(context.Background(), func(b *graph.Block) error {
		for _, tx := range b.UTXOTxs {
			for i, o := range tx.Outputs {
				full[graph.Outpoint{TxID: tx.TxID, Index: uint32(i)}] = o
			}
		}
		return nil
	}))
	bf.Close()
	f.Fuzz(func(t *testing.T, data []byte, start uint8) {
		if start < 2 {
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "rev00000.dat"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		bf, err := bitcoin.OpenBlockFiles(context.Background(), dir,
			bitcoin.BlockFilesOptions{Net: &chaincfg.MainNetParams, WindowStart: uint64(start)})
		if err != nil {
			t.Fatal(err)
		}
		defer bf.Close()
		_ = bf.Blocks(context.Background(), func(b *graph.Block) error {
			for _, tx := range b.UTXOTxs {
				for _, in := range tx.Inputs {
					if in.Resolved {
						o := full[in.Prev]
						if o.Address != in.Address || o.Value != in.Value {
							t.Fatalf("block %d: %s resolved to %s %s, the block pays %s %s",
								b.Height, in.Prev, in.Value.Dec(), in.Address, o.Value.Dec(), o.Address)
						}
					}
				}
			}
			return nil
		})
	})
}
