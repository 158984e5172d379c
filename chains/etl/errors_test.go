package etl_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/graph"
)

// editLine replaces old by new in the 1-based line n of text (n = 0: every line).
func editLine(t *testing.T, text string, n int, old, new string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	done := false
	for i := range lines {
		if (n == 0 || i == n-1) && strings.Contains(lines[i], old) {
			lines[i] = strings.Replace(lines[i], old, new, 1)
			done = true
		}
	}
	if !done {
		t.Fatalf("line %d has no %q", n, old)
	}
	return strings.Join(lines, "\n")
}

func dropColumn(t *testing.T, text, col string) string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(text, "\r\n"), "\n")
	hdr := strings.Split(strings.TrimRight(lines[0], "\r"), ",")
	k := -1
	for i, h := range hdr {
		if h == col {
			k = i
		}
	}
	if k < 0 {
		t.Fatalf("no column %s", col)
	}
	for i, l := range lines {
		f := strings.Split(strings.TrimRight(l, "\r"), ",") // the 483920 files have no quoted commas
		lines[i] = strings.Join(append(f[:k:k], f[k+1:]...), ",")
	}
	return strings.Join(lines, "\n") + "\n"
}

type badCase struct {
	name     string
	edit     func(t *testing.T, tables map[string]string)
	sentinel error
	also     error // a second error the chain must wrap, if any
	file     string
	line     int
	column   string
}

