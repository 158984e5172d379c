package etl_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/graph"
)

var ctx = context.Background()

func mustRead(t *testing.T, src etl.EthereumExport) []graph.Block {
	t.Helper()
	bs, err := etl.ReadEthereumBlocks(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func wei(s string) graph.Amount { return graph.MustAmount(s) }

func checkTransfer(t *testing.T, got graph.Transfer, want graph.Transfer) {
	t.Helper()
	if got.ID != want.ID || got.Kind != want.Kind || got.Asset != want.Asset || got.From != want.From ||
		got.To != want.To || !got.Amount.Eq(&want.Amount) || got.Reverted != want.Reverted {
		t.Errorf("transfer\n got %+v (amount %s)\nwant %+v (amount %s)", got, got.Amount.Dec(), want, want.Amount.Dec())
	}
}

// Block 483920 (2015): two ERC-20 transfers and two plain payments; receipts have no status
// (pre-Byzantium). The same block from CSV, from JSON receipts and logs, and with token
// transfers from token_transfers.csv or from logs gives the same Block.
func TestEthereumBlock483920(t *testing.T) {
	d := "ethereum/block_483920/"
	var warnings []etl.Warning
	forms := map[string]etl.EthereumExport{
		"csv+token_transfers": {Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"),
			Receipts: open(t, d+"receipts.csv"), TokenTransfers: open(t, d+"token_transfers.csv"), NoTraces: true,
			Options: etl.Options{Warn: func(w etl.Warning) { warnings = append(warnings, w) }}},
		"csv+logs": {Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"),
			Receipts: open(t, d+"receipts.csv"), Logs: open(t, d+"logs.csv"), NoTraces: true},
		"json receipts+logs": {Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"),
			Receipts: open(t, d+"receipts.json"), Logs: open(t, d+"logs.json"), NoTraces: true},
	}
	var ref string
	for name, src := range forms {
		bs := mustRead(t, src)
		if ref == "" {
			ref = dump(bs)
		} else if got := dump(bs); got != ref {
			t.Errorf("%s differs:\n%s\nwant\n%s", name, got, ref)
		}
	}
	if len(warnings) != 4 {
		t.Errorf("want a warning per status-less receipt (4), got %v", warnings)
	}

	bs := mustRead(t, etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"),
		Receipts: open(t, d+"receipts.csv"), Logs: open(t, d+"logs.csv"), NoTraces: true})
	if len(bs) != 1 {
		t.Fatalf("%d blocks", len(bs))
	}
	b := &bs[0]
	if b.Height != 483920 || b.Hash != "0x246edb4b351d93c27926f4649bcf6c24366e2a7c7c718dc9158eea20c03bc6ae" ||
		b.Parent != "0x2610dc6eb941f4bcbddfd2362b999087ccd956e978f0ece4f8da96851283a2ba" || b.Time != 1446561880 || len(b.AccountTxs) != 4 {
		t.Fatalf("block header %+v", b)
	}
	// fee = gas_used × effective_gas_price: 50853 × 50 gwei and 21000 × 50 gwei
	for i, want := range []string{"2542650000000000", "2542650000000000", "1050000000000000", "1050000000000000"} {
		tx := &b.AccountTxs[i]
		if tx.Fee.Dec() != want || !tx.Success || tx.Index != uint32(i) {
			t.Errorf("tx %d: fee %s success %v index %d, want fee %s", i, tx.Fee.Dec(), tx.Success, tx.Index, want)
		}
	}
	token := graph.Asset("0xf4eced2f682ce333f96f2d8966c613ded8fc95dd")
	tx0 := &b.AccountTxs[0]
	if tx0.From != "0x1b63142628311395ceafeea5667e7c9026c862ca" || tx0.To != graph.Address(token) || len(tx0.Transfers) != 1 {
		t.Fatalf("tx0 %+v", tx0)
	}
	checkTransfer(t, tx0.Transfers[0], graph.Transfer{ID: tx0.Hash + ".log0", Kind: graph.KindERC20, Asset: token,
		From: "0x1b63142628311395ceafeea5667e7c9026c862ca", To: "0xac4df82fe37ea2187bc8c011a23d743b4f39019a", Amount: wei("100000")})
	tx1 := &b.AccountTxs[1]
	checkTransfer(t, tx1.Transfers[0], graph.Transfer{ID: tx1.Hash + ".log1", Kind: graph.KindERC20, Asset: token,
		From: "0x9b22a80d5c7b3374a05b446081f97d0a34079e7f", To: "0x66f183060253cfbe45beff1e6e7ebbe318c81e56", Amount: wei("200000")})
	tx3 := &b.AccountTxs[3]
	checkTransfer(t, tx3.Transfers[0], graph.Transfer{ID: "0x05287a561f218418892ab053adfb3d919860988b19458c570c5c30f51c146f02.0",
		Kind: graph.KindCall, Asset: graph.ETH, From: "0x2a65aca4d5fc5b5c859090a6c34d164135398226",
		To: "0x743b8aeedc163c0e3a0fe9f3910d146c48e70da8", Amount: wei("1530219620000000000")})
}

// streamTx is the independent view of ethereumetl stream transactions used to check fees.
type streamTx struct {
	Hash        string          `json:"hash"`
	Block       uint64          `json:"block_number"`
	Index       int             `json:"transaction_index"`
	Value       json.Number     `json:"value"`
	GasUsed     json.Number     `json:"receipt_gas_used"`
	EffPrice    json.Number     `json:"receipt_effective_gas_price"`
	Status      *int            `json:"receipt_status"`
	To          *string         `json:"to_address"`
	Withdrawals json.RawMessage `json:"withdrawals"`
}

func jsonLines[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(fixture(path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var v T
		d := json.NewDecoder(strings.NewReader(sc.Text()))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// Blocks 17173049–17173050 (May 2023): 116 + 182 transactions, EIP-1559 fees, ERC-20 and
// ERC-721 transfers, beacon withdrawals. The export as CSV, as JSON, and as the stream's
// JSON (receipts merged into transactions) give identical Blocks.
func TestEthereumWithdrawalBlocks(t *testing.T) {
	d := "ethereum/blocks_17173049_17173050/"
	forms := map[string]etl.EthereumExport{
		"csv": {Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv.gz"),
			Receipts: open(t, d+"receipts.csv"), TokenTransfers: open(t, d+"token_transfers.csv.gz"), NoTraces: true},
		"json": {Blocks: open(t, d+"blocks.json"), Transactions: open(t, d+"transactions.json.gz"),
			Receipts: open(t, d+"receipts.json.gz"), TokenTransfers: open(t, d+"stream_token_transfers.json.gz"), NoTraces: true},
		"stream json": {Blocks: open(t, d+"stream_blocks.json"), Transactions: open(t, d+"stream_transactions.json.gz"),
			TokenTransfers: open(t, d+"stream_token_transfers.json.gz"), NoTraces: true},
	}
	var ref string
	var bs []graph.Block
	for name, src := range forms {
		got := mustRead(t, src)
		if ref == "" {
			ref, bs = dump(got), got
		} else if s := dump(got); s != ref {
			t.Errorf("%s differs from the others", name)
		}
	}
	if len(bs) != 2 || bs[0].Height != 17173049 || bs[1].Height != 17173050 || bs[1].Parent != bs[0].Hash {
		t.Fatalf("blocks %d", len(bs))
	}

	// fees, status and call values against an independent reading of the stream JSON
	want := map[string]streamTx{}
	for _, tx := range jsonLines[streamTx](t, d+"stream_transactions.json.gz") {
		want[tx.Hash] = tx
	}
	nTx := 0
	for bi := range bs {
		b := &bs[bi]
		for i := range b.AccountTxs {
			tx := &b.AccountTxs[i]
			if strings.HasSuffix(tx.Hash, ".withdrawals") {
				continue
			}
			nTx++
			w, ok := want[tx.Hash]
			if !ok {
				t.Fatalf("unexpected tx %s", tx.Hash)
			}
			gas, _ := new(big.Int).SetString(string(w.GasUsed), 10)
			price, _ := new(big.Int).SetString(string(w.EffPrice), 10)
			if fee := new(big.Int).Mul(gas, price); tx.Fee.ToBig().Cmp(fee) != 0 {
				t.Errorf("tx %s fee %s, want %s", tx.Hash, tx.Fee.Dec(), fee)
			}
			if tx.Success != (*w.Status == 1) || int(tx.Index) != w.Index {
				t.Errorf("tx %s success %v index %d, want status %d index %d", tx.Hash, tx.Success, tx.Index, *w.Status, w.Index)
			}
			if tx.Success && string(w.Value) != "0" {
				if len(tx.Transfers) == 0 || tx.Transfers[0].ID != tx.Hash+".0" || tx.Transfers[0].Amount.Dec() != string(w.Value) {
					t.Errorf("tx %s: call value %s not first", tx.Hash, w.Value)
				}
			}
			// transfers in execution order: call value, then token transfers by log index
			last := -1
			for _, tr := range tx.Transfers[min(1, len(tx.Transfers)):] {
				var li int
				if _, err := fmtSscanLog(tr.ID, tx.Hash, &li); err != nil || tr.Kind != graph.KindERC20 || li <= last {
					t.Errorf("tx %s: transfer %s out of order or not ERC-20", tx.Hash, tr.ID)
				}
				last = li
			}
		}
	}
	if nTx != 116+182 {
		t.Errorf("%d transactions, want 298", nTx)
	}

	// withdrawals: mints after the transactions, gwei → wei, in withdrawal index order
	type wd struct {
		Index   uint64 `json:"index"`
		Address string `json:"address"`
		Amount  uint64 `json:"amount"`
	}
	type blk struct {
		Number      uint64 `json:"number"`
		Hash        string `json:"hash"`
		Withdrawals []wd   `json:"withdrawals"`
	}
	for bi, jb := range jsonLines[blk](t, d+"blocks.json") {
		b := &bs[bi]
		last := &b.AccountTxs[len(b.AccountTxs)-1]
		if last.Hash != jb.Hash+".withdrawals" || last.From != graph.ZeroAddress || !last.Fee.IsZero() ||
			int(last.Index) != len(b.AccountTxs)-1 || len(last.Transfers) != len(jb.Withdrawals) {
			t.Fatalf("block %d withdrawals pseudo-tx %+v, want %d withdrawals", jb.Number, last, len(jb.Withdrawals))
		}
		for i, w := range jb.Withdrawals {
			amt := new(big.Int).Mul(new(big.Int).SetUint64(w.Amount), big.NewInt(1e9))
			tr := last.Transfers[i]
			if tr.Kind != graph.KindWithdrawal || tr.From != graph.ZeroAddress || string(tr.To) != w.Address ||
				tr.Amount.ToBig().Cmp(amt) != 0 || tr.ID != jb.Hash+".w"+itoa(i) || !tr.Kind.IsMint() {
				t.Errorf("withdrawal %d: %+v, want %s to %s", w.Index, tr, amt, w.Address)
			}
		}
	}
}

// From logs, ERC-721 Transfer events (four topics) are recognised and skipped; from
// token_transfers they cannot be told apart. Every difference between the two readings
// must be a four-topic log.
func TestEthereumLogsSkipNonFungible(t *testing.T) {
	d := "ethereum/blocks_17173049_17173050/"
	fromTT := mustRead(t, etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv.gz"),
		Receipts: open(t, d+"receipts.csv"), TokenTransfers: open(t, d+"token_transfers.csv.gz"), NoTraces: true})
	fromLogs := withoutLinks(mustRead(t, etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv.gz"),
		Receipts: open(t, d+"receipts.csv"), Logs: open(t, d+"logs.csv.gz"), NoTraces: true}))

	type logRow struct {
		TxHash   string   `json:"transaction_hash"`
		LogIndex int      `json:"log_index"`
		Topics   []string `json:"topics"`
	}
	topics := map[string]int{}
	for _, l := range jsonLines[logRow](t, d+"stream_logs.json.gz") {
		topics[l.TxHash+".log"+itoa(l.LogIndex)] = len(l.Topics)
	}
	ids := func(bs []graph.Block) map[string]graph.Transfer {
		m := map[string]graph.Transfer{}
		for _, b := range bs {
			for _, tx := range b.AccountTxs {
				for _, tr := range tx.Transfers {
					m[tr.ID] = tr
				}
			}
		}
		return m
	}
	a, b := ids(fromTT), ids(fromLogs)
	skipped := 0
	for id, tr := range a {
		if got, ok := b[id]; ok {
			checkTransfer(t, got, tr)
			continue
		}
		if topics[id] != 4 {
			t.Errorf("%s (%s) missing from the logs reading but its log has %d topics", id, tr.Asset, topics[id])
		}
		skipped++
	}
	if len(b) > len(a) || skipped == 0 {
		t.Errorf("logs reading has %d transfers, token_transfers %d, %d skipped", len(b), len(a), skipped)
	}

	// NonFungibleTokens does the same from token_transfers
	nft := map[graph.Address]bool{}
	for id, tr := range a {
		if _, ok := b[id]; !ok {
			nft[graph.Address(tr.Asset)] = true
		}
	}
	withOpt := mustRead(t, etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv.gz"),
		Receipts: open(t, d+"receipts.csv"), TokenTransfers: open(t, d+"token_transfers.csv.gz"), NoTraces: true,
		Options: etl.Options{NonFungibleTokens: nft}})
	if dump(withOpt) != dump(fromLogs) {
		t.Error("token_transfers with NonFungibleTokens differs from logs")
	}
}

// withoutLinks undoes what the link detectors do to blocks read with logs (token_transfers
// have no events to detect links from): it drops the parts and the wrapper movements they
// add, and puts the Transfer logs back in log index order.
func withoutLinks(bs []graph.Block) []graph.Block {
	logIndex := func(tx *graph.AccountTx, x graph.Transfer) int {
		n, err := strconv.Atoi(strings.TrimPrefix(x.ID, tx.Hash+".log"))
		if x.Kind != graph.KindERC20 || err != nil {
			return -1
		}
		return n
	}
	for bi := range bs {
		bs[bi].Links = nil
		for ti := range bs[bi].AccountTxs {
			tx := &bs[bi].AccountTxs[ti]
			tx.Transfers = slices.DeleteFunc(tx.Transfers, func(x graph.Transfer) bool {
				return x.Kind == graph.KindWrap || x.Kind == graph.KindUnwrap
			})
			slices.SortStableFunc(tx.Transfers, func(a, b graph.Transfer) int { return logIndex(tx, a) - logIndex(tx, b) })
		}
	}
	return bs
}

// Traces of the same blocks exported from Parity (trace_block) and from geth (callTracer)
// give the same transactions; Parity adds block rewards.
func TestEthereumTracesParityAndGeth(t *testing.T) {
	for _, n := range []string{"1000000", "1000690", "1000895"} {
		d := "ethereum/traces_" + n + "/"
		read := func(traces string) []graph.Block {
			return mustRead(t, etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"),
				Receipts: open(t, d+"receipts.csv"), Traces: open(t, d+traces), NoTokenTransfers: true})
		}
		parity, geth := read("traces_parity.csv"), read("traces_geth.csv")
		p := parity[0]
		last := p.AccountTxs[len(p.AccountTxs)-1]
		if last.Hash != p.Hash+".rewards" || len(last.Transfers) != 1 || last.Transfers[0].Kind != graph.KindReward ||
			last.Transfers[0].Amount.Dec() != "5000000000000000000" || last.Transfers[0].ID != p.Hash+".r0" {
			t.Errorf("block %s: rewards %+v", n, last)
		}
		p.AccountTxs = p.AccountTxs[:len(p.AccountTxs)-1]
		if dump([]graph.Block{p}) != dump(geth) {
			t.Errorf("block %s: parity\n%s\ngeth\n%s", n, dump([]graph.Block{p}), dump(geth))
		}
	}

	// 1000000: a 100 ETH call whose CALLCODE subcall moves nothing (parity from==to,
	// geth names the code address: neither is a transfer)
	bs := mustRead(t, etl.EthereumExport{Blocks: open(t, "ethereum/traces_1000000/blocks.csv"),
		Transactions: open(t, "ethereum/traces_1000000/transactions.csv"), Receipts: open(t, "ethereum/traces_1000000/receipts.csv"),
		Traces: open(t, "ethereum/traces_1000000/traces_geth.csv"), NoTokenTransfers: true})
	tx := findTx(t, &bs[0], "0xea1093d492a1dcb1bef708f771a99a96ff05dcab81ca76c31940300177fcf49f")
	if len(tx.Transfers) != 1 || tx.Transfers[0].Amount.Dec() != "100000000000000000000" {
		t.Errorf("callcode: %+v", tx.Transfers)
	}

	// 1000690: a call value above 2^64 wei, exact
	bs = mustRead(t, etl.EthereumExport{Blocks: open(t, "ethereum/traces_1000690/blocks.csv"),
		Transactions: open(t, "ethereum/traces_1000690/transactions.csv"), Receipts: open(t, "ethereum/traces_1000690/receipts.csv"),
		Traces: open(t, "ethereum/traces_1000690/traces_parity.csv"), NoTokenTransfers: true})
	tx = findTx(t, &bs[0], "0x2c3cfb8d7f3039fcad64bd231beb0229af55f9114d74aef12a6f228ad1dac100")
	checkTransfer(t, tx.Transfers[0], graph.Transfer{ID: tx.Hash + ".0", Kind: graph.KindCall, Asset: graph.ETH,
		From: "0xaf21e07e5a929d16026a7b4d88f3906a8d2e4942", To: "0x5b3c526b152b1f3d8eabe2ec27f49b904ad51cad", Amount: wei("64655529900000002048")})

	// 1000895: pre-Byzantium out-of-gas transaction: the top-level trace's error makes it
	// failed, so its 1 ETH call value does not move
	bs = mustRead(t, etl.EthereumExport{Blocks: open(t, "ethereum/traces_1000895/blocks.csv"),
		Transactions: open(t, "ethereum/traces_1000895/transactions.csv"), Receipts: open(t, "ethereum/traces_1000895/receipts.csv"),
		Traces: open(t, "ethereum/traces_1000895/traces_geth.csv"), NoTokenTransfers: true})
	tx = findTx(t, &bs[0], "0xa2f089480e6fd907e786a88d928ba20feeca2ca37ffa84c2d54bae42f5d989c9")
	if tx.Success || len(tx.Transfers) != 0 {
		t.Errorf("failed tx: %+v", tx)
	}
}

