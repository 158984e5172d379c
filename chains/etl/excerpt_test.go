package etl_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/chaintrace/chaintrace/chains/etl"
)

// Errors never echo large input: a bad header name, a bad value or a bad JSON key of any
// size, control characters included, comes back as a short escaped excerpt next to the
// file, line and column — no raw byte of it reaches a terminal.
func TestErrorsQuoteShortEscapedExcerpts(t *testing.T) {
	ctx := context.Background()
	garbage := "\x1b[2J\x1b[31m\a" + strings.Repeat("zz\r\n\x00", 2500) // clears a terminal, rings, 10 KB
	base := map[string]string{
		"blocks.csv": readFixture(t, "ethereum/block_483920/blocks.csv"), "transactions.csv": readFixture(t, "ethereum/block_483920/transactions.csv"),
		"receipts.csv": readFixture(t, "ethereum/block_483920/receipts.csv"), "token_transfers.csv": readFixture(t, "ethereum/block_483920/token_transfers.csv"),
	}
	quoted := `"` + strings.ReplaceAll(garbage, `"`, `""`) + `"` // a CSV field may hold anything quoted
	cases := []struct {
		name     string
		edit     func(m map[string]string)
		sentinel error
	}{
		{"header", func(m map[string]string) {
			m["transactions.csv"] = strings.Replace(m["transactions.csv"], ",value,", ","+quoted+",", 1)
		}, etl.ErrUnknownColumn},
		{"address value", func(m map[string]string) {
			m["transactions.csv"] = strings.Replace(m["transactions.csv"], ",0xf4eced2f682ce333f96f2d8966c613ded8fc95dd,", ","+quoted+",", 1)
		}, etl.ErrBadValue},
		{"long hex address value", func(m map[string]string) {
			m["transactions.csv"] = strings.Replace(m["transactions.csv"], ",0xf4eced2f682ce333f96f2d8966c613ded8fc95dd,", ",0x"+strings.Repeat("f4", 5000)+",", 1)
		}, etl.ErrBadValue},
		{"amount value", func(m map[string]string) {
			m["transactions.csv"] = strings.Replace(m["transactions.csv"], ",50000000000,", ",\""+strings.Repeat("9", 70)+"\a\",", 1)
		}, etl.ErrBadValue},
		{"number value", func(m map[string]string) {
			m["transactions.csv"] = strings.Replace(m["transactions.csv"], ",483920,", ","+quoted+",", 1)
		}, etl.ErrBadValue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			c.edit(m)
			_, err := etl.ReadEthereumBlocks(ctx, exportOf(m))
			if !errors.Is(err, c.sentinel) {
				t.Fatalf("error %v, want %v", err, c.sentinel)
			}
			checkShort(t, err)
		})
	}
	// A JSON line whose unknown key is the garbage.
	key := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(garbage, "\x1b", `\u001b`), "\a", `\u0007`), "\r\n\x00", `\r\n\u0000`)
	receipts := `{"` + key + `": 1}` + "\n"
	_, err := etl.ReadEthereumBlocks(ctx, etl.EthereumExport{
		Blocks:       etl.StringSource("blocks.csv", etl.FormatAuto, base["blocks.csv"]),
		Transactions: etl.StringSource("transactions.csv", etl.FormatAuto, base["transactions.csv"]),
		Receipts:     etl.StringSource("receipts.json", etl.FormatAuto, receipts), NoTraces: true, NoTokenTransfers: true,
	})
	if !errors.Is(err, etl.ErrUnknownColumn) {
		t.Fatalf("JSON key: error %v", err)
	}
	checkShort(t, err)
}

func checkShort(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if strings.ContainsFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) {
		t.Errorf("the message holds raw control characters: %q", msg)
	}
	if len(msg) > 400 {
		t.Errorf("a %d-byte message: %.300q…", len(msg), msg)
	}
	if !strings.Contains(msg, ".csv:") && !strings.Contains(msg, ".json:") {
		t.Errorf("the message names no file and line: %q", msg)
	}
}
