package etl_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/graph"
)

// synthExport is a generated ethereum-etl export: every transaction pays a value, makes two
// internal calls with value (one of them reverted) and one ERC-20 transfer.
type synthExport struct {
	csv, json [5][]byte // blocks, transactions, receipts, traces, token_transfers
	rows      int
	transfers int
}

const (
	benchBlocks      = 200
	benchTxsPerBlock = 100
)

var (
	synthOnce sync.Once
	synth     synthExport
)

func genExport() *synthExport {
	synthOnce.Do(func() {
		hash := func(kind byte, n int) string { return fmt.Sprintf("0x%c%063x", kind, n) }
		addr := func(n int) string { return fmt.Sprintf("0x%040x", n+1) }
		var c, j [5]bytes.Buffer
		c[0].WriteString("number,hash,parent_hash,timestamp,transaction_count,base_fee_per_gas,withdrawals\n")
		c[1].WriteString("hash,nonce,block_hash,block_number,transaction_index,from_address,to_address,value,gas,gas_price,input,block_timestamp,max_fee_per_gas,max_priority_fee_per_gas,transaction_type\n")
		c[2].WriteString("transaction_hash,transaction_index,block_hash,block_number,cumulative_gas_used,gas_used,contract_address,root,status,effective_gas_price\n")
		c[3].WriteString("block_number,transaction_hash,transaction_index,from_address,to_address,value,input,output,trace_type,call_type,reward_type,gas,gas_used,subtraces,trace_address,error,status,trace_id\n")
		c[4].WriteString("token_address,from_address,to_address,value,transaction_hash,log_index,block_number\n")
		for b := 0; b < benchBlocks; b++ {
			n := 17000000 + b
			bh, ph := hash('b', n), hash('b', n-1)
			fmt.Fprintf(&c[0], "%d,%s,%s,%d,%d,%d,\n", n, bh, ph, 1680000000+12*b, benchTxsPerBlock, 30000000000)
			fmt.Fprintf(&j[0], `{"number": %d, "hash": "%s", "parent_hash": "%s", "timestamp": %d, "transaction_count": %d, "base_fee_per_gas": %d, "withdrawals": []}`+"\n",
				n, bh, ph, 1680000000+12*b, benchTxsPerBlock, 30000000000)
			synth.rows++
			for i := 0; i < benchTxsPerBlock; i++ {
				k := b*benchTxsPerBlock + i
				th, from, to, token := hash('a', k), addr(k%5000), addr(5000+k%700), addr(9000+k%40)
				value := fmt.Sprintf("1%019d", k) // above 2^64 wei
				fmt.Fprintf(&c[1], "%s,%d,%s,%d,%d,%s,%s,%s,90000,31000000000,0xa9059cbb,%d,40000000000,1000000000,2\n", th, k, bh, n, i, from, to, value, 1680000000+12*b)
				fmt.Fprintf(&j[1], `{"hash": "%s", "nonce": %d, "block_hash": "%s", "block_number": %d, "transaction_index": %d, "from_address": "%s", "to_address": "%s", "value": %s, "gas": 90000, "gas_price": 31000000000, "input": "0xa9059cbb", "block_timestamp": %d, "max_fee_per_gas": 40000000000, "max_priority_fee_per_gas": 1000000000, "transaction_type": 2}`+"\n",
					th, k, bh, n, i, from, to, value, 1680000000+12*b)
				fmt.Fprintf(&c[2], "%s,%d,%s,%d,%d,%d,,,1,31000000000\n", th, i, bh, n, 60000*(i+1), 60000)
				fmt.Fprintf(&j[2], `{"transaction_hash": "%s", "transaction_index": %d, "block_hash": "%s", "block_number": %d, "cumulative_gas_used": %d, "gas_used": 60000, "contract_address": null, "root": null, "status": 1, "effective_gas_price": 31000000000}`+"\n",
					th, i, bh, n, 60000*(i+1))
				for _, tr := range []struct{ addr, from, to, value, err string }{
					{"", from, to, value, ""}, {"0", to, addr(7000 + k%300), "5000", ""}, {"1", to, addr(7500 + k%300), "7000", "Reverted"},
				} {
					status := "1"
					if tr.err != "" {
						status = "0"
					}
					addrCSV := tr.addr
					fmt.Fprintf(&c[3], "%d,%s,%d,%s,%s,%s,0x,0x,call,call,,50000,20000,0,%s,%s,%s,call_%s_%s\n", n, th, i, tr.from, tr.to, tr.value, addrCSV, tr.err, status, th, tr.addr)
					addrJSON := "[]"
					if tr.addr != "" {
						addrJSON = "[" + tr.addr + "]"
					}
					errJSON := "null"
					if tr.err != "" {
						errJSON = `"` + tr.err + `"`
					}
					fmt.Fprintf(&j[3], `{"block_number": %d, "transaction_hash": "%s", "transaction_index": %d, "from_address": "%s", "to_address": "%s", "value": %s, "input": "0x", "output": "0x", "trace_type": "call", "call_type": "call", "reward_type": null, "gas": 50000, "gas_used": 20000, "subtraces": 0, "trace_address": %s, "error": %s, "status": %s, "trace_id": "call_%s_%s"}`+"\n",
						n, th, i, tr.from, tr.to, tr.value, addrJSON, errJSON, status, th, tr.addr)
				}
				fmt.Fprintf(&c[4], "%s,%s,%s,%d,%s,%d,%d\n", token, from, to, 1000+k, th, i, n)
				fmt.Fprintf(&j[4], `{"token_address": "%s", "from_address": "%s", "to_address": "%s", "value": "%d", "transaction_hash": "%s", "log_index": %d, "block_number": %d}`+"\n",
					token, from, to, 1000+k, th, i, n)
				synth.rows += 1 + 1 + 3 + 1
				synth.transfers += 4 // call value, two internal (one reverted), one ERC-20
			}
		}
		for i := range c {
			synth.csv[i], synth.json[i] = c[i].Bytes(), j[i].Bytes()
		}
	})
	return &synth
}

