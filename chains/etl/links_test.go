package etl_test

import (
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/etl"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
)

// Blocks 17173049–17173050 (May 2023) read with their logs: the Uniswap V2 and V3 swaps,
// WETH9 wraps and unwraps of real mainnet blocks. Without traces the wrapper's ETH (paid
// and paid out by routers in internal calls) is not visible, so wraps give warnings, not
// links. Every detector event of the logs is checked against an independent reading of
// the stream's logs JSON: a swap link whose legs are Transfer logs of the pool with the
// event's amounts, or a warning naming the event; and a trace over the joined links is
// accepted by the engine.
func TestEthereumLinksFromLogs(t *testing.T) {
	d := "ethereum/blocks_17173049_17173050/"
	read := func(logs string) ([]graph.Block, []etl.Warning) {
		var warns []etl.Warning
		bs := mustRead(t, etl.EthereumExport{Blocks: open(t, d+"blocks.csv"), Transactions: open(t, d+"transactions.csv.gz"),
			Receipts: open(t, d+"receipts.csv"), Logs: open(t, d+logs), NoTraces: true,
			Options: etl.Options{Warn: func(w etl.Warning) { warns = append(warns, w) }}})
		return bs, warns
	}
	bs, warns := read("logs.csv.gz")
	if bsJSON, _ := read("stream_logs.json.gz"); dump(bsJSON) != dump(bs) || fmt.Sprint(linksOf(bsJSON)) != fmt.Sprint(linksOf(bs)) {
		t.Error("the logs as CSV and as JSON give different blocks or links")
	}
	parts := map[string]graph.LinkPart{}
	for _, p := range linksOf(bs) {
		parts[p.Key] = p
	}
	transfers := map[string]graph.Transfer{}
	for _, b := range bs {
		for _, tx := range b.AccountTxs {
			for _, x := range tx.Transfers {
				transfers[x.ID] = x
			}
		}
	}
	warned := map[string]bool{} // "<tx> log <i>"
	for _, w := range warns {
		if i := strings.Index(w.Msg, ": log "); i >= 0 {
			warned[w.Tx+" log "+strings.TrimSuffix(strings.Fields(w.Msg[i+6:])[0], ":")] = true
		}
	}

	type logRow struct {
		TxHash   string   `json:"transaction_hash"`
		LogIndex int      `json:"log_index"`
		Address  string   `json:"address"`
		Topics   []string `json:"topics"`
		Data     string   `json:"data"`
	}
	words := func(data string) []*big.Int {
		var out []*big.Int
		for i := 2; i+64 <= len(data); i += 64 {
			v, _ := new(big.Int).SetString(data[i:i+64], 16)
			out = append(out, v)
		}
		return out
	}
	int256 := func(v *big.Int) *big.Int {
		if v.Bit(255) == 1 {
			return new(big.Int).Sub(v, new(big.Int).Lsh(big.NewInt(1), 256))
		}
		return v
	}
	var nSwap, nLinked, nWrap int
	for _, l := range jsonLines[logRow](t, d+"stream_logs.json.gz") {
		if len(l.Topics) == 0 {
			continue
		}
		where := fmt.Sprintf("%s log %d", l.TxHash, l.LogIndex)
		var in, outs []*big.Int
		switch l.Topics[0] {
		case ethereum.TopicUniswapV2Swap:
			w := words(l.Data)
			in, outs = []*big.Int{w[0], w[1]}, []*big.Int{w[2], w[3]}
		case ethereum.TopicUniswapV3Swap:
			for _, v := range words(l.Data)[:2] {
				if v := int256(v); v.Sign() > 0 {
					in = append(in, v)
				} else {
					outs = append(outs, new(big.Int).Neg(v))
				}
			}
		case ethereum.TopicWETHDeposit, ethereum.TopicWETHWithdrawal:
			nWrap++
			if _, ok := parts[fmt.Sprintf("wrap:%s:%d", l.TxHash, l.LogIndex)]; !ok && !warned[where] {
				t.Errorf("%s: a WETH event with neither a link nor a warning", where)
			}
			continue
		default:
			continue
		}
		nSwap++
		p, ok := parts[fmt.Sprintf("swap:%s:%d", l.TxHash, l.LogIndex)]
		if !ok {
			if !warned[where] {
				t.Errorf("%s: a swap with neither a link nor a warning", where)
			}
			continue
		}
		nLinked++
		pool, to := graph.Address(l.Address), graph.Address("0x"+l.Topics[2][26:])
		if len(p.In) != 1 || len(p.Venues) != 1 || p.Venues[0] != pool {
			t.Errorf("%s: part %+v", where, p)
			continue
		}
		x := transfers[p.In[0].Ref]
		if x.To != pool || !hasAmount(in, x.Amount) {
			t.Errorf("%s: in-leg %+v does not pay the pool one of %v", where, x, in)
		}
		for _, o := range p.Out {
			x := transfers[o.Ref]
			if x.From != pool || x.To != to || !hasAmount(outs, x.Amount) {
				t.Errorf("%s: out-leg %+v is not the pool paying %s one of %v", where, x, to, outs)
			}
		}
	}
	if nSwap != 79 || nLinked != 72 || nWrap != 61 || len(parts) != 72 {
		t.Errorf("%d swap events, %d linked, %d wrap events, %d parts; want 79, 72, 61, 72", nSwap, nLinked, nWrap, len(parts))
	}
	// The 7 swaps without a link all paid out a token that takes a fee on transfer: the
	// recipient got less than the Swap event says.
	feeTokens := 0
	for _, w := range warns {
		if strings.Contains(w.Msg, "Swap") {
			if !strings.Contains(w.Msg, "a token that takes a fee on transfer?") {
				t.Errorf("swap warning %s", w)
			}
			feeTokens++
		}
	}
	if feeTokens != 7 {
		t.Errorf("%d swap warnings, want 7", feeTokens)
	}

	// One read by hand from the logs: the Universal Router wraps 0.0476 ETH (log 370, no
	// link without traces), pays it to pool 0x45d5…89ed (log 372), which pays
	// 21386135677556680125813287615 of token 0x6c4c…eb12 (log 373); Swap is log 375.
	const h = "0x9f59342d718e2af38e293de44c89cf4cd9f00128fa5b4deb884f51ddc0ed54f4"
	want := graph.LinkPart{Key: "swap:" + h + ":375", Kind: graph.LinkSwap, Chain: graph.Ethereum,
		In: []graph.Leg{{Chain: graph.Ethereum, Ref: h + ".log372"}}, Out: []graph.Leg{{Chain: graph.Ethereum, Ref: h + ".log373"}},
		Venues: []graph.Address{"0x45d559c7e2c2132e59100008cc2241b68c9689ed"},
		Evidence: "tx " + h + " log 375: Uniswap V2 Swap by pool 0x45d559c7e2c2132e59100008cc2241b68c9689ed: 47600000000000000 of " +
			"0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2 in, 21386135677556680125813287615 of 0x6c4c193bff0a117f0c2b516802abba961a1eeb12 out to " +
			string(transfers[h+".log373"].To)}
	if got := parts[want.Key]; fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("part\n got  %+v\n want %+v", got, want)
	}
	if !warned[h+" log 370"] {
		t.Error("the router's wrap without traces gave no warning")
	}

	// The engine accepts every link (spec §15.9) over the window, and the swap above
	// carries its sender's taint onto the token it bought.
	j, err := graph.JoinLinks(linksOf(bs))
	if err != nil {
		t.Fatal(err)
	}
	var sender graph.Address
	for _, b := range bs {
		for _, tx := range b.AccountTxs {
			if tx.Hash == h {
				sender = transfers[h+".log372"].From
			}
		}
	}
	params := trace.DefaultParams()
	params.ImplicitBalances = true // a window of mainnet: balances from before it are clean
	m, err := trace.NewMulti([]trace.Config{{Chain: graph.Ethereum, Model: graph.Account, Method: trace.Haircut,
		Venues: j.Venues[graph.Ethereum], Params: params}}, []trace.Seed{{Chain: graph.Ethereum, Address: sender, Source: "s"}}, j.Links)
	if err != nil {
		t.Fatal(err)
	}
	for i := range bs {
		if err := m.ApplyBlock(graph.Ethereum, &bs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.CheckLinks(); err != nil {
		t.Fatal(err)
	}
	r := m.Result()
	if err := r.CheckConservation(); err != nil {
		t.Error(err)
	}
	l := r.Results[graph.Ethereum].AllLinks()[want.Key]
	out := graph.MustAmount("21386135677556680125813287615")
	if l == nil || l.Status != "complete" || len(l.Out) != 1 || len(l.Out[0].Taint) != 1 || l.Out[0].Taint[0].Amount != out {
		t.Errorf("link %s: %+v", want.Key, l)
	}
}

func linksOf(bs []graph.Block) []graph.LinkPart {
	var out []graph.LinkPart
	for _, b := range bs {
		out = append(out, b.Links...)
	}
	return out
}

func hasAmount(list []*big.Int, a graph.Amount) bool {
	for _, v := range list {
		if v.Cmp(a.ToBig()) == 0 {
			return true
		}
	}
	return false
}
