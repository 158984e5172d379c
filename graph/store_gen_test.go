package graph

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
)

// Deterministic synthetic histories for the store's tests and benchmarks. They are shaped
// like real chains (coinbases, 1–3 inputs and outputs, address reuse with a few hot
// addresses; ETH transfers with fees, failed transactions, internal transfers and ERC-20
// logs) and are consistent: every input spends an existing unspent output with its true
// value, and no account ever sends more than it holds, so the taint engine can replay them.
// Exported so the external test package (graph_test) can use them too.

// GenUTXO is a generated Bitcoin history.
type GenUTXO struct {
	// Blocks have inputs resolved (the truth).
	Blocks []Block
}

// Unresolved returns a copy of the blocks with every input's address and value cleared, as
// a raw-block adapter would deliver them.
func (g *GenUTXO) Unresolved() []Block {
	out := make([]Block, len(g.Blocks))
	for i := range g.Blocks {
		out[i] = CloneBlock(&g.Blocks[i])
		for t := range out[i].UTXOTxs {
			for j := range out[i].UTXOTxs[t].Inputs {
				in := &out[i].UTXOTxs[t].Inputs[j]
				in.Address, in.Value, in.Resolved = "", Amount{}, false
			}
		}
	}
	return out
}

// CloneBlock deep-copies b.
func CloneBlock(b *Block) Block {
	c := *b
	if b.UTXOTxs != nil {
		c.UTXOTxs = make([]UTXOTx, len(b.UTXOTxs))
		for i, tx := range b.UTXOTxs {
			c.UTXOTxs[i] = tx
			if tx.Inputs != nil {
				c.UTXOTxs[i].Inputs = append([]TxIn{}, tx.Inputs...)
			}
			if tx.Outputs != nil {
				c.UTXOTxs[i].Outputs = append([]TxOut{}, tx.Outputs...)
			}
		}
	}
	if b.AccountTxs != nil {
		c.AccountTxs = make([]AccountTx, len(b.AccountTxs))
		for i, tx := range b.AccountTxs {
			c.AccountTxs[i] = tx
			if tx.Transfers != nil {
				c.AccountTxs[i].Transfers = append([]Transfer{}, tx.Transfers...)
			}
		}
	}
	if b.Links != nil {
		c.Links = append([]LinkPart{}, b.Links...)
	}
	return c
}

func genHash(kind string, n uint64) string {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], n)
	h := sha256.Sum256(append([]byte(kind), buf[:]...))
	return hex.EncodeToString(h[:])
}

// genBitcoinAddresses returns n distinct mainnet P2WPKH addresses (bech32, 42 characters).
func genBitcoinAddresses(n int) []Address {
	out := make([]Address, n)
	for i := range out {
		h := sha256.Sum256([]byte(fmt.Sprintf("addr%d", i)))
		a, err := btcutil.NewAddressWitnessPubKeyHash(h[:20], &chaincfg.MainNetParams)
		if err != nil {
			panic(err) // a 20-byte hash is always valid
		}
		out[i] = Address(a.EncodeAddress())
	}
	return out
}

// pickAddress picks from the pool with a skew: 1 in 8 picks come from the 1% hot addresses
// (exchanges, services), the rest uniformly.
func pickAddress(r *rand.Rand, pool []Address) Address {
	if r.IntN(8) == 0 {
		return pool[r.IntN(max(1, len(pool)/100))]
	}
	return pool[r.IntN(len(pool))]
}

// GenerateUTXO builds a Bitcoin history of about nTx transactions (coinbases included),
// txPerBlock per block, from genesis (height 0), deterministic in seed.
func GenerateUTXO(seed uint64, nTx, txPerBlock int) *GenUTXO {
	r := rand.New(rand.NewPCG(seed, 0x5107e))
	pool := genBitcoinAddresses(max(64, nTx/4))
	type coin struct {
		op    Outpoint
		addr  Address
		value uint64
	}
	var utxos []coin
	g := &GenUTXO{}
	parent := ""
	txn := uint64(0)
	for height := uint64(0); int(txn) < nTx; height++ {
		b := Block{Chain: Bitcoin, Height: height, Hash: genHash("block", height), Parent: parent, Time: 1231006505 + int64(height)*600}
		// Coinbase.
		cb := UTXOTx{TxID: genHash("tx", txn), Index: 0, Coinbase: true,
			Outputs: []TxOut{{Address: pickAddress(r, pool), Value: NewAmount(50_0000_0000)}}}
		if height%7 == 0 { // a witness commitment style OP_RETURN now and then
			cb.Outputs = append(cb.Outputs, TxOut{Unspendable: true})
		}
		txn++
		b.UTXOTxs = append(b.UTXOTxs, cb)
		var created []coin
		for i := 1; i < txPerBlock && int(txn) < nTx && len(utxos) > 0; i++ {
			tx := UTXOTx{TxID: genHash("tx", txn), Index: uint32(i)}
			txn++
			nIn := 1 + r.IntN(3)
			var sum uint64
			for k := 0; k < nIn && len(utxos) > 0; k++ {
				j := r.IntN(len(utxos))
				c := utxos[j]
				utxos[j] = utxos[len(utxos)-1]
				utxos = utxos[:len(utxos)-1]
				tx.Inputs = append(tx.Inputs, TxIn{Prev: c.op, Address: c.addr, Value: NewAmount(c.value), Resolved: true})
				sum += c.value
			}
			fee := min(sum, uint64(200+r.IntN(5000)))
			rest := sum - fee
			nOut := 1 + r.IntN(3)
			for k := 0; k < nOut; k++ {
				v := rest
				if k < nOut-1 {
					v = rest / 2
					if rest > 0 {
						v = uint64(r.Int64N(int64(rest) + 1))
					}
				}
				rest -= v
				tx.Outputs = append(tx.Outputs, TxOut{Address: pickAddress(r, pool), Value: NewAmount(v)})
			}
			b.UTXOTxs = append(b.UTXOTxs, tx)
			for k, o := range tx.Outputs {
				c := coin{op: Outpoint{TxID: tx.TxID, Index: uint32(k)}, addr: o.Address, value: o.Value.Uint64()}
				if r.IntN(10) == 0 {
					utxos = append(utxos, c) // spendable later in this very block
				} else {
					created = append(created, c)
				}
			}
		}
		for k, o := range cb.Outputs {
			if !o.Unspendable {
				created = append(created, coin{op: Outpoint{TxID: cb.TxID, Index: uint32(k)}, addr: o.Address, value: o.Value.Uint64()})
			}
		}
		utxos = append(utxos, created...)
		g.Blocks = append(g.Blocks, b)
		parent = b.Hash
	}
	return g
}