func synthSource(name string, f etl.Format, data []byte) etl.Source {
	return etl.Source{Name: name, Format: f, R: bytes.NewReader(data)}
}

func readSynth(tb testing.TB, s *synthExport, f etl.Format) (blocks, transfers int) {
	tables := s.csv
	if f == etl.FormatJSON {
		tables = s.json
	}
	err := etl.ReadEthereum(ctx, etl.EthereumExport{
		Blocks: synthSource("blocks", f, tables[0]), Transactions: synthSource("transactions", f, tables[1]),
		Receipts: synthSource("receipts", f, tables[2]), Traces: synthSource("traces", f, tables[3]),
		TokenTransfers: synthSource("token_transfers", f, tables[4]),
	}, func(b *graph.Block) error {
		blocks++
		for i := range b.AccountTxs {
			transfers += len(b.AccountTxs[i].Transfers)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return blocks, transfers
}

// The generated export reads completely, identically from CSV and JSON.
func TestSyntheticExport(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 20,000 transactions")
	}
	s := genExport()
	for _, f := range []etl.Format{etl.FormatCSV, etl.FormatJSON} {
		blocks, transfers := readSynth(t, s, f)
		if blocks != benchBlocks || transfers != s.transfers {
			t.Fatalf("%v: %d blocks, %d transfers; want %d, %d", f, blocks, transfers, benchBlocks, s.transfers)
		}
	}
}

// BenchmarkReadEthereum decodes a generated export of 200 blocks × 100 transactions (each
// with a receipt, three traces and a token transfer: 120,200 rows, 80,000 transfers). The
// baseline is encoding/csv alone reading the same CSV bytes in the same run: the floor any
// CSV reader pays.
func BenchmarkReadEthereum(b *testing.B) {
	s := genExport()
	report := func(b *testing.B, cpu0 time.Duration, rows, transfers int) {
		sec := b.Elapsed().Seconds()
		b.ReportMetric(float64(rows*b.N)/sec, "rows/s")
		if transfers > 0 {
			b.ReportMetric(float64(transfers*b.N)/sec, "transfers/s")
		}
		// CPU time is steadier than wall time on a shared machine
		b.ReportMetric(float64(rows*b.N)/(processCPU()-cpu0).Seconds(), "rows/cpu-s")
	}
	b.Run("csv-parse-baseline", func(b *testing.B) {
		cpu0 := processCPU()
		for b.Loop() {
			for _, t := range s.csv {
				r := csv.NewReader(bytes.NewReader(t))
				r.ReuseRecord = true
				for {
					if _, err := r.Read(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		report(b, cpu0, s.rows, 0)
	})
	for _, f := range []etl.Format{etl.FormatCSV, etl.FormatJSON} {
		b.Run(f.String(), func(b *testing.B) {
			var transfers int
			cpu0 := processCPU()
			for b.Loop() {
				_, transfers = readSynth(b, s, f)
			}
			report(b, cpu0, s.rows, transfers)
		})
	}
}

// BenchmarkReadBitcoin decodes a generated enriched bitcoin-etl export (200 blocks × 100
// transactions of 2 inputs and 2 outputs).
func BenchmarkReadBitcoin(b *testing.B) {
	var blocks, txs strings.Builder
	addrs := []string{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "12c6DSiU4Rq3P4ZxziKxzrL5LmMBrzjrJX", "1HaHTfmvoUW6i6nhJf8jJs6tU4cHNmBQHQ"}
	rows := 0
	for bl := 0; bl < benchBlocks; bl++ {
		n := 800000 + bl
		bh := fmt.Sprintf("%064x", n)
		fmt.Fprintf(&blocks, `{"hash": "%s", "number": %d, "timestamp": %d, "transaction_count": %d}`+"\n", bh, n, 1690000000+600*bl, benchTxsPerBlock)
		rows++
		for i := 0; i < benchTxsPerBlock; i++ {
			k := bl*benchTxsPerBlock + i
			out := fmt.Sprintf(`[{"index": 0, "script_hex": "76a914", "type": "pubkeyhash", "addresses": ["%s"], "value": 70000}, {"index": 1, "script_hex": "76a914", "type": "pubkeyhash", "addresses": ["%s"], "value": 20000}]`, addrs[k%3], addrs[(k+1)%3])
			if i == 0 {
				fmt.Fprintf(&txs, `{"hash": "%064x", "block_number": %d, "block_hash": "%s", "block_timestamp": %d, "is_coinbase": true, "index": 0, "inputs": [], "outputs": %s, "output_value": 90000}`+"\n", k, n, bh, 1690000000+600*bl, out)
			} else {
				fmt.Fprintf(&txs, `{"hash": "%064x", "block_number": %d, "block_hash": "%s", "block_timestamp": %d, "is_coinbase": false, "index": %d, "inputs": [{"index": 0, "spent_transaction_hash": "%064x", "spent_output_index": 0, "type": "pubkeyhash", "addresses": ["%s"], "value": 50000}, {"index": 1, "spent_transaction_hash": "%064x", "spent_output_index": 1, "type": "pubkeyhash", "addresses": ["%s"], "value": 50000}], "outputs": %s, "input_value": 100000, "output_value": 90000, "fee": 10000}`+"\n",
					k, n, bh, 1690000000+600*bl, i, k+1<<40, addrs[k%3], k+2<<40, addrs[(k+2)%3], out)
			}
			rows++
		}
	}
	bt, tt := []byte(blocks.String()), []byte(txs.String())
	cpu0 := processCPU()
	for b.Loop() {
		err := etl.ReadBitcoin(ctx, etl.BitcoinExport{Blocks: synthSource("blocks", etl.FormatJSON, bt), Transactions: synthSource("transactions", etl.FormatJSON, tt)},
			func(*graph.Block) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(rows*b.N)/(processCPU()-cpu0).Seconds(), "rows/cpu-s")
}

// processCPU is the user+system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