func TestEthereumBadInput(t *testing.T) {
	const tx2 = "0x463d53f0ad57677a3b430a007c1c31d15d62c37fab5eee598551697c297c235c"
	cases := []badCase{
		{"bad number", func(t *testing.T, m map[string]string) {
			m["transactions.csv"] = editLine(t, m["transactions.csv"], 3, ",483920,", ",48392x,")
		}, etl.ErrBadValue, nil, "transactions.csv", 3, "block_number"},
		{"wei above 2^256", func(t *testing.T, m map[string]string) {
			m["transactions.csv"] = editLine(t, m["transactions.csv"], 4, ",11000440000000000,", ","+"1"+strings.Repeat("0", 78)+",")
		}, etl.ErrBadValue, graph.ErrBadAmount, "transactions.csv", 4, "value"},
		{"negative value", func(t *testing.T, m map[string]string) {
			m["transactions.csv"] = editLine(t, m["transactions.csv"], 4, ",11000440000000000,", ",-11000440000000000,")
		}, etl.ErrBadValue, graph.ErrBadAmount, "transactions.csv", 4, "value"},
		{"fractional value", func(t *testing.T, m map[string]string) {
			m["transactions.csv"] = editLine(t, m["transactions.csv"], 4, ",11000440000000000,", ",1.5e16,")
		}, etl.ErrBadValue, graph.ErrBadAmount, "transactions.csv", 4, "value"},
		{"bad address", func(t *testing.T, m map[string]string) {
			m["transactions.csv"] = editLine(t, m["transactions.csv"], 2, "0x1b63142628311395ceafeea5667e7c9026c862ca", "0x1b63142628311395ceafeea5667e7c9026c862")
		}, etl.ErrBadValue, graph.ErrBadAddress, "transactions.csv", 2, "from_address"},
		{"missing column", func(t *testing.T, m map[string]string) {
			m["transactions.csv"] = dropColumn(t, m["transactions.csv"], "value")
		}, etl.ErrMissingColumn, nil, "transactions.csv", 1, "value"},
		{"unknown header", func(t *testing.T, m map[string]string) {
			m["receipts.csv"] = editLine(t, m["receipts.csv"], 1, ",gas_used,", ",gaz_used,")
		}, etl.ErrUnknownColumn, nil, "receipts.csv", 1, "gaz_used"},
		{"logs given as transactions", func(t *testing.T, m map[string]string) {
			m["transactions.csv"] = m["logs.csv"]
		}, etl.ErrUnknownColumn, nil, "transactions.csv", 1, "log_index"},
		{"short row", func(t *testing.T, m map[string]string) {
			m["receipts.csv"] = editLine(t, m["receipts.csv"], 3, ",,,,", ",,,")
		}, etl.ErrBadRow, nil, "receipts.csv", 3, ""},
		{"out-of-order block", func(t *testing.T, m map[string]string) {
			rows := strings.Split(strings.TrimSpace(m["blocks.csv"]), "\n")
			m["blocks.csv"] = m["blocks.csv"] + editLine(t, rows[1], 1, "483920,", "483919,") + "\n"
		}, etl.ErrOutOfOrder, nil, "blocks.csv", 3, ""},
		{"receipt of a block not in the export", func(t *testing.T, m map[string]string) {
			m["receipts.csv"] = editLine(t, m["receipts.csv"], 2, ",483920,", ",483919,")
		}, etl.ErrUnknownBlock, nil, "receipts.csv", 2, ""},
		{"transaction of a block not in the export", func(t *testing.T, m map[string]string) {
			rows := strings.Split(strings.TrimSpace(m["transactions.csv"]), "\n")
			extra := editLine(t, editLine(t, rows[4], 1, ",483920,", ",483921,"), 1, "0x05287a", "0x15287a")
			m["transactions.csv"] = strings.TrimSpace(m["transactions.csv"]) + "\n" + extra + "\n"
		}, etl.ErrUnknownBlock, nil, "transactions.csv", 6, ""},
		{"missing transaction", func(t *testing.T, m map[string]string) {
			rows := strings.Split(strings.TrimSpace(m["transactions.csv"]), "\n")
			m["transactions.csv"] = strings.Join(append(rows[:3:3], rows[4]), "\n") + "\n"
		}, etl.ErrIncomplete, nil, "transactions.csv", 4, ""},
		{"duplicate transaction index", func(t *testing.T, m map[string]string) {
			m["transactions.csv"] = editLine(t, m["transactions.csv"], 5, ",483920,3,", ",483920,2,")
		}, etl.ErrDuplicate, nil, "transactions.csv", 0, ""},
		{"transaction of another block hash", func(t *testing.T, m map[string]string) {
			m["transactions.csv"] = editLine(t, m["transactions.csv"], 3, "0x246edb4b", "0x346edb4b")
		}, etl.ErrInconsistent, nil, "transactions.csv", 3, ""},
		{"receipt of an unknown transaction", func(t *testing.T, m map[string]string) {
			m["receipts.csv"] = editLine(t, m["receipts.csv"], 2, tx2, "0x563d53f0ad57677a3b430a007c1c31d15d62c37fab5eee598551697c297c235c")
		}, etl.ErrUnknownTx, nil, "receipts.csv", 2, ""},
		{"token transfer of an unknown transaction", func(t *testing.T, m map[string]string) {
			m["token_transfers.csv"] = editLine(t, m["token_transfers.csv"], 3, "0xcea6f897", "0xdea6f897")
		}, etl.ErrUnknownTx, nil, "token_transfers.csv", 3, ""},
		{"bad status", func(t *testing.T, m map[string]string) {
			m["receipts.csv"] = editLine(t, m["receipts.csv"], 2, ",,50000000000,", ",7,50000000000,")
		}, etl.ErrBadValue, nil, "receipts.csv", 2, "status"},
	}
	base := map[string]string{}
	for _, f := range []string{"blocks.csv", "transactions.csv", "receipts.csv", "token_transfers.csv", "logs.csv"} {
		base[f] = readFixture(t, "ethereum/block_483920/"+f)
	}
	if _, err := etl.ReadEthereumBlocks(ctx, exportOf(base)); err != nil {
		t.Fatalf("unedited: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			c.edit(t, m)
			_, err := etl.ReadEthereumBlocks(ctx, exportOf(m))
			checkErr(t, err, c)
		})
	}
}

func exportOf(m map[string]string) etl.EthereumExport {
	src := func(name string) etl.Source { return etl.StringSource(name, etl.FormatAuto, m[name]) }
	return etl.EthereumExport{Blocks: src("blocks.csv"), Transactions: src("transactions.csv"), Receipts: src("receipts.csv"),
		TokenTransfers: src("token_transfers.csv"), NoTraces: true}
}

func checkErr(t *testing.T, err error, c badCase) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, c.sentinel) {
		t.Fatalf("error %q does not wrap %v", err, c.sentinel)
	}
	if c.also != nil && !errors.Is(err, c.also) {
		t.Fatalf("error %q does not wrap %v", err, c.also)
	}
	var e *etl.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q is not an *etl.Error", err)
	}
	if e.File != c.file || (c.line > 0 && e.Line != c.line) || e.Column != c.column {
		t.Fatalf("error %q at %s:%d column %q, want %s:%d column %q", err, e.File, e.Line, e.Column, c.file, c.line, c.column)
	}
	if c.line > 0 && !strings.Contains(err.Error(), c.file+":") {
		t.Fatalf("message %q does not name the file and line", err)
	}
}