// SELFDESTRUCT: Parity traces carry the value; ethereum-etl's geth export does not, which
// must be an error (or a warning when allowed), never a silent omission.
func TestEthereumSelfDestruct(t *testing.T) {
	d := "ethereum/traces_1011973/"
	exp := func(traces string, allow bool, warn func(etl.Warning)) etl.EthereumExport {
		return etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"),
			Receipts: open(t, d+"receipts.csv"), Traces: open(t, d+traces), NoTokenTransfers: true,
			Options: etl.Options{AllowIncompleteTraces: allow, Warn: warn}}
	}
	bs := mustRead(t, exp("traces_parity.csv", false, nil))
	tx := findTx(t, &bs[0], "0x91acb43c5f141c393a189e091c190c9ffb20e4e8a502e4cc3087be9587bdbc89")
	if len(tx.Transfers) != 1 {
		t.Fatalf("%+v", tx.Transfers)
	}
	checkTransfer(t, tx.Transfers[0], graph.Transfer{ID: tx.Hash + ".t0", Kind: graph.KindSelfDestruct, Asset: graph.ETH,
		From: "0x474faa5018639791952fae334e2911700ac7fe9b", To: "0x83973747eec131bf9a08ac64fb1a518e891bdf4b", Amount: wei("50000000000000000")})

	_, err := etl.ReadEthereumBlocks(ctx, exp("traces_geth.csv", false, nil))
	var e *etl.Error
	if !errors.Is(err, etl.ErrIncompleteTrace) || !errors.As(err, &e) || e.Line != 3 || !strings.HasSuffix(e.File, "traces_geth.csv") {
		t.Fatalf("geth selfdestruct: %v", err)
	}
	var warned []etl.Warning
	bs, err = etl.ReadEthereumBlocks(ctx, exp("traces_geth.csv", true, func(w etl.Warning) { warned = append(warned, w) }))
	if err != nil || len(warned) != 1 || len(findTx(t, &bs[0], tx.Hash).Transfers) != 0 {
		t.Fatalf("allowed: %v %v", err, warned)
	}
}

