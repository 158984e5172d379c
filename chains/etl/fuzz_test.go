package etl_test

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/graph"
)

// checkBlocks asserts what every successful reading must satisfy.
func checkBlocks(t *testing.T, bs []graph.Block) {
	t.Helper()
	for i := range bs {
		b := &bs[i]
		if i > 0 && b.Height <= bs[i-1].Height {
			t.Fatalf("block %d after %d", b.Height, bs[i-1].Height)
		}
		for j := range b.AccountTxs {
			tx := &b.AccountTxs[j]
			if tx.Index != uint32(j) {
				t.Fatalf("block %d: tx %d has index %d", b.Height, j, tx.Index)
			}
			if !tx.Success && len(tx.Transfers) > 0 {
				t.Fatalf("failed tx %s has transfers", tx.Hash)
			}
			for _, tr := range tx.Transfers {
				if !strings.HasPrefix(tr.ID, tx.Hash+".") && !strings.HasPrefix(tr.ID, b.Hash+".") {
					t.Fatalf("transfer %s not named after tx %s", tr.ID, tx.Hash)
				}
				if tr.Amount.IsZero() {
					t.Fatalf("zero transfer %s", tr.ID)
				}
			}
		}
		for j := range b.UTXOTxs {
			tx := &b.UTXOTxs[j]
			if tx.Index != uint32(j) || tx.Coinbase != (j == 0) || (tx.Coinbase && len(tx.Inputs) > 0) {
				t.Fatalf("block %d: utxo tx %d malformed: %+v", b.Height, j, tx)
			}
			for _, in := range tx.Inputs {
				if in.Resolved && in.Address == "" {
					t.Fatalf("resolved input without address in %s", tx.TxID)
				}
			}
		}
	}
}

// csvToJSON rewrites a CSV table as JSON lines with every cell a JSON string (empty cells
// null). It returns false if the CSV does not parse or repeats a header.
func csvToJSON(text string) (string, bool) {
	r := csv.NewReader(strings.NewReader(text))
	rows, err := r.ReadAll()
	if err != nil {
		return "", false
	}
	if len(rows) == 0 {
		return "", true
	}
	seen := map[string]bool{}
	for _, h := range rows[0] {
		if seen[h] || strings.HasPrefix(h, "\ufeff") || strings.TrimSpace(h) != h {
			return "", false
		}
		seen[h] = true
	}
	var b strings.Builder
	for _, row := range rows[1:] {
		m := map[string]any{}
		for i, h := range rows[0] {
			if strings.ContainsAny(row[i], "\n\r") {
				return "", false // line numbers would differ: not comparable
			}
			if row[i] == "" {
				m[h] = nil
			} else {
				m[h] = row[i]
			}
		}
		line, _ := json.Marshal(m)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String(), true
}

func FuzzEthereumCSV(f *testing.F) {
	read := func(p string) string { return readFixture(f, p) }
	f.Add(read("ethereum/block_483920/blocks.csv"), read("ethereum/block_483920/transactions.csv"),
		read("ethereum/block_483920/receipts.csv"), "", read("ethereum/block_483920/token_transfers.csv"))
	for _, n := range []string{"1000000", "1000690", "1000895", "1011973"} {
		d := "ethereum/traces_" + n + "/"
		f.Add(read(d+"blocks.csv"), read(d+"transactions.csv"), read(d+"receipts.csv"), read(d+"traces_parity.csv"), "")
		f.Add(read(d+"blocks.csv"), read(d+"transactions.csv"), read(d+"receipts.csv"), read(d+"traces_geth.csv"), "")
	}
	f.Fuzz(fuzzEthereumCSV)
}

// fuzzEthereumCSV reads the tables as CSV and, when that succeeds, the same tables as JSON
// lines: both must give the same Blocks.
func fuzzEthereumCSV(t *testing.T, blocks, txs, receipts, traces, tokens string) {
	{
		exp := func(format etl.Format, b, tx, rc, tr, tt string) etl.EthereumExport {
			e := etl.EthereumExport{Blocks: etl.StringSource("blocks", format, b), Transactions: etl.StringSource("transactions", format, tx),
				Receipts: etl.StringSource("receipts", format, rc), NoTraces: tr == "", NoTokenTransfers: tt == "",
				Options: etl.Options{AllowIncompleteTraces: true}}
			if tr != "" {
				e.Traces = etl.StringSource("traces", format, tr)
			}
			if tt != "" {
				e.TokenTransfers = etl.StringSource("token_transfers", format, tt)
			}
			return e
		}
		bs, err := etl.ReadEthereumBlocks(ctx, exp(etl.FormatCSV, blocks, txs, receipts, traces, tokens))
		if err != nil {
			var e *etl.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *etl.Error", err)
			}
			return
		}
		checkBlocks(t, bs)
		// the same tables as JSON lines must read the same
		var js [5]string
		for i, s := range []string{blocks, txs, receipts, traces, tokens} {
			var ok bool
			if js[i], ok = csvToJSON(s); !ok {
				return
			}
		}
		bj, err := etl.ReadEthereumBlocks(ctx, exp(etl.FormatJSON, js[0], js[1], js[2], js[3], js[4]))
		if err != nil {
			t.Fatalf("CSV reads, JSON does not: %v", err)
		}
		if dump(bs) != dump(bj) {
			t.Fatalf("CSV and JSON differ:\n%s\n%s", dump(bs), dump(bj))
		}
	}
}

