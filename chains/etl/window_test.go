package etl_test

import (
	"compress/bzip2"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// An enriched bitcoin-etl export carries each input's value and address, so an export that
// starts mid-chain needs nothing from before it. Mainnet blocks 1–255 (btcd's blk file) are
// exported from block 100 in bitcoin-etl's transactions.json form, with the spent outputs'
// values and addresses filled from the blocks themselves; a trace of the export gives the
// exposure of the full replay of the blk file (seed: the block-9 coinbase address;
// exchange: the block-170 recipient).
func TestBitcoinWindowEqualsFullReplay(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "bitcoin", "blocks1-256.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blk, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blk00000.dat"), blk, 0o644); err != nil {
		t.Fatal(err)
	}
	bf, err := bitcoin.OpenBlockFiles(ctx, dir, bitcoin.BlockFilesOptions{Net: &chaincfg.MainNetParams})
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()

	const start = 100
	outs := map[graph.Outpoint]graph.TxOut{}
	export := filepath.Join(dir, "transactions.json")
	w, err := os.Create(export)
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(w)
	err = bf.Blocks(ctx, func(b *graph.Block) error {
		for _, tx := range b.UTXOTxs {
			if b.Height >= start {
				ins := []map[string]any{}
				for i, in := range tx.Inputs {
					o := outs[in.Prev]
					ins = append(ins, map[string]any{"index": i, "spent_transaction_hash": in.Prev.TxID,
						"spent_output_index": in.Prev.Index, "addresses": []string{string(o.Address)}, "value": o.Value.Uint64()})
				}
				os := []map[string]any{}
				for i, o := range tx.Outputs {
					os = append(os, map[string]any{"index": i, "script_hex": "", "addresses": []string{string(o.Address)}, "value": o.Value.Uint64()})
				}
				if err := enc.Encode(map[string]any{"type": "transaction", "hash": tx.TxID, "block_number": b.Height,
					"block_hash": b.Hash, "block_timestamp": b.Time, "is_coinbase": tx.Coinbase, "index": tx.Index,
					"inputs": ins, "outputs": os}); err != nil {
					return err
				}
			}
			for i, o := range tx.Outputs {
				outs[graph.Outpoint{TxID: tx.TxID, Index: uint32(i)}] = o
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	for _, method := range []string{trace.Haircut, trace.Poison, trace.FIFO} {
		run := func(replay func(fn func(*graph.Block) error) error) *trace.Result {
			eng, err := trace.NewEngine(trace.Config{Model: graph.UTXO, Method: method,
				Seeds:     []trace.Seed{{Address: "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", Source: "block9"}},
				Exchanges: map[string][]graph.Address{"hal": {"1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"}},
				Params:    trace.DefaultParams()})
			if err != nil {
				t.Fatal(err)
			}
			if err := replay(eng.ApplyBlock); err != nil {
				t.Fatal(err)
			}
			return eng.Result()
		}
		full := run(func(fn func(*graph.Block) error) error { return bitcoin.Stream(ctx, bf, fn) })
		win := run(func(fn func(*graph.Block) error) error {
			src, err := etl.OpenFile(export)
			if err != nil {
				return err
			}
			defer src.Close()
			return etl.ReadBitcoin(ctx, etl.BitcoinExport{Transactions: src}, fn)
		})
		if x := full.Exposure["hal"].Asset(graph.BTC); x == nil || x.TaintedTotal.IsZero() {
			t.Fatalf("%s: the full replay finds no taint at the exchange", method)
		}
		if win.Stats.OutsideWindowInputs == 0 || win.Stats.Blocks != 256-start {
			t.Fatalf("%s: the export's trace saw %d blocks, %d inputs from before it", method, win.Stats.Blocks, win.Stats.OutsideWindowInputs)
		}
		if !reflect.DeepEqual(full.Exposure, win.Exposure) {
			t.Errorf("%s: export window exposure %+v, full replay %+v", method, win.Exposure["hal"], full.Exposure["hal"])
		}
	}
}
