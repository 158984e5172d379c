package simcase

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/chaintrace/chaintrace/chains/bitcoin/regnode"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/ethereum/go-ethereum/core/types"
)

// The Bitcoin side of the case, on an in-process regtest chain (chains/bitcoin/regnode):
//
//   - 101 blocks mine coins; block 102 funds THORChain's Bitcoin vault (20 BTC), a clean
//     customer (10 BTC) and the second launderer wallet (1 BTC of clean coins, so that the
//     methods disagree later); in block 103 the customer deposits 3 BTC at SimEx D and 1 BTC
//     at SimEx B;
//   - after the Ethereum block that sent 150 ETH through THORChain, the vault pays the swap
//     out: 4.8 BTC to the first launderer wallet, with the memo "OUT:<Ethereum tx hash>"
//     (block 104);
//   - a peel chain: L1 pays 1 BTC to SimEx D and the rest to L2 (105); L2 spends its clean
//     coin and the tainted one, paying 2.5 BTC to SimEx B and the rest to L3 (106); L3 pays
//     everything but the fee to SimEx D (107).

// Bitcoin amounts of the case, in satoshi.
const (
	btcFee        = 10_000
	btcOut        = 480_000_000 // the vault's payment for the 150 ETH
	btcPeel1      = 100_000_000 // L1 → SimEx D
	btcPeel2      = 250_000_000 // L2 → SimEx B
	btcL2Clean    = 100_000_000 // the clean coin L2 held before
	btcCustomerD  = 300_000_000 // the clean customer's deposit at SimEx D
	btcCustomerB  = 100_000_000 // … and at SimEx B
	btcFundVault  = 2_000_000_000
	btcFundClient = 1_000_000_000
)

// BitcoinBlocks is the number of Bitcoin blocks the case mines.
const BitcoinBlocks = 107

type bitcoinRoles struct {
	miner, vault, customer *regnode.Key
	launder                [3]*regnode.Key
	depD                   [2]*regnode.Key
	depB                   *regnode.Key
}

func newBitcoinRoles() *bitcoinRoles {
	k := func(name string) *regnode.Key { return regnode.NewKey("chaintrace simcase " + name) }
	r := &bitcoinRoles{miner: k("btc-miner"), vault: k("thorchain-btc-vault"), customer: k("btc-customer"),
		depB: k("simex-b-btc-deposit")}
	for i := range r.launder {
		r.launder[i] = k(fmt.Sprintf("btc-launderer-%d", i+1))
	}
	for i := range r.depD {
		r.depD[i] = k(fmt.Sprintf("simex-d-deposit-%d", i+1))
	}
	return r
}

// playBitcoin starts the regtest node and plays the Bitcoin side; thorIn is the Ethereum
// transaction THORChain's outbound answers, sealed at thorTime.
func playBitcoin(ctx context.Context, c *Case, r *bitcoinRoles, thorIn *types.Transaction, thorTime time.Time) (err error) {
	n, err := regnode.Start(ctx, regnode.Options{Miner: r.miner.P2PKH()})
	if err != nil {
		return fmt.Errorf("simcase: bitcoin node: %w", err)
	}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	step := func(what string, e error) {
		if e != nil && err == nil {
			err = fmt.Errorf("simcase: bitcoin: %s: %w", what, e)
		}
	}
	send := func(from *regnode.Key, pays []regnode.Payment, changeTo string) string {
		if err != nil {
			return ""
		}
		txid, e := n.SendWithChange(ctx, from, pays, btcFee, changeTo)
		step("send from "+from.Name, e)
		return txid
	}
	mine := func(at time.Time) {
		if err != nil {
			return
		}
		_, e := n.MineTxs(ctx, at)
		step("mine", e)
	}
	_, e := n.Mine(ctx, 101, r.miner.P2PKH())
	step("mine the first coins", e)
	send(r.miner, []regnode.Payment{{To: r.vault.P2PKH(), Value: btcFundVault}, {To: r.customer.P2PKH(), Value: btcFundClient},
		{To: r.launder[1].P2PKH(), Value: btcL2Clean}}, r.miner.P2PKH())
	mine(time.Time{})
	send(r.customer, []regnode.Payment{{To: r.depD[0].P2WPKH(), Value: btcCustomerD}, {To: r.depB.P2WPKH(), Value: btcCustomerB}}, r.customer.P2PKH())
	mine(time.Time{})

	// THORChain's outbound comes a minute after the inbound's Ethereum block; the peel
	// chain follows a block every ten minutes.
	at := thorTime.Add(time.Minute)
	memo := "OUT:" + strings.ToUpper(strings.TrimPrefix(thorIn.Hash().Hex(), "0x"))
	out := send(r.vault, []regnode.Payment{{To: r.launder[0].P2PKH(), Value: btcOut}, {Memo: []byte(memo)}}, r.vault.P2PKH())
	mine(at)
	send(r.launder[0], []regnode.Payment{{To: r.depD[0].P2WPKH(), Value: btcPeel1}}, r.launder[1].P2PKH())
	mine(at.Add(10 * time.Minute))
	send(r.launder[1], []regnode.Payment{{To: r.depB.P2WPKH(), Value: btcPeel2}}, r.launder[2].P2PKH())
	mine(at.Add(20 * time.Minute))
	send(r.launder[2], []regnode.Payment{{To: r.depD[1].P2WPKH(), Value: btcL3Deposit}}, r.launder[2].P2PKH())
	mine(at.Add(30 * time.Minute))
	if err != nil {
		return err
	}
	if h := n.Height(); h != BitcoinBlocks {
		return fmt.Errorf("simcase: bitcoin: the case mined %d blocks, want %d", h, BitcoinBlocks)
	}
	c.BTC, c.BTCHead, c.ThorchainOutbound = n, uint64(n.Height()), out
	for name, k := range map[string]*regnode.Key{"btc-miner": r.miner, "thorchain-btc-vault": r.vault, "btc-customer": r.customer,
		"btc-launderer-1": r.launder[0], "btc-launderer-2": r.launder[1], "btc-launderer-3": r.launder[2]} {
		c.Roles[name] = graph.Address(k.P2PKH())
	}
	c.Roles["simex-d-deposit-1"], c.Roles["simex-d-deposit-2"] = graph.Address(r.depD[0].P2WPKH()), graph.Address(r.depD[1].P2WPKH())
	c.Roles["simex-b-btc-deposit"] = graph.Address(r.depB.P2WPKH())
	c.Labels = append(c.Labels, bitcoinLabels(r)...)
	c.Expect = append(c.Expect, bitcoinExpectations()...)
	return nil
}

