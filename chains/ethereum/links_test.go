package ethereum_test

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/chains/thorchain"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
)

// Addresses of the hand-made transactions below.
const (
	lUser   graph.Address = "0x1000000000000000000000000000000000000001"
	lOther  graph.Address = "0x1000000000000000000000000000000000000002"
	lWETH   graph.Address = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
	lTokA   graph.Address = "0xa000000000000000000000000000000000000001"
	lTokB   graph.Address = "0xb000000000000000000000000000000000000002"
	lPool   graph.Address = "0x9000000000000000000000000000000000000009"
	lPool2  graph.Address = "0x9000000000000000000000000000000000000010"
	lRouter graph.Address = "0xd37bbe5744d730a1d98d8dc97c42f0ca46ad7146"
	lVault  graph.Address = "0x7000000000000000000000000000000000000007"
	lAggr   graph.Address = "0x8000000000000000000000000000000000000008"
	lTx                   = "0x00000000000000000000000000000000000000000000000000000000000000aa"
	lInHash               = "5e0e3c9a7d7c4f6c3b35c2c5d1c0b3c9f9a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
)

func topicOf(a graph.Address) string { return "0x000000000000000000000000" + string(a)[2:] }

func word(v any) []byte {
	switch x := v.(type) {
	case int:
		return math.U256Bytes(big.NewInt(int64(x)))
	case *big.Int:
		return math.U256Bytes(new(big.Int).Set(x))
	case graph.Address:
		return common.LeftPadBytes(common.HexToAddress(string(x)).Bytes(), 32)
	}
	panic(fmt.Sprintf("word of %T", v))
}

func cat(ws ...[]byte) []byte { return slices.Concat(ws...) }

// abiStr encodes a string's tail (length word, then the bytes padded to 32).
func abiStr(s string) []byte {
	b := append([]byte(s), make([]byte, (32-len(s)%32)%32)...)
	return cat(word(len(s)), b)
}

func v2Swap(i uint64, pool, to graph.Address, in0, in1, out0, out1 int) ethereum.Log {
	return ethereum.Log{Index: i, Address: pool, Topics: []string{ethereum.TopicUniswapV2Swap, topicOf(lUser), topicOf(to)},
		Data: cat(word(in0), word(in1), word(out0), word(out1))}
}

func v3Swap(i uint64, pool, to graph.Address, a0, a1 int) ethereum.Log {
	return ethereum.Log{Index: i, Address: pool, Topics: []string{ethereum.TopicUniswapV3Swap, topicOf(lUser), topicOf(to)},
		Data: cat(word(a0), word(a1), word(1), word(1), word(0))}
}

func tcDeposit(i uint64, asset graph.Address, amount int, memo string) ethereum.Log {
	return ethereum.Log{Index: i, Address: lRouter, Topics: []string{ethereum.TopicTHORChainDeposit, topicOf(lVault), topicOf(asset)},
		Data: cat(word(amount), word(64), abiStr(memo))}
}

func tcOut(i uint64, to, asset graph.Address, amount int, memo string) ethereum.Log {
	return ethereum.Log{Index: i, Address: lRouter, Topics: []string{ethereum.TopicTHORChainTransferOut, topicOf(lVault), topicOf(to)},
		Data: cat(word(asset), word(amount), word(96), abiStr(memo))}
}

func tcOutAndCall(i uint64, aggregator, to graph.Address, amount int, memo string) ethereum.Log {
	return ethereum.Log{Index: i, Address: lRouter, Topics: []string{ethereum.TopicTHORChainTransferOutAndCall, topicOf(lVault)},
		Data: cat(word(aggregator), word(amount), word(lTokA), word(to), word(0), word(6*32), abiStr(memo))}
}

func eth(id string, from, to graph.Address, v uint64) graph.Transfer {
	kind := graph.KindInternal
	if id == ".0" {
		kind = graph.KindCall
	}
	return graph.Transfer{ID: lTx + id, Asset: graph.ETH, From: from, To: to, Amount: graph.NewAmount(v), Kind: kind}
}

func erc(i int, token, from, to graph.Address, v uint64) graph.Transfer {
	return graph.Transfer{ID: fmt.Sprintf("%s.log%d", lTx, i), Asset: graph.Asset(token), From: from, To: to, Amount: graph.NewAmount(v), Kind: graph.KindERC20}
}

func legs(ids ...string) []graph.Leg {
	var out []graph.Leg
	for _, id := range ids {
		out = append(out, graph.Leg{Chain: graph.Ethereum, Ref: lTx + id})
	}
	return out
}

