package regnode

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Key is a private key derived from a string, with its regtest P2PKH and P2WPKH
// addresses. The same string gives the same key in every run.
type Key struct {
	Name   string
	priv   *btcec.PrivateKey
	p2pkh  *btcutil.AddressPubKeyHash
	p2wpkh *btcutil.AddressWitnessPubKeyHash
	// scripts of the two addresses
	p2pkhScript, p2wpkhScript []byte
}

// NewKey derives a key from name: the private key is the double SHA-256 of
// "chaintrace regnode key " + name.
func NewKey(name string) *Key {
	seed := chainhash.DoubleHashB([]byte("chaintrace regnode key " + name))
	priv, pub := btcec.PrivKeyFromBytes(seed)
	h := btcutil.Hash160(pub.SerializeCompressed())
	k := &Key{Name: name, priv: priv}
	var err error
	// Both constructors fail only for a hash that is not 20 bytes.
	if k.p2pkh, err = btcutil.NewAddressPubKeyHash(h, &chaincfg.RegressionNetParams); err != nil {
		panic(err)
	}
	if k.p2wpkh, err = btcutil.NewAddressWitnessPubKeyHash(h, &chaincfg.RegressionNetParams); err != nil {
		panic(err)
	}
	k.p2pkhScript, _ = payToAddrScript(k.p2pkh)
	k.p2wpkhScript, _ = payToAddrScript(k.p2wpkh)
	return k
}

// P2PKH is the key's legacy address (m… or n… on regtest).
func (k *Key) P2PKH() string { return k.p2pkh.EncodeAddress() }

// P2WPKH is the key's native segwit address (bcrt1q…).
func (k *Key) P2WPKH() string { return k.p2wpkh.EncodeAddress() }

// owns reports whether script pays to one of the key's addresses, and whether it is the
// segwit one.
func (k *Key) owns(script []byte) (owned, segwit bool) {
	switch {
	case bytes.Equal(script, k.p2wpkhScript):
		return true, true
	case bytes.Equal(script, k.p2pkhScript):
		return true, false
	}
	return false, false
}

func payToAddrScript(a btcutil.Address) ([]byte, error) { return txscript.PayToAddrScript(a) }

// Payment is one output of a Send: Value satoshi to the address To, or, with Memo set
// (and To empty), an OP_RETURN output carrying Memo (at most 80 bytes, the standard
// relay limit) with Value satoshi, usually 0 (they are burnt).
type Payment struct {
	To    string
	Value int64
	Memo  []byte
}

// coin is an unspent output of the chain.
type coin struct {
	op       wire.OutPoint
	out      wire.TxOut
	height   int32 // block height; for a pending transaction's output, the next block's
	coinbase bool
	seq      uint64 // creation order: Send spends oldest first
}

// pendingTx is a transaction waiting for the next block, with its fee.
type pendingTx struct {
	tx  *btcutil.Tx
	fee int64
}

// wallet is the chain's unspent outputs and the pending transactions.
type wallet struct {
	utxos   map[wire.OutPoint]*coin // confirmed and pending, minus what pending spends
	pending []pendingTx
	seq     uint64
}

func newWallet() wallet { return wallet{utxos: map[wire.OutPoint]*coin{}} }

// addTx spends tx's inputs and adds its outputs at height.
func (w *wallet) addTx(tx *btcutil.Tx, height int32) {
	msg := tx.MsgTx()
	cb := blockchain.IsCoinBaseTx(msg)
	if !cb {
		for _, in := range msg.TxIn {
			delete(w.utxos, in.PreviousOutPoint)
		}
	}
	for i, o := range msg.TxOut {
		if txscript.IsUnspendable(o.PkScript) {
			continue
		}
		w.seq++
		op := wire.OutPoint{Hash: *tx.Hash(), Index: uint32(i)}
		w.utxos[op] = &coin{op: op, out: *o, height: height, coinbase: cb, seq: w.seq}
	}
}

// addBlock applies a connected block's coinbase (the other transactions were applied
// when they were sent).
func (w *wallet) addBlock(b *btcutil.Block, height int32) {
	w.addTx(b.Transactions()[0], height)
}

// Balance is what key can spend in the next block, in satoshi: its outputs, pending ones
// included, without immature coinbases and, before SegwitHeight, its P2WPKH outputs.
func (n *Node) Balance(k *Key) (int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	coins, _, err := n.spendable(k)
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, c := range coins {
		sum += c.out.Value
	}
	return sum, nil
}