// Streamed Parity traces (JSON): block and uncle rewards ordered by trace_index, a
// zero-value contract creation that moves nothing.
func TestEthereumStreamTraces(t *testing.T) {
	d := "ethereum/traces_508110/"
	bs := mustRead(t, etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"),
		Receipts: open(t, d+"receipts.csv"), Traces: open(t, d+"traces.json"), NoTokenTransfers: true})
	b := &bs[0]
	if len(b.AccountTxs) != 3 || len(b.AccountTxs[0].Transfers) != 0 {
		t.Fatalf("%s", dump(bs))
	}
	r := b.AccountTxs[2]
	miner := graph.Address("0x2a65aca4d5fc5b5c859090a6c34d164135398226")
	checkTransfer(t, r.Transfers[0], graph.Transfer{ID: b.Hash + ".r0", Kind: graph.KindReward, Asset: graph.ETH, From: graph.ZeroAddress, To: miner, Amount: wei("5156250000000000000")})
	checkTransfer(t, r.Transfers[1], graph.Transfer{ID: b.Hash + ".r1", Kind: graph.KindReward, Asset: graph.ETH, From: graph.ZeroAddress, To: miner, Amount: wei("3750000000000000000")})
}

// Without traces or token tables, reading refuses unless their absence is declared.
func TestEthereumMissingTables(t *testing.T) {
	d := "ethereum/block_483920/"
	for _, src := range []etl.EthereumExport{
		{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"), Receipts: open(t, d+"receipts.csv"), NoTraces: true},
		{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"), Receipts: open(t, d+"receipts.csv"), NoTokenTransfers: true},
		{Blocks: open(t, d+"blocks.csv"), Receipts: open(t, d+"receipts.csv"), NoTraces: true, NoTokenTransfers: true},
	} {
		if _, err := etl.ReadEthereumBlocks(ctx, src); !errors.Is(err, etl.ErrMissingTable) {
			t.Errorf("want ErrMissingTable, got %v", err)
		}
	}
	// receipts absent and not merged into the transactions
	_, err := etl.ReadEthereumBlocks(ctx, etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"),
		NoTraces: true, NoTokenTransfers: true})
	if !errors.Is(err, etl.ErrMissingReceipt) {
		t.Errorf("want ErrMissingReceipt, got %v", err)
	}
}

func fmtSscanLog(id, txHash string, li *int) (int, error) {
	s, ok := strings.CutPrefix(id, txHash+".log")
	if !ok {
		return 0, errors.New("not a log id")
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("bad log index")
		}
		n = n*10 + int(c-'0')
	}
	*li = n
	return 1, nil
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

// Internal transfers come in pre-order of the call tree: trace_address compared number by
// number ([9] before [10]); a failed frame reverts its subtree even when the rows below it
// carry no status (geth); delegatecall and staticcall move nothing.
func TestEthereumTraceOrderAndReverts(t *testing.T) {
	const (
		h    = "0xea1093d492a1dcb1bef708f771a99a96ff05dcab81ca76c31940300177fcf49f"
		a, b = "0x39fa8c5f2793459d6622857e7d9fbb4bd91766d3", "0xc083e9947cf02b8ffc7d3090ae9aea72df98fd47"
	)
	hdr := "block_number,transaction_hash,transaction_index,from_address,to_address,value,input,output,trace_type,call_type,reward_type,gas,gas_used,subtraces,trace_address,error,status,trace_id\n"
	row := func(addr, callType, value, errText string) string {
		if strings.Contains(addr, ",") {
			addr = `"` + addr + `"`
		}
		return "1000000,,0," + b + "," + a + "," + value + ",0x,0x,call," + callType + ",,0,0,0," + addr + "," + errText + ",,\n"
	}
	traces := hdr +
		row("10", "call", "5", "") + row("1,0", "call", "3", "") + row("1", "call", "2", "execution reverted") +
		"1000000,,0," + a + "," + b + ",100000000000000000000,0x,0x,call,call,,0,0,4,,,,\n" +
		row("2", "delegatecall", "4", "") + row("9", "call", "6", "") + row("0", "call", "1", "") + row("2,0", "staticcall", "0", "") +
		"1000000,,1,0x32be343b94f860124dc4fee278fdcbd38c102d88,0xdf190dc7190dfba737d7777a163445b7fff16133,437194980000000000,0x,0x,call,call,,0,0,0,,,,\n"
	d := "ethereum/traces_1000000/"
	bs := mustRead(t, etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv"),
		Receipts: open(t, d+"receipts.csv"), Traces: etl.StringSource("traces.csv", etl.FormatCSV, traces), NoTokenTransfers: true})
	tx := findTx(t, &bs[0], h)
	want := []struct {
		id       string
		amount   string
		reverted bool
	}{{".0", "100000000000000000000", false}, {".t0", "1", false}, {".t1", "2", true}, {".t1_0", "3", true}, {".t9", "6", false}, {".t10", "5", false}}
	if len(tx.Transfers) != len(want) {
		t.Fatalf("%s", dump(bs))
	}
	for i, w := range want {
		tr := tx.Transfers[i]
		if tr.ID != h+w.id || tr.Amount.Dec() != w.amount || tr.Reverted != w.reverted {
			t.Errorf("transfer %d: %s %s reverted=%v, want %s %s %v", i, tr.ID, tr.Amount.Dec(), tr.Reverted, w.id, w.amount, w.reverted)
		}
	}
}