// L2 spends its clean coin (older) and L1's change; the rest of both after the 2.5 BTC
// and the fee goes to L3, which pays all of it but the fee to SimEx D.
const (
	btcL1Change  = btcOut - btcPeel1 - btcFee                   // L1 → L2, tainted
	btcL3        = btcL2Clean + btcL1Change - btcPeel2 - btcFee // L2 → L3
	btcL3Deposit = btcL3 - btcFee                               // L3 → SimEx D
)

func bitcoinLabels(r *bitcoinRoles) []labels.Label {
	src := labels.Source{Document: labelDocument}
	mk := func(a, entity, name string, cat labels.Category) labels.Label {
		return labels.Label{Chain: graph.Bitcoin, Address: graph.Address(a), Entity: entity, Name: name, Category: cat,
			Confidence: labels.ConfidenceOwnership, Source: src}
	}
	return []labels.Label{
		mk(r.depD[0].P2WPKH(), ExchangeD, "deposit address 1", labels.CategoryExchange),
		mk(r.depD[1].P2WPKH(), ExchangeD, "deposit address 2", labels.CategoryExchange),
		mk(r.depB.P2WPKH(), ExchangeB, "Bitcoin deposit address", labels.CategoryExchange),
		mk(r.vault.P2PKH(), "THORChain (simulated)", "Bitcoin vault", labels.CategoryThorchain),
	}
}

// proportion is w·t/v rounded to the nearest unit: the exact haircut share, which the
// engine's Hamilton rounding (spec §6) meets within a unit per transaction and component.
func proportion(w, t, v int64) int64 {
	q := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(w), big.NewInt(t)), big.NewInt(v))
	q.Add(q, big.NewRat(1, 2))
	return new(big.Int).Quo(q.Num(), q.Denom()).Int64()
}

// bitcoinExpectations are the Bitcoin exchanges' figures by hand. The vault's 4.8 BTC
// carry the taint of the 150 ETH that went in, which was all tainted under every method
// (the swapper held only the exploiter's ETH and the proceeds of its sETH), so L1 holds
// 4.8 tainted BTC.
func bitcoinExpectations() []Expected {
	mk := func(ex, method string, received, tainted int64, why string) Expected {
		return Expected{Exchange: ex, Method: method, Asset: graph.BTC, Received: graph.NewAmount(uint64(received)),
			Tainted: graph.NewAmount(uint64(tainted)), Why: why}
	}
	recvD := int64(btcCustomerD + btcPeel1 + btcL3Deposit)
	recvB := int64(btcCustomerB + btcPeel2)
	// Haircut (§7.3): L2's inputs are L1's tainted change and its clean coin, so every
	// output of L2's transaction, and everything L3 pays on, carries the share
	// L1's change / (L1's change + the clean coin). The engine rounds each transaction per
	// (source, hop) component (the vault's payment carries two hops, see Why), so it may be
	// a unit or two from the exact share.
	v2 := int64(btcL1Change + btcL2Clean)
	t2 := proportion(btcPeel2, btcL1Change, v2)
	td2 := proportion(btcL3Deposit, btcL1Change, v2)
	hc := func(e Expected) Expected { e.Tolerance = graph.NewAmount(2); return e }
	return []Expected{
		mk(ExchangeD, "fifo", recvD, btcPeel1+btcL3Deposit,
			"L1's 1 BTC, then L3's deposit: L2's stream is its clean coin then L1's change; 2.5 BTC take the clean coin first, L3 gets only tainted units"),
		mk(ExchangeD, "lifo", recvD, btcPeel1+btcL1Change-btcPeel2,
			"L1's 1 BTC, then from L3 (newest units first: L1's change, then the clean coin) the tainted part, L1's change less the 2.5 BTC"),
		hc(mk(ExchangeD, "haircut", recvD, btcPeel1+td2,
			"L1's 1 BTC, then L3's deposit at L2's tainted share 3.7999/4.7999 (the swapper's ETH held two hops of taint, 1 and 5, so every later holding does too, each rounded on its own)")),
		mk(ExchangeD, "poison", recvD, btcPeel1+btcL3Deposit, "both deposits descend from the vault's payment"),
		mk(ExchangeB, "fifo", recvB, btcPeel2-btcL2Clean, "2.5 BTC take L2's clean coin first, then 1.5 BTC of L1's change"),
		mk(ExchangeB, "lifo", recvB, btcPeel2, "2.5 BTC take the newest units: L1's tainted change"),
		hc(mk(ExchangeB, "haircut", recvB, t2, "2.5 BTC at L2's tainted share 3.7999/4.7999, within the rounding of two components")),
		mk(ExchangeB, "poison", recvB, btcPeel2, "L2's transaction spends a tainted coin"),
	}
}