// spendable lists k's coins the next block may spend, oldest first, and says what it
// left out and why.
func (n *Node) spendable(k *Key) ([]*coin, string, error) {
	segwit, err := n.chain.IsDeploymentActive(chaincfg.DeploymentSegwit)
	if err != nil {
		return nil, "", fmt.Errorf("%w: segwit state: %w", ErrNode, err)
	}
	next := n.chain.BestSnapshot().Height + 1
	var out []*coin
	var immature, noSegwit int64
	for _, c := range n.wallet.utxos {
		owned, isSegwit := k.owns(c.out.PkScript)
		switch {
		case !owned:
		case c.coinbase && next-c.height < int32(n.params.CoinbaseMaturity):
			immature += c.out.Value
		case isSegwit && !segwit:
			noSegwit += c.out.Value
		default:
			out = append(out, c)
		}
	}
	// Oldest first: by block, a block's coinbase first, then in creation order (the
	// same order whether the wallet saw a transaction sent or rebuilt it from the chain).
	slices.SortFunc(out, func(a, b *coin) int {
		if c := cmp.Compare(a.height, b.height); c != 0 {
			return c
		}
		if a.coinbase != b.coinbase {
			if a.coinbase {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.seq, b.seq)
	})
	var why string
	if immature > 0 {
		why += fmt.Sprintf("; %d sat in coinbases younger than %d blocks", immature, n.params.CoinbaseMaturity)
	}
	if noSegwit > 0 {
		why += fmt.Sprintf("; %d sat on its P2WPKH address, spendable from height %d (segwit), the next block is %d", noSegwit, SegwitHeight, next)
	}
	return out, why, nil
}

// Send pays the payments from key's outputs with fee satoshi: it spends the key's
// spendable outputs oldest first until they cover the payments and the fee, adds the
// rest as change to the key's P2PKH address (after the payments; none when nothing is
// left), signs every input (P2PKH or P2WPKH), checks it with btcd's script engine and
// queues the transaction for the next mined block. It returns the txid.
func (n *Node) Send(ctx context.Context, from *Key, pays []Payment, fee int64) (string, error) {
	return n.send(ctx, from, pays, fee, from.P2PKH())
}

// SendWithChange is Send with the change going to changeTo.
func (n *Node) SendWithChange(ctx context.Context, from *Key, pays []Payment, fee int64, changeTo string) (string, error) {
	return n.send(ctx, from, pays, fee, changeTo)
}

func (n *Node) send(ctx context.Context, from *Key, pays []Payment, fee int64, changeTo string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if len(pays) == 0 {
		return "", fmt.Errorf("%w: send from %s: no payments", ErrNode, from.Name)
	}
	if fee < 0 {
		return "", fmt.Errorf("%w: send from %s: negative fee %d", ErrNode, from.Name, fee)
	}
	tx := wire.NewMsgTx(2)
	total := fee
	for i, p := range pays {
		script, err := n.paymentScript(p)
		if err != nil {
			return "", fmt.Errorf("%w: send from %s: payment %d: %w", ErrNode, from.Name, i, err)
		}
		if p.Value < 0 || p.Value > btcutil.MaxSatoshi {
			return "", fmt.Errorf("%w: send from %s: payment %d: value %d out of range", ErrNode, from.Name, i, p.Value)
		}
		total += p.Value
		tx.AddTxOut(wire.NewTxOut(p.Value, script))
	}
	changeScript, err := n.payScript(changeTo)
	if err != nil {
		return "", fmt.Errorf("%w: send from %s: change: %w", ErrNode, from.Name, err)
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return "", fmt.Errorf("%w: send from %s: node closed", ErrNode, from.Name)
	}
	coins, why, err := n.spendable(from)
	if err != nil {
		return "", err
	}
	var in int64
	var used []*coin
	for _, c := range coins {
		if in >= total {
			break
		}
		used = append(used, c)
		in += c.out.Value
	}
	if in < total {
		return "", fmt.Errorf("%w: send from %s: needs %d sat (payments and fee), has %d spendable%s",
			ErrNode, from.Name, total, in, why)
	}
	if change := in - total; change > 0 {
		tx.AddTxOut(wire.NewTxOut(change, changeScript))
	}
	prev := txscript.NewMultiPrevOutFetcher(nil)
	for _, c := range used {
		tx.AddTxIn(wire.NewTxIn(&c.op, nil, nil))
		prev.AddPrevOut(c.op, &c.out)
	}
	hashes := txscript.NewTxSigHashes(tx, prev)
	for i, c := range used {
		if _, segwit := from.owns(c.out.PkScript); segwit {
			w, err := txscript.WitnessSignature(tx, hashes, i, c.out.Value, c.out.PkScript, txscript.SigHashAll, from.priv, true)
			if err != nil {
				return "", fmt.Errorf("%w: send from %s: sign input %d: %w", ErrNode, from.Name, i, err)
			}
			tx.TxIn[i].Witness = w
		} else {
			sig, err := txscript.SignatureScript(tx, i, c.out.PkScript, txscript.SigHashAll, from.priv, true)
			if err != nil {
				return "", fmt.Errorf("%w: send from %s: sign input %d: %w", ErrNode, from.Name, i, err)
			}
			tx.TxIn[i].SignatureScript = sig
		}
	}
	// The block's validation would find a bad signature too, but only at mining time and
	// without saying which Send made it.
	for i, c := range used {
		vm, err := txscript.NewEngine(c.out.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, c.out.Value, prev)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return "", fmt.Errorf("%w: send from %s: input %d (%s) does not verify: %w", ErrNode, from.Name, i, c.op, err)
		}
	}
	utx := btcutil.NewTx(tx)
	if err := blockchain.CheckTransactionSanity(utx); err != nil {
		return "", fmt.Errorf("%w: send from %s: %w", ErrNode, from.Name, err)
	}
	n.wallet.pending = append(n.wallet.pending, pendingTx{tx: utx, fee: fee})
	n.wallet.addTx(utx, n.chain.BestSnapshot().Height+1)
	n.idxMu.Lock()
	n.pendingIdx[*utx.Hash()] = utx
	n.idxMu.Unlock()
	return utx.Hash().String(), nil
}

// paymentScript is a payment's output script: to an address, or OP_RETURN with a memo.
func (n *Node) paymentScript(p Payment) ([]byte, error) {
	switch {
	case p.Memo != nil && p.To != "":
		return nil, fmt.Errorf("both an address (%s) and a memo: an OP_RETURN output has no address", p.To)
	case p.Memo != nil:
		s, err := txscript.NullDataScript(p.Memo)
		if err != nil {
			return nil, fmt.Errorf("memo of %d bytes: %w", len(p.Memo), err)
		}
		return s, nil
	case p.To == "":
		return nil, fmt.Errorf("no address and no memo")
	}
	return n.payScript(p.To)
}

// Pending is the number of transactions waiting for the next block.
func (n *Node) Pending() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.wallet.pending)
}
