package bitcoin

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/graph"
)

func decodeError(height uint64, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: block at height %d: %v", ErrTruncated, height, err)
	}
	return fmt.Errorf("%w: block at height %d: %v", ErrBadBlock, height, err)
}

// NormalizeBlock is DecodeBlock for a block already decoded by btcd's wire package.
func NormalizeBlock(msg *wire.MsgBlock, height uint64, net *chaincfg.Params) (*graph.Block, error) {
	b, _, err := NormalizeBlockWarnings(msg, height, net)
	return b, err
}

// NormalizeBlockWarnings is NormalizeBlock that also returns the warnings of its THORChain
// detection (see Warning).
func NormalizeBlockWarnings(msg *wire.MsgBlock, height uint64, net *chaincfg.Params) (*graph.Block, []Warning, error) {
	txids := make([]chainhash.Hash, len(msg.Transactions))
	for i, tx := range msg.Transactions {
		txids[i] = tx.TxHash()
	}
	b, err := normalizeTxs(msg, txids, height, net, true)
	if err != nil {
		return nil, nil, err
	}
	return b, DetectThorchain(b, thorchainMemos(msg), nil), nil
}

// thorchainMemos reads the THORChain memos of a block's transactions.
func thorchainMemos(msg *wire.MsgBlock) []TxMemo {
	var memos []TxMemo
	var r memoReader
	for i, tx := range msg.Transactions {
		r.reset()
		for j, out := range tx.TxOut {
			r.add(j, out.PkScript)
		}
		if m, ok := r.memo(i); ok {
			memos = append(memos, m)
		}
	}
	return memos
}

// normalizeTxs normalizes a block; firstIsCoinbase says whether transaction 0 must be a
// coinbase (false only for DecodeTx of a plain transaction).
func normalizeTxs(msg *wire.MsgBlock, txids []chainhash.Hash, height uint64, net *chaincfg.Params, firstIsCoinbase bool) (*graph.Block, error) {
	hash := msg.Header.BlockHash()
	if len(msg.Transactions) == 0 {
		return nil, fmt.Errorf("%w: block %s at height %d has no transactions", ErrBadBlock, hash, height)
	}
	if root := merkleRoot(txids); root != msg.Header.MerkleRoot {
		return nil, fmt.Errorf("%w: block %s at height %d: merkle root %s does not match its transactions (%s)",
			ErrBadBlock, hash, height, msg.Header.MerkleRoot, root)
	}
	b := &graph.Block{
		Chain:   graph.Bitcoin,
		Height:  height,
		Hash:    hash.String(),
		Parent:  msg.Header.PrevBlock.String(),
		Time:    msg.Header.Timestamp.Unix(),
		UTXOTxs: make([]graph.UTXOTx, len(msg.Transactions)),
	}
	if height == 0 {
		b.Parent = "" // the genesis block has no parent; its PrevBlock is all zeros
	}
	// One backing array for all inputs and one for all outputs of the block: two
	// allocations instead of two per transaction.
	nIn, nOut := 0, 0
	for _, tx := range msg.Transactions {
		nIn += len(tx.TxIn)
		nOut += len(tx.TxOut)
	}
	ins := make([]graph.TxIn, 0, nIn)
	outs := make([]graph.TxOut, 0, nOut)
	for i, tx := range msg.Transactions {
		t := &b.UTXOTxs[i]
		t.TxID = txids[i].String()
		t.Index = uint32(i)
		if i == 0 && firstIsCoinbase {
			if !isCoinbase(tx) {
				return nil, fmt.Errorf("%w: block %s: first transaction %s is not a coinbase", ErrBadBlock, hash, t.TxID)
			}
			t.Coinbase = true
		} else {
			start := len(ins)
			for j, in := range tx.TxIn {
				if in.PreviousOutPoint.Index == wire.MaxPrevOutIndex && in.PreviousOutPoint.Hash == (chainhash.Hash{}) {
					return nil, fmt.Errorf("%w: block %s: tx %s input %d spends the null outpoint outside the coinbase",
						ErrBadBlock, hash, t.TxID, j)
				}
				ins = append(ins, graph.TxIn{Prev: graph.Outpoint{
					TxID:  in.PreviousOutPoint.Hash.String(),
					Index: in.PreviousOutPoint.Index,
				}})
			}
			t.Inputs = ins[start:len(ins):len(ins)]
		}
		start := len(outs)
		for j, out := range tx.TxOut {
			if out.Value < 0 || out.Value > btcutil.MaxSatoshi {
				return nil, fmt.Errorf("%w: block %s: tx %s output %d has value %d outside 0..%d satoshi",
					ErrBadBlock, hash, t.TxID, j, out.Value, int64(btcutil.MaxSatoshi))
			}
			addr, _, unspendable := ScriptAddress(out.PkScript, net)
			outs = append(outs, graph.TxOut{Address: addr, Value: graph.NewAmount(uint64(out.Value)), Unspendable: unspendable})
		}
		t.Outputs = outs[start:len(outs):len(outs)]
	}
	return b, nil
}

func isCoinbase(tx *wire.MsgTx) bool {
	return len(tx.TxIn) == 1 && tx.TxIn[0].PreviousOutPoint.Index == wire.MaxPrevOutIndex &&
		tx.TxIn[0].PreviousOutPoint.Hash == chainhash.Hash{}
}

// merkleRoot computes the Bitcoin merkle root of txids (the last hash of an odd level is
// paired with itself).
func merkleRoot(txids []chainhash.Hash) chainhash.Hash {
	if len(txids) == 1 {
		return txids[0]
	}
	level := make([]chainhash.Hash, len(txids))
	copy(level, txids)
	var pair [64]byte
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			j := i + 1
			if j == len(level) {
				j = i
			}
			copy(pair[:32], level[i][:])
			copy(pair[32:], level[j][:])
			next = append(next, chainhash.DoubleHashH(pair[:]))
		}
		level = next
	}
	return level[0]
}

// DecodeTx decodes one serialized transaction (e.g. from getrawtransaction) into a
// graph.UTXOTx with index 0; a coinbase is recognized by its null outpoint.
func DecodeTx(raw []byte, net *chaincfg.Params) (graph.UTXOTx, error) {
	var tx wire.MsgTx
	r := bytes.NewReader(raw)
	if err := tx.Deserialize(r); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return graph.UTXOTx{}, fmt.Errorf("%w: transaction: %v", ErrTruncated, err)
		}
		return graph.UTXOTx{}, fmt.Errorf("%w: transaction: %v", ErrBadBlock, err)
	}
	if r.Len() != 0 {
		return graph.UTXOTx{}, fmt.Errorf("%w: transaction %s: %d trailing bytes", ErrBadBlock, tx.TxHash(), r.Len())
	}
	// Normalize it as the only transaction of a block with a matching merkle root.
	msg := wire.MsgBlock{Transactions: []*wire.MsgTx{&tx}}
	txid := tx.TxHash()
	msg.Header.MerkleRoot = txid
	b, err := normalizeTxs(&msg, []chainhash.Hash{txid}, 0, net, isCoinbase(&tx))
	if err != nil {
		return graph.UTXOTx{}, err
	}
	return b.UTXOTxs[0], nil
}
