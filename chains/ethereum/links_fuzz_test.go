package ethereum_test

import (
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/graph"
)

var fuzzTopics = []string{ethereum.TopicWETHDeposit, ethereum.TopicWETHWithdrawal, ethereum.TopicUniswapV2Swap,
	ethereum.TopicUniswapV3Swap, ethereum.TopicTHORChainDeposit, ethereum.TopicTHORChainTransferOut,
	ethereum.TopicTHORChainTransferOutAndCall, ethereum.TransferTopic}

// FuzzDetectLinks feeds arbitrary topics and data under the detectors' event signatures,
// twice in one transaction, to DetectLinks over a transaction whose transfers can match
// them. It must never panic; a warning wraps ErrLinkEvent or ErrLinkUnmatched; the
// transfers keep every original one once, with unique ids, and any added one is a wrapper
// movement of the event's contract; every part's legs are transfers of the transaction,
// its in-legs pay one of its venues and come before its out-legs, which a venue pays.
func FuzzDetectLinks(f *testing.F) {
	add := func(sel, contract uint8, topics []string, data []byte, amount uint64) {
		var tb []byte
		for _, t := range topics {
			b, _ := hex.DecodeString(t[2:])
			tb = append(tb, b...)
		}
		f.Add(sel, contract, uint8(len(topics)), tb, data, amount)
	}
	add(0, 0, []string{topicOf(lUser)}, word(10), 10)
	add(1, 0, []string{topicOf(lUser)}, word(10), 10)
	add(2, 1, []string{topicOf(lUser), topicOf(lUser)}, cat(word(10), word(0), word(0), word(10)), 10)
	add(3, 1, []string{topicOf(lUser), topicOf(lUser)}, cat(word(10), word(-10), word(1), word(1), word(0)), 10)
	add(4, 2, []string{topicOf(lVault), topicOf(graph.ZeroAddress)}, cat(word(10), word(64), abiStr("=:BTC.BTC:bc1q")), 10)
	add(4, 2, []string{topicOf(lVault), topicOf(lTokA)}, cat(word(10), word(64), abiStr("SWAP:ETH.ETH")), 10)
	add(5, 2, []string{topicOf(lVault), topicOf(lUser)}, cat(word(graph.ZeroAddress), word(10), word(96), abiStr("OUT:"+lInHash)), 10)
	add(6, 2, []string{topicOf(lVault)}, cat(word(lUser), word(10), word(lTokA), word(lUser), word(0), word(192), abiStr("REFUND:"+lInHash)), 10)

	f.Fuzz(func(t *testing.T, sel, contract, ntopics uint8, topicBytes, data []byte, amount uint64) {
		c := []graph.Address{lWETH, lPool, lRouter}[int(contract)%3]
		topics := []string{fuzzTopics[int(sel)%len(fuzzTopics)]}
		for i := 0; i < int(ntopics%5) && 32*(i+1) <= len(topicBytes); i++ {
			topics = append(topics, "0x"+hex.EncodeToString(topicBytes[32*i:32*i+32]))
		}
		if amount == 0 {
			amount = 1
		}
		orig := []graph.Transfer{
			eth(".0", lUser, c, amount), eth(".t0", c, lUser, amount), eth(".t1", lRouter, lVault, amount),
			erc(0, lTokA, lUser, c, amount), erc(1, lTokB, c, lUser, amount), erc(3, lTokB, c, lUser, amount),
			erc(5, lTokA, lUser, c, amount),
		}
		tx := &graph.AccountTx{Hash: lTx, Success: true, Transfers: slices.Clone(orig)}
		logs := []ethereum.Log{{Index: 2, Address: c, Topics: topics, Data: data}, {Index: 4, Address: c, Topics: topics, Data: data}}
		parts, warns := ethereum.DetectLinks(1, tx, logs)
		for _, w := range warns {
			if !errors.Is(w, ethereum.ErrLinkEvent) && !errors.Is(w, ethereum.ErrLinkUnmatched) {
				t.Fatalf("warning wraps no sentinel: %v", w)
			}
		}
		pos := map[string]int{}
		for i, x := range tx.Transfers {
			if _, dup := pos[x.ID]; dup {
				t.Fatalf("transfer id %s twice", x.ID)
			}
			pos[x.ID] = i
			if x.Amount.IsZero() {
				t.Fatalf("zero transfer %s", x.ID)
			}
			if !slices.Contains(orig, x) && (x.Asset != graph.Asset(c) || (x.Kind != graph.KindWrap && x.Kind != graph.KindUnwrap)) {
				t.Fatalf("added transfer %+v is not a movement of %s's token", x, c)
			}
		}
		for _, x := range orig {
			if _, ok := pos[x.ID]; !ok {
				t.Fatalf("transfer %s lost", x.ID)
			}
		}
		for _, p := range parts {
			if p.Key == "" || p.Chain != graph.Ethereum || len(p.Venues) == 0 || len(p.In)+len(p.Out) == 0 {
				t.Fatalf("part %+v", p)
			}
			lastIn := -1
			for _, l := range p.In {
				i, ok := pos[l.Ref]
				if !ok || l.Chain != graph.Ethereum {
					t.Fatalf("in-leg %s is not a transfer of the transaction", l)
				}
				if !slices.Contains(p.Venues, tx.Transfers[i].To) || tx.Transfers[i].From == tx.Transfers[i].To {
					t.Fatalf("in-leg %+v does not pay a venue of %v", tx.Transfers[i], p.Venues)
				}
				lastIn = max(lastIn, i)
			}
			for _, l := range p.Out {
				i, ok := pos[l.Ref]
				if !ok {
					t.Fatalf("out-leg %s is not a transfer of the transaction", l)
				}
				if !slices.Contains(p.Venues, tx.Transfers[i].From) || tx.Transfers[i].From == tx.Transfers[i].To {
					t.Fatalf("out-leg %+v is not paid by a venue of %v", tx.Transfers[i], p.Venues)
				}
				if i < lastIn {
					t.Fatalf("part %s: out-leg %s before an in-leg", p.Key, l)
				}
			}
		}
	})
}