// GenAccount is a generated Ethereum history.
type GenAccount struct {
	Blocks    []Block
	Transfers int // non-reverted transfers of successful transactions, mints included
}

// GenerateAccount builds an Ethereum history of about nTransfers transfers, txPerBlock
// transactions per block, deterministic in seed. Every block starts with a reward mint;
// two tokens are minted to random holders; senders never overdraw.
func GenerateAccount(seed uint64, nTransfers, txPerBlock int) *GenAccount {
	r := rand.New(rand.NewPCG(seed, 0xe7e))
	nAddr := max(64, nTransfers/4)
	pool := make([]Address, nAddr)
	for i := range pool {
		pool[i] = Address("0x" + genHash("eoa", uint64(i))[:40])
	}
	tokens := []Asset{Asset("0x" + genHash("token", 0)[:40]), Asset("0x" + genHash("token", 1)[:40])}
	type key struct {
		a     Address
		asset Asset
	}
	bal := map[key]uint64{}
	var funded []Address // addresses that ever received ETH
	g := &GenAccount{}
	parent := ""
	txn := uint64(0)
	for height := uint64(1); g.Transfers < nTransfers; height++ {
		hash := "0x" + genHash("eblock", height)
		b := Block{Chain: Ethereum, Height: height, Hash: hash, Parent: parent, Time: 1438269988 + int64(height)*12}
		miner := pickAddress(r, pool)
		mint := AccountTx{Hash: "0x" + genHash("etx", txn), Index: 0, From: ZeroAddress, To: miner, Success: true,
			Transfers: []Transfer{{Asset: ETH, From: ZeroAddress, To: miner, Amount: NewAmount(2_000_000_000_000_000_000), Kind: KindReward}}}
		mint.Transfers[0].ID = mint.Hash + ".reward"
		txn++
		b.AccountTxs = append(b.AccountTxs, mint)
		bal[key{miner, ETH}] += 2_000_000_000_000_000_000
		funded = append(funded, miner)
		g.Transfers++
		for i := 1; i < txPerBlock && g.Transfers < nTransfers; i++ {
			from := funded[r.IntN(len(funded))]
			eth := bal[key{from, ETH}]
			if eth < 1_000_000 {
				continue
			}
			tx := AccountTx{Hash: "0x" + genHash("etx", txn), Index: uint32(i), From: from, To: pickAddress(r, pool), Success: r.IntN(50) != 0}
			txn++
			fee := uint64(21000) * uint64(1+r.IntN(50)) * 1_000_000_000 % (eth / 4)
			tx.Fee = NewAmount(fee)
			eth -= fee
			bal[key{from, ETH}] = eth
			value := uint64(r.Int64N(int64(eth/2) + 1))
			tx.Transfers = append(tx.Transfers, Transfer{ID: tx.Hash + ".0", Asset: ETH, From: from, To: tx.To, Amount: NewAmount(value), Kind: KindCall})
			switch r.IntN(4) {
			case 0: // the callee forwards part of it
				fwd := value / 3
				tx.Transfers = append(tx.Transfers, Transfer{ID: tx.Hash + ".1", Asset: ETH, From: tx.To, To: pickAddress(r, pool), Amount: NewAmount(fwd), Kind: KindInternal, Reverted: r.IntN(10) == 0})
			case 1: // a token movement or mint
				tok := tokens[r.IntN(len(tokens))]
				have := bal[key{from, tok}]
				if have == 0 {
					tx.Transfers = append(tx.Transfers, Transfer{ID: tx.Hash + ".log0", Asset: tok, From: ZeroAddress, To: from, Amount: NewAmount(1_000_000_000), Kind: KindERC20})
				} else {
					tx.Transfers = append(tx.Transfers, Transfer{ID: tx.Hash + ".log0", Asset: tok, From: from, To: pickAddress(r, pool), Amount: NewAmount(uint64(r.Int64N(int64(have)) + 1)), Kind: KindERC20})
				}
			}
			if tx.Success {
				for _, t := range tx.Transfers {
					if t.Reverted {
						continue
					}
					bal[key{t.From, t.Asset}] -= t.Amount.Uint64()
					bal[key{t.To, t.Asset}] += t.Amount.Uint64()
					if t.Asset == ETH {
						funded = append(funded, t.To)
					}
					g.Transfers++
				}
			}
			b.AccountTxs = append(b.AccountTxs, tx)
		}
		g.Blocks = append(g.Blocks, b)
		parent = hash
	}
	return g
}