func TestEthereumBadJSON(t *testing.T) {
	base := map[string]string{
		"blocks.csv": readFixture(t, "ethereum/block_483920/blocks.csv"), "transactions.csv": readFixture(t, "ethereum/block_483920/transactions.csv"),
		"receipts.json": readFixture(t, "ethereum/block_483920/receipts.json"), "logs.json": readFixture(t, "ethereum/block_483920/logs.json"),
	}
	exp := func(m map[string]string) etl.EthereumExport {
		src := func(name string) etl.Source { return etl.StringSource(name, etl.FormatAuto, m[name]) }
		return etl.EthereumExport{Blocks: src("blocks.csv"), Transactions: src("transactions.csv"), Receipts: src("receipts.json"), Logs: src("logs.json"), NoTraces: true}
	}
	if _, err := etl.ReadEthereumBlocks(ctx, exp(base)); err != nil {
		t.Fatalf("unedited: %v", err)
	}
	cases := []badCase{
		{"invalid JSON", func(t *testing.T, m map[string]string) {
			m["receipts.json"] = editLine(t, m["receipts.json"], 2, `"transaction_index": 1,`, `"transaction_index": 1`)
		}, etl.ErrBadRow, nil, "receipts.json", 2, ""},
		{"unknown key", func(t *testing.T, m map[string]string) {
			m["receipts.json"] = editLine(t, m["receipts.json"], 3, `"gas_used":`, `"gas_burnt": 1, "gas_used":`)
		}, etl.ErrUnknownColumn, nil, "receipts.json", 3, "gas_burnt"},
		{"missing key", func(t *testing.T, m map[string]string) {
			m["receipts.json"] = editLine(t, m["receipts.json"], 3, `"gas_used": 50853, `, ``)
		}, etl.ErrMissingColumn, nil, "receipts.json", 3, "gas_used"},
		{"number as a list", func(t *testing.T, m map[string]string) {
			m["receipts.json"] = editLine(t, m["receipts.json"], 1, `"gas_used": 21000`, `"gas_used": [21000]`)
		}, etl.ErrBadValue, nil, "receipts.json", 1, "gas_used"},
		{"float gas", func(t *testing.T, m map[string]string) {
			m["receipts.json"] = editLine(t, m["receipts.json"], 1, `"gas_used": 21000`, `"gas_used": 21000.5`)
		}, etl.ErrBadValue, nil, "receipts.json", 1, "gas_used"},
		{"bad topic", func(t *testing.T, m map[string]string) {
			m["logs.json"] = editLine(t, m["logs.json"], 2, `"0x0000000000000000000000009b22`, `"0xz000000000000000000000009b22`)
		}, etl.ErrBadValue, nil, "logs.json", 2, "topics"},
		{"wrong item type", func(t *testing.T, m map[string]string) {
			m["logs.json"] = editLine(t, m["logs.json"], 1, `{"log_index": 0,`, `{"type": "trace", "log_index": 0,`)
		}, etl.ErrBadValue, nil, "logs.json", 1, "type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			c.edit(t, m)
			_, err := etl.ReadEthereumBlocks(ctx, exp(m))
			checkErr(t, err, c)
		})
	}
}

func TestEthereumBadTraces(t *testing.T) {
	d := "ethereum/traces_1000000/"
	base := readFixture(t, d+"traces_parity.csv")
	cases := []badCase{
		{"unknown trace type", func(t *testing.T, m map[string]string) {
			m["traces.csv"] = editLine(t, m["traces.csv"], 3, ",call,callcode,", ",jump,callcode,")
		}, etl.ErrBadValue, nil, "traces.csv", 3, "trace_type"},
		{"bad trace address", func(t *testing.T, m map[string]string) {
			m["traces.csv"] = editLine(t, m["traces.csv"], 3, ",0,0,,1,", ",0,x,,1,")
		}, etl.ErrBadValue, nil, "traces.csv", 3, "trace_address"},
		{"trace of a missing transaction", func(t *testing.T, m map[string]string) {
			m["traces.csv"] = editLine(t, m["traces.csv"], 4, "1000000,0xe9e91f1ee4b56c0df2e9f06c2b8c27c6076195a88a7b8537ba8313d80e6f124e,1,", "1000000,,7,")
		}, etl.ErrUnknownTx, nil, "traces.csv", 4, ""},
		{"top-level value differs", func(t *testing.T, m map[string]string) {
			m["traces.csv"] = editLine(t, m["traces.csv"], 4, ",437194980000000000,", ",437194980000000001,")
		}, etl.ErrInconsistent, nil, "traces.csv", 4, ""},
		{"value above 2^256", func(t *testing.T, m map[string]string) {
			m["traces.csv"] = editLine(t, m["traces.csv"], 3, ",100000000000000000000,", ",2"+strings.Repeat("0", 77)+",")
		}, etl.ErrBadValue, graph.ErrBadAmount, "traces.csv", 3, "value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]string{"traces.csv": base}
			c.edit(t, m)
			_, err := etl.ReadEthereumBlocks(ctx, etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"),
				Receipts: open(t, d+"receipts.csv"), Traces: etl.StringSource("traces.csv", etl.FormatAuto, m["traces.csv"]), NoTokenTransfers: true})
			checkErr(t, err, c)
		})
	}
}

