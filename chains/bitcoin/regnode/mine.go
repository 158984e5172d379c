package regnode

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/mining"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// Mine mines n blocks at the default times (Options), each with a coinbase paying the
// subsidy (and the fees) to coinbaseTo; the pending transactions go into the first. It
// returns the blocks' hashes.
func (n *Node) Mine(ctx context.Context, blocks int, coinbaseTo string) ([]string, error) {
	script, err := n.payScript(coinbaseTo)
	if err != nil {
		return nil, fmt.Errorf("%w: mine: coinbase: %w", ErrNode, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	hashes := make([]string, 0, blocks)
	for range blocks {
		h, err := n.mineBlock(ctx, time.Time{}, script)
		if err != nil {
			return hashes, err
		}
		hashes = append(hashes, h)
	}
	return hashes, nil
}

// MineTo mines blocks at the default times, coinbases to coinbaseTo, until the tip is at
// height (nothing when it is already there or above); the pending transactions go into
// the first. MineTo(ctx, SegwitHeight-1, addr) makes the next block the first that may
// spend segwit outputs.
func (n *Node) MineTo(ctx context.Context, height int32, coinbaseTo string) ([]string, error) {
	return n.Mine(ctx, max(0, int(height-n.Height())), coinbaseTo)
}

// MineTxs mines one block holding the pending transactions, in the order they were sent,
// with its coinbase to Options.Miner, at time at (the zero time: the default time). The
// time is kept to the second; it must be later than the median time of the previous 11
// blocks and at most two hours after the wall clock. It returns the block's hash.
func (n *Node) MineTxs(ctx context.Context, at time.Time) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mineBlock(ctx, at, n.miner)
}

// MineTxsTo is MineTxs with the coinbase paying to coinbaseTo.
func (n *Node) MineTxsTo(ctx context.Context, at time.Time, coinbaseTo string) (string, error) {
	script, err := n.payScript(coinbaseTo)
	if err != nil {
		return "", fmt.Errorf("%w: mine: coinbase: %w", ErrNode, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mineBlock(ctx, at, script)
}

// NextTime is the default time of the next block: block 1 at Options.FirstBlockTime,
// then the previous block's time plus Options.BlockInterval (or, if that is not after
// the median time of the previous 11 blocks, the second after it).
func (n *Node) NextTime() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.nextTime()
}

func (n *Node) nextTime() time.Time {
	best := n.chain.BestSnapshot()
	if best.Height == 0 {
		return n.first
	}
	if t := n.tipTime.Add(n.interval); t.After(best.MedianTime) {
		return t
	}
	return best.MedianTime.Add(time.Second)
}

// mineBlock builds, solves and connects one block with the pending transactions; n.mu is
// held. On a rejected block the pending transactions are dropped (the wallet state is
// rebuilt from the chain), so the next block starts clean.
func (n *Node) mineBlock(ctx context.Context, at time.Time, coinbaseScript []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if n.closed {
		return "", fmt.Errorf("%w: mine: node closed", ErrNode)
	}
	best := n.chain.BestSnapshot()
	height := best.Height + 1
	if at.IsZero() {
		at = n.nextTime()
	}
	at = time.Unix(at.Unix(), 0) // headers hold whole seconds
	if !at.After(best.MedianTime) {
		return "", fmt.Errorf("%w: block %d: time %s is not after the median time of the previous blocks, %s",
			ErrNode, height, at.UTC().Format(time.RFC3339), best.MedianTime.UTC().Format(time.RFC3339))
	}
	// btcd's limit (checkBlockHeaderSanity), checked here too so that a wrong time keeps
	// the pending transactions for another try.
	if limit := n.clock.AdjustedTime().Add(2 * time.Hour); at.After(limit) {
		return "", fmt.Errorf("%w: block %d: time %s is too far in the future (more than two hours after the clock, %s)",
			ErrNode, height, at.UTC().Format(time.RFC3339), limit.UTC().Format(time.RFC3339))
	}
	block, err := n.buildBlock(ctx, height, &best.Hash, at, coinbaseScript)
	if err != nil {
		return "", err
	}
	main, orphan, err := n.chain.ProcessBlock(block, blockchain.BFNone)
	if err == nil && (!main || orphan) {
		err = fmt.Errorf("not connected to the tip (main chain %v, orphan %v)", main, orphan)
	}
	if err != nil {
		dropped := len(n.wallet.pending)
		n.rebuildWallet()
		return "", fmt.Errorf("%w: block %d with %d pending transactions rejected (they are dropped): %w",
			ErrNode, height, dropped, err)
	}
	n.wallet.addBlock(block, height)
	n.wallet.pending = n.wallet.pending[:0]
	n.tipTime = at
	n.idxMu.Lock()
	for i, tx := range block.Transactions() {
		n.txIdx[*tx.Hash()] = txLoc{height: height, index: i}
		delete(n.pendingIdx, *tx.Hash())
	}
	n.idxMu.Unlock()
	return block.Hash().String(), nil
}

// buildBlock assembles and solves a block on prev: coinbase (height and extra nonce in
// its script, as btcd's miner writes it; subsidy plus fees), the pending transactions, a
// witness commitment when one of them has a witness, the version btcd's BIP 9 state asks
// for (so the block signals the deployments in progress) and the required bits.
func (n *Node) buildBlock(ctx context.Context, height int32, prev *chainhash.Hash, at time.Time, coinbaseScript []byte) (*btcutil.Block, error) {
	fees := int64(0)
	txs := make([]*btcutil.Tx, 1, 1+len(n.wallet.pending))
	witness := false
	for _, p := range n.wallet.pending {
		fees += p.fee
		txs = append(txs, p.tx)
		witness = witness || p.tx.MsgTx().HasWitness()
	}
	sigScript, err := txscript.NewScriptBuilder().AddInt64(int64(height)).AddInt64(0).Script()
	if err != nil {
		return nil, fmt.Errorf("%w: block %d: coinbase script: %w", ErrNode, height, err)
	}
	cb := wire.NewMsgTx(wire.TxVersion)
	cb.AddTxIn(&wire.TxIn{
		PreviousOutPoint: *wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex),
		SignatureScript:  sigScript,
		Sequence:         wire.MaxTxInSequenceNum,
	})
	cb.AddTxOut(wire.NewTxOut(blockchain.CalcBlockSubsidy(height, n.params)+fees, coinbaseScript))
	txs[0] = btcutil.NewTx(cb)
	if witness {
		mining.AddWitnessCommitment(txs[0], txs)
	}
	version, err := n.chain.CalcNextBlockVersion()
	if err != nil {
		return nil, fmt.Errorf("%w: block %d: version: %w", ErrNode, height, err)
	}
	bits, err := n.chain.CalcNextRequiredDifficulty(at)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d: difficulty: %w", ErrNode, height, err)
	}
	msg := &wire.MsgBlock{Header: wire.BlockHeader{
		Version:    version,
		PrevBlock:  *prev,
		MerkleRoot: blockchain.CalcMerkleRoot(txs, false),
		Timestamp:  at,
		Bits:       bits,
	}}
	for _, tx := range txs {
		msg.Transactions = append(msg.Transactions, tx.MsgTx())
	}
	if err := solve(ctx, &msg.Header); err != nil {
		return nil, fmt.Errorf("%w: block %d: %w", ErrNode, height, err)
	}
	b := btcutil.NewBlock(msg)
	b.SetHeight(height)
	return b, nil
}

// solve finds the smallest nonce whose header hash meets the header's target. Regtest's
// target is half the hash space, so this takes two tries on average.
func solve(ctx context.Context, h *wire.BlockHeader) error {
	target := blockchain.CompactToBig(h.Bits)
	for nonce := uint64(0); nonce <= math.MaxUint32; nonce++ {
		if nonce%(1<<16) == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		h.Nonce = uint32(nonce)
		hash := h.BlockHash()
		if blockchain.HashToBig(&hash).Cmp(target) <= 0 {
			return nil
		}
	}
	return fmt.Errorf("no nonce meets target %08x", h.Bits)
}

// rebuildWallet drops the pending transactions and recomputes the unspent outputs from
// the chain.
func (n *Node) rebuildWallet() {
	n.wallet = newWallet()
	n.idxMu.Lock()
	clear(n.pendingIdx)
	n.idxMu.Unlock()
	tip := n.chain.BestSnapshot().Height
	for h := int32(1); h <= tip; h++ {
		b, err := n.chain.BlockByHeight(h)
		if err != nil {
			continue // a block of the main chain is always stored
		}
		for _, tx := range b.Transactions() {
			n.wallet.addTx(tx, h)
		}
	}
}
