package ethereum_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/graph"
)

// readJSONLines reads ethereum-etl's streaming JSON (one object per line).
func readJSONLines(t testing.TB, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		dec := json.NewDecoder(bytesReader(sc.Bytes()))
		dec.UseNumber() // wei amounts exceed float64 precision
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	return out
}

func num(t testing.TB, v any) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(string(v.(json.Number)), 10)
	if !ok {
		t.Fatalf("not an integer: %v", v)
	}
	return n
}

// Real mainnet blocks 1755634-1755635, served as recorded: the node has neither
// eth_getBlockReceipts nor the debug API (the receipts come one by one, and every block with
// transactions carries ErrNoTraces), and its receipts are pre-Byzantium (ErrStatusUnknown).
// The normalized blocks must agree with ethereum-etl's expected outputs.
func TestGoldenRecordedRPC(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "ethereum", "rpc-stream-1755634-1755635")
	rn, srv := newRecordedNode(t, dir)
	ctx := context.Background()
	c, err := ethereum.Dial(ctx, srv.URL, ethereum.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st := &memStore{}
	res, err := ethereum.Ingest(ctx, c, st, ethereum.IngestOptions{From: 1755634, To: 1755635})
	if err != nil {
		t.Fatal(err)
	}
	if res.Blocks != 2 || res.WarningCounts[ethereum.ErrNoTraces] != 1 || res.WarningCounts[ethereum.ErrStatusUnknown] != 2 || res.WarningCounts[ethereum.ErrRewardsOmitted] != 2 {
		t.Errorf("result %+v", res)
	}
	if rn.calls.Load() == 0 {
		t.Fatal("server not called")
	}
	blocks := st.all()

	// Block headers.
	for i, eb := range readJSONLines(t, filepath.Join(dir, "expected_blocks.json")) {
		b := blocks[i]
		if b.Height != num(t, eb["number"]).Uint64() || b.Hash != eb["hash"] || b.Parent != eb["parent_hash"] || b.Time != num(t, eb["timestamp"]).Int64() {
			t.Errorf("block %d: %+v, expected %v", i, b, eb)
		}
	}

	// Transactions: from, to, fee = receipt gas used × effective gas price, value.
	txs := map[string]*graph.AccountTx{}
	for _, b := range blocks {
		for i := range b.AccountTxs {
			txs[b.AccountTxs[i].Hash] = &b.AccountTxs[i]
		}
	}
	want := map[string][]graph.Transfer{}
	expTxs := readJSONLines(t, filepath.Join(dir, "expected_transactions.json"))
	if len(expTxs) != len(txs) {
		t.Fatalf("%d transactions, expected %d", len(txs), len(expTxs))
	}
	for _, et := range expTxs {
		h := et["hash"].(string)
		tx := txs[h]
		if tx == nil {
			t.Fatalf("tx %s missing", h)
		}
		fee := new(big.Int).Mul(num(t, et["receipt_gas_used"]), num(t, et["receipt_effective_gas_price"]))
		if tx.From != graph.Address(et["from_address"].(string)) || tx.To != graph.Address(et["to_address"].(string)) ||
			tx.Fee.ToBig().Cmp(fee) != 0 || tx.Index != uint32(num(t, et["transaction_index"]).Uint64()) || !tx.Success {
			t.Errorf("tx %s: %+v, expected %v", h, tx, et)
		}
		if v := num(t, et["value"]); v.Sign() > 0 {
			want[h] = append(want[h], graph.Transfer{ID: h + ".0", Asset: graph.ETH, From: tx.From, To: tx.To, Amount: amt(v), Kind: graph.KindCall})
		}
	}
	// ERC-20 transfers, in log order.
	for _, et := range readJSONLines(t, filepath.Join(dir, "expected_token_transfers.json")) {
		h := et["transaction_hash"].(string)
		want[h] = append(want[h], graph.Transfer{
			ID:    h + ".log" + strconv.FormatUint(num(t, et["log_index"]).Uint64(), 10),
			Asset: graph.Asset(et["token_address"].(string)), From: graph.Address(et["from_address"].(string)),
			To: graph.Address(et["to_address"].(string)), Amount: amt(num(t, et["value"])), Kind: graph.KindERC20,
		})
	}
	for h, tx := range txs {
		if len(tx.Transfers) != len(want[h]) {
			t.Errorf("tx %s: transfers %+v, expected %+v", h, tx.Transfers, want[h])
			continue
		}
		for i := range want[h] {
			if tx.Transfers[i] != want[h][i] {
				t.Errorf("tx %s transfer %d: %+v, expected %+v", h, i, tx.Transfers[i], want[h][i])
			}
		}
	}
	// One batch for blocks + (missing) block receipts + (missing) traces, one for the
	// per-transaction receipts, plus the first eth_getBlockByNumber/eth_blockNumber-free start.
	if calls, reqs := c.Stats(); reqs > 3 || calls < 8 {
		t.Errorf("%d calls in %d requests", calls, reqs)
	}

	// The same through the real store, which starts at the first ingested height.
	gs := openStore(t)
	if _, err := ethereum.Ingest(ctx, c, gs, ethereum.IngestOptions{From: 1755634, To: 1755635}); err != nil {
		t.Fatal(err)
	}
	stored := storedBlocks(t, gs, 1755634, 1755635)
	if len(stored) != 2 || !reflect.DeepEqual(normalizeEmpty(stored[1]), normalizeEmpty(blocks[1])) {
		t.Errorf("graph.Store gives back %+v", stored)
	}
}
