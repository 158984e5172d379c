package ethereum_test

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/graph"
)

// swapBlock makes the JSON-RPC results of a block of n transactions, each a Uniswap V2
// swap through a router: Transfer into the pair, Transfer out of it, Sync, Swap. With
// swaps false the Swap log has another topic0 (an event no detector reads): the same
// bytes to decode, nothing to detect.
func swapBlock(n int, swaps bool) (block, receipts, traces []byte) {
	h := func(i, kind int) string { return fmt.Sprintf("0x%062x%02x", i, kind) }
	a := func(i int) string { return fmt.Sprintf("0x%040x", i) }
	topic := func(addr string) string { return "0x000000000000000000000000" + addr[2:] }
	w := func(v int) string { return fmt.Sprintf("%064x", v) }
	swapTopic := ethereum.TopicUniswapV2Swap
	if !swaps {
		swapTopic = "0x" + hex.EncodeToString(make([]byte, 31)) + "01"
	}
	var bt, rc, tr []string
	logIdx := 0
	for i := 0; i < n; i++ {
		user, router, pair, tokA, tokB := a(0x1000+i), a(0x2000), a(0x3000+i%16), a(0x4000), a(0x5000)
		bt = append(bt, fmt.Sprintf(`{"hash":%q,"transactionIndex":"0x%x","from":%q,"to":%q,"value":"0x0","gasPrice":"0x3b9aca00"}`, h(i, 1), i, user, router))
		logs := []string{
			fmt.Sprintf(`{"address":%q,"topics":[%q,%q,%q],"data":"0x%s","logIndex":"0x%x"}`, tokA, ethereum.TransferTopic, topic(user), topic(pair), w(1000+i), logIdx),
			fmt.Sprintf(`{"address":%q,"topics":[%q,%q,%q],"data":"0x%s","logIndex":"0x%x"}`, tokB, ethereum.TransferTopic, topic(pair), topic(user), w(997+i), logIdx+1),
			fmt.Sprintf(`{"address":%q,"topics":["0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"],"data":"0x%s%s","logIndex":"0x%x"}`, pair, w(5), w(6), logIdx+2),
			fmt.Sprintf(`{"address":%q,"topics":[%q,%q,%q],"data":"0x%s%s%s%s","logIndex":"0x%x"}`, pair, swapTopic, topic(router), topic(user), w(1000+i), w(0), w(0), w(997+i), logIdx+3),
		}
		logIdx += 4
		rc = append(rc, fmt.Sprintf(`{"transactionHash":%q,"transactionIndex":"0x%x","status":"0x1","gasUsed":"0x1d4c0","effectiveGasPrice":"0x3b9aca00","logs":[%s]}`, h(i, 1), i, strings.Join(logs, ",")))
		tr = append(tr, fmt.Sprintf(`{"txHash":%q,"result":{"type":"CALL","from":%q,"to":%q,"value":"0x0","calls":[{"type":"CALL","from":%q,"to":%q,"value":"0x0"},{"type":"STATICCALL","from":%q,"to":%q}]}}`, h(i, 1), user, router, router, pair, pair, tokA))
	}
	block = []byte(fmt.Sprintf(`{"number":"0x10","hash":%q,"parentHash":%q,"timestamp":"0x1","transactions":[%s]}`, h(0, 0xbb), h(0, 0xaa), strings.Join(bt, ",")))
	return block, []byte("[" + strings.Join(rc, ",") + "]"), []byte("[" + strings.Join(tr, ",") + "]")
}

// BenchmarkDecodeSwaps decodes a block of 200 swap transactions with the detectors finding
// 200 links ("swaps") and the same block whose Swap logs no detector reads ("no-swaps"):
// the difference is what link detection costs the ingest.
func BenchmarkDecodeSwaps(b *testing.B) {
	for _, swaps := range []bool{false, true} {
		name := "no-swaps"
		if swaps {
			name = "swaps"
		}
		b.Run(name, func(b *testing.B) {
			blk, rcs, trs := swapBlock(200, swaps)
			d, err := ethereum.DecodeBlock(blk, rcs, trs)
			if err != nil {
				b.Fatal(err)
			}
			if want := map[bool]int{false: 0, true: 200}[swaps]; len(d.Block.Links) != want || len(d.Warnings) != 0 {
				b.Fatalf("%d links (want %d), warnings %v", len(d.Block.Links), want, d.Warnings)
			}
			b.SetBytes(int64(len(blk) + len(rcs) + len(trs)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ethereum.DecodeBlock(blk, rcs, trs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(200*float64(b.N)/b.Elapsed().Seconds(), "txs/s")
		})
	}
}

// BenchmarkDetectLinks is the detectors alone over one V2 swap transaction (two Transfer
// logs, the Swap): the cost per swap that BenchmarkDecodeSwaps sees inside decoding.
func BenchmarkDetectLinks(b *testing.B) {
	transfers := []graph.Transfer{erc(0, lTokA, lUser, lPool, 1000), erc(1, lTokB, lPool, lUser, 997)}
	logs := []ethereum.Log{v2Swap(3, lPool, lUser, 1000, 0, 0, 997)}
	tx := &graph.AccountTx{Hash: lTx, Success: true}
	b.ReportAllocs()
	for b.Loop() {
		tx.Transfers = transfers
		if parts, _ := ethereum.DetectLinks(1, tx, logs); len(parts) != 1 {
			b.Fatal("no link")
		}
	}
}