func TestBitcoinBadInput(t *testing.T) {
	d := "bitcoin/blocks_50001_50002_enriched/"
	base := map[string]string{"blocks.json": readFixture(t, d+"blocks.json"), "transactions.json": readFixture(t, d+"transactions.json")}
	cases := []badCase{
		{"fractional satoshi", func(t *testing.T, m map[string]string) {
			m["transactions.json"] = editLine(t, m["transactions.json"], 3, `"value": 5000000000}], "input_count"`, `"value": 50.5}], "input_count"`)
		}, etl.ErrBadValue, graph.ErrBadAmount, "transactions.json", 3, "outputs[0].value"},
		{"bad address", func(t *testing.T, m map[string]string) {
			m["transactions.json"] = editLine(t, m["transactions.json"], 2, `"1HaHTfmvoUW6i6nhJf8jJs6tU4cHNmBQHQ"`, `"1HaHTfmvoUW6i6nhJf8jJs6tU4cHNmBQHR"`)
		}, etl.ErrBadValue, nil, "transactions.json", 2, "outputs[0].addresses"},
		{"unknown input field", func(t *testing.T, m map[string]string) {
			m["transactions.json"] = editLine(t, m["transactions.json"], 3, `"sequence": 4294967295,`, `"sequence": 4294967295, "witness": [],`)
		}, etl.ErrUnknownColumn, nil, "transactions.json", 3, "inputs[0].witness"},
		{"output sum differs", func(t *testing.T, m map[string]string) {
			m["transactions.json"] = editLine(t, m["transactions.json"], 2, `"output_value": 10000000000`, `"output_value": 10000000001`)
		}, etl.ErrInconsistent, nil, "transactions.json", 2, ""},
		{"transaction of a block not in the export", func(t *testing.T, m map[string]string) {
			m["blocks.json"] = strings.Split(m["blocks.json"], "\n")[0] + "\n"
		}, etl.ErrUnknownBlock, nil, "transactions.json", 4, ""},
		{"out-of-order block", func(t *testing.T, m map[string]string) {
			rows := strings.Split(strings.TrimSpace(m["blocks.json"]), "\n")
			m["blocks.json"] = rows[1] + "\n" + rows[0] + "\n"
		}, etl.ErrOutOfOrder, nil, "blocks.json", 2, ""},
		{"missing transaction", func(t *testing.T, m map[string]string) {
			rows := strings.Split(strings.TrimSpace(m["transactions.json"]), "\n")
			m["transactions.json"] = strings.Join(append(rows[:2:2], rows[3:]...), "\n")
		}, etl.ErrIncomplete, nil, "blocks.json", 1, ""},
		{"missing key", func(t *testing.T, m map[string]string) {
			m["transactions.json"] = editLine(t, m["transactions.json"], 1, `"block_hash": "000000001c920d495e1eeef2452b6d1c6c229a919b28196c103ecffebabee141", `, ``)
		}, etl.ErrMissingColumn, nil, "transactions.json", 1, "block_hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			c.edit(t, m)
			_, err := etl.ReadBitcoinBlocks(ctx, etl.BitcoinExport{Blocks: etl.StringSource("blocks.json", etl.FormatAuto, m["blocks.json"]),
				Transactions: etl.StringSource("transactions.json", etl.FormatAuto, m["transactions.json"])})
			checkErr(t, err, c)
		})
	}
}