// The contracts table names the ERC-721 contracts whose token_transfers rows to skip.
func TestReadNonFungibleTokens(t *testing.T) {
	for _, d := range []string{"ethereum/traces_508110/contracts.json", "ethereum/traces_2112234/contracts.json"} {
		m, err := etl.ReadNonFungibleTokens(ctx, open(t, d), etl.Options{})
		if err != nil || len(m) != 0 { // real contracts: a DAO-like contract and an ERC-20
			t.Errorf("%s: %v %v", d, m, err)
		}
	}
	csvText := "address,bytecode,function_sighashes,is_erc20,is_erc721,block_number\n" +
		"0xed5af388653567af2f388e6224dc7c4b3241c544,0x60,\"0x06fdde03,0x095ea7b3\",False,True,14000000\n" +
		"0xdbdacfc9eb9d42559ac1efbdb40460c728139e6a,0x60,0x06fdde03,True,False,2112234\n"
	m, err := etl.ReadNonFungibleTokens(ctx, etl.StringSource("contracts.csv", etl.FormatAuto, csvText), etl.Options{})
	if err != nil || len(m) != 1 || !m["0xed5af388653567af2f388e6224dc7c4b3241c544"] {
		t.Errorf("%v %v", m, err)
	}
	_, err = etl.ReadNonFungibleTokens(ctx, etl.StringSource("contracts.csv", etl.FormatAuto, strings.Replace(csvText, "False,True", "False,Yes", 1)), etl.Options{})
	if !errors.Is(err, etl.ErrBadValue) {
		t.Errorf("want ErrBadValue, got %v", err)
	}
}

// Reading stops when the context is cancelled, and when the callback fails.
func TestEthereumStops(t *testing.T) {
	d := "ethereum/blocks_1755634_1755635/"
	exp := func() etl.EthereumExport {
		return etl.EthereumExport{Blocks: open(t, d+"blocks.json"), Transactions: open(t, d+"transactions.json"), Logs: open(t, d+"logs.json"), NoTraces: true}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := etl.ReadEthereum(cctx, exp(), func(*graph.Block) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	stop := errors.New("stop")
	n := 0
	err := etl.ReadEthereum(ctx, exp(), func(*graph.Block) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("callback error: %v after %d blocks", err, n)
	}
}
