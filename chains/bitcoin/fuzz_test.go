package bitcoin_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
)

// fuzzSeeds are real blk-file contents: blocks 1..3 and block 170 of mainnet, whole,
// truncated and garbled.
func fuzzSeeds(f *testing.F) [][]byte {
	net := &chaincfg.MainNetParams
	raws := splitFrames(f, readBz2(f, "blocks1-256.bz2"), net)
	good := append(append(append(frame(net, raws[0]), frame(net, raws[1])...), frame(net, raws[2])...), frame(net, raws[169])...)
	garbled := append([]byte(nil), good...)
	for i := 100; i < len(garbled); i += 97 {
		garbled[i] ^= 0x5a
	}
	return [][]byte{good, good[:len(good)/2], good[:9], garbled, append(append([]byte(nil), good...), make([]byte, 64)...),
		frame(net, raws[169])[:300], {0xf9, 0xbe, 0xb4, 0xd9, 0xff, 0xff, 0xff, 0xff}}
}

// FuzzScanBlockFile feeds arbitrary bytes to the frame scanner and the block decoder, with
// and without an obfuscation key: errors, never panics; decoded blocks re-encode their
// txids consistently (every output address is canonical text or empty for OP_RETURN).
func FuzzScanBlockFile(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, uint64(0))
		f.Add(s, uint64(0x0102030405060708))
	}
	net := &chaincfg.MainNetParams
	f.Fuzz(func(t *testing.T, data []byte, key uint64) {
		var k bitcoin.XORKey
		for i := range k {
			k[i] = byte(key >> (8 * i))
		}
		_ = bitcoin.ScanBlockFile(bytes.NewReader(data), int64(len(data)), "fuzz.dat", net, k, func(off int64, raw []byte) error {
			b, err := bitcoin.DecodeBlock(raw, 1, net)
			if err != nil {
				return nil
			}
			if len(b.UTXOTxs) == 0 || !b.UTXOTxs[0].Coinbase {
				t.Fatalf("decoded block at %d without a coinbase", off)
			}
			for _, tx := range b.UTXOTxs {
				for _, o := range tx.Outputs {
					if o.Address == "" && !o.Unspendable {
						t.Fatalf("tx %s: empty address on a spendable output", tx.TxID)
					}
				}
			}
			return nil
		})
	})
}

// FuzzOpenBlockFiles runs the whole directory reader on one arbitrary blk file.
func FuzzOpenBlockFiles(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	net := &chaincfg.MainNetParams
	dir := f.TempDir() // one file, rewritten by each run: a directory per run is slow
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "blk00000.dat"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		bf, err := bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: net, Workers: 2})
		if err != nil {
			return
		}
		defer bf.Close()
		_ = bitcoin.Stream(context.Background(), bf, func(*graph.Block) error { return nil })
	})
}

// FuzzDecodeTx decodes arbitrary transactions.
func FuzzDecodeTx(f *testing.F) {
	net := &chaincfg.MainNetParams
	raws := splitFrames(f, readBz2(f, "blocks1-256.bz2"), net)
	f.Add(raws[169][81:]) // block 170's transactions after the header and count
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = bitcoin.DecodeTx(data, net)
		_, _, _ = bitcoin.ScriptAddress(data, net)
	})
}

// FuzzDecodeBlockDifferential checks the in-place decoder against btcd's wire decoder on
// the same bytes: both accept or both reject, and accepted blocks normalize identically.
func FuzzDecodeBlockDifferential(f *testing.F) {
	net := &chaincfg.MainNetParams
	raws := splitFrames(f, readBz2(f, "blocks1-256.bz2"), net)
	f.Add(raws[0])
	f.Add(raws[169])
	f.Add(splitFrames(f, readBz2(f, "277647.dat.bz2"), net)[0][:4000])
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := bitcoin.DecodeBlock(raw, 7, net)
		var msg wire.MsgBlock
		r := bytes.NewReader(raw)
		werr := msg.Deserialize(r)
		if werr == nil && r.Len() != 0 {
			werr = errors.New("trailing bytes")
		}
		var want *graph.Block
		if werr == nil {
			want, werr = bitcoin.NormalizeBlock(&msg, 7, net)
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("decoder error %v, wire error %v", err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("decoders disagree:\n%+v\n%+v", got, want)
		}
	})
}