func FuzzEthereumJSON(f *testing.F) {
	read := func(p string) string { return readFixture(f, p) }
	f.Add(read("ethereum/blocks_1755634_1755635/blocks.json"), read("ethereum/blocks_1755634_1755635/transactions.json"),
		"", "", read("ethereum/blocks_1755634_1755635/logs.json"))
	f.Add(read("ethereum/blocks_1755634_1755635/blocks.json"), read("ethereum/blocks_1755634_1755635/transactions.json"),
		"", "", read("ethereum/blocks_1755634_1755635/token_transfers.json"))
	f.Add(`{"number": 508110, "hash": "0xc881ee96ddf8b5be74d7680ccda437466b14b9d942aa0161f139fe920690f665", "timestamp": 1446973196, "withdrawals": [{"index": 1, "validator_index": 2, "address": "0xb9d7934878b5fb9610b3fe8a5e441e8fad7e293f", "amount": "3"}]}`,
		`{"hash": "0x435f5f71090a14a7eca2d7c14103f9dbaa962777bc959794e5c6d17ed771406e", "block_number": 508110, "transaction_index": 0, "from_address": "0xfecab546498f74591d4f6d448a4a63552850f122", "to_address": "0x32be343b94f860124dc4fee278fdcbd38c102d88", "value": 4949989500000000000, "receipt_gas_used": 21000, "receipt_effective_gas_price": 1, "receipt_status": 1}`,
		"", `{"block_number": 508110, "transaction_index": 0, "from_address": "0xfecab546498f74591d4f6d448a4a63552850f122", "to_address": "0x32be343b94f860124dc4fee278fdcbd38c102d88", "value": 4949989500000000000, "trace_type": "call", "call_type": "call", "trace_address": [], "error": null}`, "")
	f.Add(read("ethereum/traces_508110/blocks.csv"), read("ethereum/traces_508110/transactions.csv"), read("ethereum/traces_508110/receipts.csv"),
		read("ethereum/traces_508110/traces.json"), "")
	// A Uniswap V2 swap: Transfer into the pair, Transfer out, Swap (the link detectors run).
	pair, user, tokA, tokB := "0x0000000000000000000000000000000000000a11", "0x0000000000000000000000000000000000000b0b", "0x00000000000000000000000000000000000000aa", "0x00000000000000000000000000000000000000bb"
	pad := func(a string) string { return "0x000000000000000000000000" + a[2:] }
	wd := func(v int) string { return fmt.Sprintf("%064x", v) }
	const swapTx = "0x1111111111111111111111111111111111111111111111111111111111111111"
	logLine := func(i int, addr string, topics []string, data string) string {
		return fmt.Sprintf(`{"log_index": %d, "transaction_hash": %q, "transaction_index": 0, "block_number": 17000000, "address": %q, "data": "0x%s", "topics": ["%s"]}`,
			i, swapTx, addr, data, strings.Join(topics, `", "`))
	}
	f.Add(`{"number": 17000000, "hash": "0x2222222222222222222222222222222222222222222222222222222222222222", "timestamp": 1681000000}`,
		`{"hash": "`+swapTx+`", "block_number": 17000000, "transaction_index": 0, "from_address": "`+user+`", "to_address": "`+pair+`", "value": 0, "receipt_gas_used": 100000, "receipt_effective_gas_price": 1, "receipt_status": 1}`,
		"", "", strings.Join([]string{
			logLine(0, tokA, []string{"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef", pad(user), pad(pair)}, wd(1000)),
			logLine(1, tokB, []string{"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef", pad(pair), pad(user)}, wd(997)),
			logLine(2, pair, []string{"0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822", pad(user), pad(user)}, wd(1000)+wd(0)+wd(0)+wd(997)),
		}, "\n"))
	f.Fuzz(func(t *testing.T, blocks, txs, receipts, traces, tokens string) {
		e := etl.EthereumExport{Blocks: etl.StringSource("blocks", etl.FormatAuto, blocks), Transactions: etl.StringSource("transactions", etl.FormatAuto, txs),
			NoTraces: traces == "", NoTokenTransfers: tokens == ""}
		if receipts != "" {
			e.Receipts = etl.StringSource("receipts", etl.FormatAuto, receipts)
		}
		if traces != "" {
			e.Traces = etl.StringSource("traces", etl.FormatAuto, traces)
		}
		if strings.Contains(tokens, `"topics"`) {
			e.Logs = etl.StringSource("logs", etl.FormatAuto, tokens)
		} else if tokens != "" {
			e.TokenTransfers = etl.StringSource("token_transfers", etl.FormatAuto, tokens)
		}
		bs, err := etl.ReadEthereumBlocks(ctx, e)
		if err != nil {
			var ee *etl.Error
			if !errors.As(err, &ee) {
				t.Fatalf("error %v is not an *etl.Error", err)
			}
			return
		}
		checkBlocks(t, bs)
		ids := map[string]bool{}
		for _, b := range bs {
			for _, tx := range b.AccountTxs {
				for _, x := range tx.Transfers {
					ids[x.ID] = true
				}
			}
		}
		for _, b := range bs {
			for _, p := range b.Links {
				for _, l := range append(append([]graph.Leg(nil), p.In...), p.Out...) {
					if !ids[l.Ref] {
						t.Fatalf("link %s: leg %s is no transfer", p.Key, l)
					}
				}
			}
		}
	})
}

func FuzzBitcoinJSON(f *testing.F) {
	read := func(p string) string { return readFixture(f, p) }
	for _, d := range []string{"block_0", "block_1", "block_50000", "blocks_50001_50002_raw", "blocks_50001_50002_enriched"} {
		f.Add(read("bitcoin/"+d+"/blocks.json"), read("bitcoin/"+d+"/transactions.json"))
		f.Add("", read("bitcoin/"+d+"/transactions.json"))
	}
	f.Fuzz(func(t *testing.T, blocks, txs string) {
		e := etl.BitcoinExport{Transactions: etl.StringSource("transactions", etl.FormatJSON, txs)}
		if blocks != "" {
			e.Blocks = etl.StringSource("blocks", etl.FormatJSON, blocks)
		}
		bs, err := etl.ReadBitcoinBlocks(ctx, e)
		if err != nil {
			var ee *etl.Error
			if !errors.As(err, &ee) {
				t.Fatalf("error %v is not an *etl.Error", err)
			}
			return
		}
		checkBlocks(t, bs)
	})
}