// TestDetectLinks runs the detectors over hand-made transactions: what each must find,
// the order of the transfers after it, and the warnings.
func TestDetectLinks(t *testing.T) {
	swapKey := func(i int) string { return fmt.Sprintf("swap:%s:%d", lTx, i) }
	for _, tc := range []struct {
		name      string
		transfers []graph.Transfer
		logs      []ethereum.Log
		parts     []graph.LinkPart // evidence not compared (the dev-chain test does)
		order     []string         // transfer ids after detection; nil: unchanged
		warnings  []string         // substrings, in order
		sentinels []error
	}{{
		name:      "V2 swap, the in-transfer nearest before the Swap",
		transfers: []graph.Transfer{erc(0, lTokA, lUser, lPool, 5), erc(1, lTokA, lOther, lPool, 5), erc(2, lTokB, lPool, lUser, 7)},
		logs:      []ethereum.Log{v2Swap(4, lPool, lUser, 5, 0, 0, 7)},
		parts: []graph.LinkPart{{Key: swapKey(4), Kind: graph.LinkSwap, Chain: graph.Ethereum,
			In: legs(".log1"), Out: legs(".log2"), Venues: []graph.Address{lPool}}},
	}, {
		name:      "V2 swap paying both tokens in gives no link",
		transfers: []graph.Transfer{erc(0, lTokA, lUser, lPool, 5), erc(1, lTokB, lUser, lPool, 5), erc(2, lTokB, lPool, lUser, 7)},
		logs:      []ethereum.Log{v2Swap(4, lPool, lUser, 5, 5, 0, 7)},
		warnings:  []string{"both tokens paid in"}, sentinels: []error{ethereum.ErrLinkUnmatched},
	}, {
		name:      "V2 swap whose out-transfer is of the in-token gives no link",
		transfers: []graph.Transfer{erc(0, lTokA, lUser, lPool, 5), erc(1, lTokA, lPool, lUser, 7)},
		logs:      []ethereum.Log{v2Swap(4, lPool, lUser, 5, 0, 0, 7)},
		warnings:  []string{"no Transfer of 7 of a token other than"}, sentinels: []error{ethereum.ErrLinkUnmatched},
	}, {
		name:      "V2 swap of a token that takes a fee on transfer gives no link, and says so",
		transfers: []graph.Transfer{erc(0, lTokA, lUser, lPool, 5), erc(1, lTokB, lPool, lUser, 6)},
		logs:      []ethereum.Log{v2Swap(4, lPool, lUser, 5, 0, 0, 7)},
		warnings:  []string{"no Transfer of 7 of a token other than " + string(lTokA) + " from the pool to " + string(lUser) + " before the Swap (only 6 of " + string(lTokB) + ": a token that takes a fee on transfer?)"},
		sentinels: []error{ethereum.ErrLinkUnmatched},
	}, {
		name:      "V2 swap logged before its transfers gives no link",
		transfers: []graph.Transfer{erc(5, lTokA, lUser, lPool, 5), erc(6, lTokB, lPool, lUser, 7)},
		logs:      []ethereum.Log{v2Swap(4, lPool, lUser, 5, 0, 0, 7)},
		warnings:  []string{"no Transfer of 5 into the pool before the Swap"}, sentinels: []error{ethereum.ErrLinkUnmatched},
	}, {
		name: "V3 route through two pools via the router: each in-leg moves before its out-leg",
		// pool1 pays the router (log 0), is paid by the user (1), Swap (2); pool2 pays the
		// user (3), is paid by the router (4), Swap (5).
		transfers: []graph.Transfer{erc(0, lTokB, lPool, lRouter, 7), erc(1, lTokA, lUser, lPool, 5),
			erc(3, lWETH, lPool2, lUser, 3), erc(4, lTokB, lRouter, lPool2, 7)},
		logs: []ethereum.Log{v3Swap(2, lPool, lRouter, -7, 5), v3Swap(5, lPool2, lUser, 7, -3)},
		parts: []graph.LinkPart{
			{Key: swapKey(2), Kind: graph.LinkSwap, Chain: graph.Ethereum, In: legs(".log1"), Out: legs(".log0"), Venues: []graph.Address{lPool}},
			{Key: swapKey(5), Kind: graph.LinkSwap, Chain: graph.Ethereum, In: legs(".log4"), Out: legs(".log3"), Venues: []graph.Address{lPool2}}},
		order: []string{".log1", ".log0", ".log4", ".log3"},
	}, {
		name: "a link whose in-leg another link's move puts after its out-leg is dropped",
		// pool2 pays the user (log 0); pool1 pays pool2 (1) and is paid by the user (2);
		// Swap of pool1 (3), Swap of pool2 (4): moving log 1 before log 0 for pool2's link
		// puts pool1's out-leg before its in-leg.
		transfers: []graph.Transfer{erc(0, lWETH, lPool2, lUser, 3), erc(1, lTokB, lPool, lPool2, 7), erc(2, lTokA, lUser, lPool, 5)},
		logs:      []ethereum.Log{v3Swap(3, lPool, lPool2, -7, 5), v3Swap(4, lPool2, lUser, 7, -3)},
		parts: []graph.LinkPart{
			{Key: swapKey(4), Kind: graph.LinkSwap, Chain: graph.Ethereum, In: legs(".log1"), Out: legs(".log0"), Venues: []graph.Address{lPool2}}},
		order:    []string{".log1", ".log0", ".log2"},
		warnings: []string{swapKey(3) + ": its in-leg cannot come before its out-leg"}, sentinels: []error{ethereum.ErrLinkUnmatched},
	}, {
		name:      "V3 swap with both amounts positive gives no link",
		transfers: []graph.Transfer{erc(0, lTokA, lUser, lPool, 5)},
		logs:      []ethereum.Log{v3Swap(2, lPool, lUser, 5, 5)},
		warnings:  []string{"nothing paid in or nothing paid out"}, sentinels: []error{ethereum.ErrLinkUnmatched},
	}, {
		name: "two wraps of the same amount pair with the payments in order; a zero deposit is nothing",
		transfers: []graph.Transfer{eth(".0", lUser, lRouter, 20), eth(".t0", lRouter, lWETH, 10), eth(".t1", lRouter, lWETH, 10),
			erc(3, lWETH, lRouter, lPool, 20)},
		logs: []ethereum.Log{
			{Index: 1, Address: lWETH, Topics: []string{ethereum.TopicWETHDeposit, topicOf(lRouter)}, Data: word(10)},
			{Index: 2, Address: lWETH, Topics: []string{ethereum.TopicWETHDeposit, topicOf(lRouter)}, Data: word(10)},
			{Index: 4, Address: lWETH, Topics: []string{ethereum.TopicWETHDeposit, topicOf(lRouter)}, Data: word(0)}},
		parts: []graph.LinkPart{
			{Key: "wrap:" + lTx + ":1", Kind: graph.LinkWrap, Chain: graph.Ethereum, In: legs(".t0"), Out: legs(".log1"), Venues: []graph.Address{lWETH}},
			{Key: "wrap:" + lTx + ":2", Kind: graph.LinkWrap, Chain: graph.Ethereum, In: legs(".t1"), Out: legs(".log2"), Venues: []graph.Address{lWETH}}},
		order: []string{".0", ".t0", ".t1", ".log1.mint", ".log1", ".log2.mint", ".log2", ".log3"},
	}, {
		name:      "a deposit whose ETH came from someone else is no wrap",
		transfers: []graph.Transfer{eth(".0", lOther, lWETH, 10)},
		logs:      []ethereum.Log{{Index: 0, Address: lWETH, Topics: []string{ethereum.TopicWETHDeposit, topicOf(lUser)}, Data: word(10)}},
		warnings:  []string{"no ETH payment of 10 wei from " + string(lUser)}, sentinels: []error{ethereum.ErrLinkUnmatched},
	}, {
		name:      "THORChain ERC-20 inbound and a second inbound in the same transaction",
		transfers: []graph.Transfer{erc(0, lTokA, lUser, lRouter, 50), erc(2, lTokA, lUser, lRouter, 50)},
		logs:      []ethereum.Log{tcDeposit(1, lTokA, 50, "=:BTC.BTC:bc1qxyz"), tcDeposit(3, lTokA, 50, "=:BTC.BTC:bc1qxyz")},
		parts: []graph.LinkPart{{Key: thorchain.LinkKey(lTx), Kind: graph.LinkThorchain, Chain: graph.Ethereum,
			In: legs(".log0"), Venues: []graph.Address{lRouter, lVault}}},
		warnings: []string{"a second THORChain inbound"}, sentinels: []error{ethereum.ErrLinkUnmatched},
	}, {
		name:      "THORChain vault migration is no link; a REFUND memo on a Deposit is a warning",
		transfers: []graph.Transfer{eth(".0", lUser, lRouter, 9), eth(".t0", lRouter, lVault, 9)},
		logs:      []ethereum.Log{tcDeposit(0, graph.ZeroAddress, 9, "MIGRATE:123"), tcDeposit(1, graph.ZeroAddress, 9, "REFUND:"+lInHash)},
		warnings:  []string{"a Deposit with a refund memo"}, sentinels: []error{ethereum.ErrLinkUnmatched},
	}, {
		name:      "THORChain TransferOutAndCall pays the aggregator",
		transfers: []graph.Transfer{eth(".0", lVault, lRouter, 9), eth(".t0", lRouter, lAggr, 9)},
		logs:      []ethereum.Log{tcOutAndCall(0, lAggr, lUser, 9, "OUT:"+lInHash)},
		parts: []graph.LinkPart{{Key: thorchain.LinkKey(lInHash), Kind: graph.LinkThorchain, Chain: graph.Ethereum,
			Out: legs(".t0"), Venues: []graph.Address{lRouter, lVault}}},
	}, {
		name:      "THORChain ETH outbound bounced back to the vault gives no part",
		transfers: []graph.Transfer{eth(".0", lVault, lRouter, 9), eth(".t1", lRouter, lVault, 9)},
		logs:      []ethereum.Log{tcOut(0, lUser, graph.ZeroAddress, 9, "OUT:"+lInHash)},
		warnings:  []string{"bounced back to the vault?"}, sentinels: []error{ethereum.ErrLinkUnmatched},
	}, {
		name:      "malformed events and memos",
		transfers: []graph.Transfer{eth(".0", lUser, lRouter, 9)},
		logs: []ethereum.Log{
			{Index: 0, Address: lWETH, Topics: []string{ethereum.TopicWETHDeposit, topicOf(lUser)}, Data: word(10)[:31]},
			{Index: 1, Address: lPool, Topics: []string{ethereum.TopicUniswapV2Swap, topicOf(lUser)}, Data: make([]byte, 128)},
			{Index: 2, Address: lPool, Topics: []string{"0x" + strings.ToUpper(ethereum.TopicUniswapV3Swap[2:]), topicOf(lUser), "0xff" + topicOf(lUser)[4:]}, Data: make([]byte, 160)},
			tcDeposit(3, graph.ZeroAddress, 9, "SWAP"),
			{Index: 4, Address: lRouter, Topics: []string{ethereum.TopicTHORChainDeposit, topicOf(lVault), topicOf(graph.ZeroAddress)}, Data: cat(word(9), word(1<<20), abiStr("x"))},
			{Index: 5, Address: lRouter, Topics: []string{ethereum.TopicTHORChainDeposit, topicOf(lVault), topicOf(graph.ZeroAddress)}, Data: cat(word(9), word(64), word(1000), make([]byte, 32))},
			{Index: 6, Address: lRouter, Topics: []string{ethereum.TopicTHORChainTransferOut, topicOf(lVault), topicOf(lUser)}, Data: cat(word(new(big.Int).Lsh(big.NewInt(1), 200)), word(9), word(96), abiStr("x"))},
		},
		warnings: []string{"log 0: WETH9 Deposit by " + string(lWETH) + ": data of 31 bytes, want 32",
			"log 1: Uniswap V2 Swap by " + string(lPool) + ": 2 topics, want 3",
			"log 2: Uniswap V3 Swap by " + string(lPool) + ": topic 2",
			"log 3: THORChain router Deposit by " + string(lRouter) + ": malformed THORChain memo",
			"string offset 1048576 out of the 128 bytes",
			"string length 1000 does not fit",
			"data word 0 is not an address"},
		sentinels: []error{ethereum.ErrLinkEvent, ethereum.ErrLinkEvent, ethereum.ErrLinkEvent, thorchain.ErrMemo, ethereum.ErrLinkEvent, ethereum.ErrLinkEvent, ethereum.ErrLinkEvent},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			tx := &graph.AccountTx{Hash: lTx, Success: true, Transfers: slices.Clone(tc.transfers)}
			parts, warns := ethereum.DetectLinks(7, tx, tc.logs)
			for i := range parts {
				if parts[i].Evidence == "" || !strings.HasPrefix(parts[i].Evidence, "tx "+lTx+" log ") {
					t.Errorf("part %s evidence %q", parts[i].Key, parts[i].Evidence)
				}
				parts[i].Evidence = ""
			}
			if fmt.Sprintf("%+v", parts) != fmt.Sprintf("%+v", tc.parts) {
				t.Errorf("parts\n got  %+v\n want %+v", parts, tc.parts)
			}
			if len(warns) != len(tc.warnings) {
				t.Fatalf("warnings %v, want %d", warns, len(tc.warnings))
			}
			for i, w := range warns {
				if w.Height != 7 || w.Tx != lTx || !strings.Contains(w.Error(), tc.warnings[i]) || !errors.Is(w, tc.sentinels[i]) {
					t.Errorf("warning %d: %v, want %q wrapping %v", i, w, tc.warnings[i], tc.sentinels[i])
				}
			}
			var ids []string
			for _, x := range tx.Transfers {
				ids = append(ids, strings.TrimPrefix(x.ID, lTx))
			}
			want := tc.order
			if want == nil {
				for _, x := range tc.transfers {
					want = append(want, strings.TrimPrefix(x.ID, lTx))
				}
			}
			if !slices.Equal(ids, want) {
				t.Errorf("transfers %v, want %v", ids, want)
			}
		})
	}
}
