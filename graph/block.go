package graph

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Block is one block of one chain in normalized form: what the chain adapters produce, the
// store persists and the taint engine replays. Exactly one of UTXOTxs (Bitcoin) and
// AccountTxs (Ethereum) is used, according to Chain.Model.
type Block struct {
	Chain  Chain
	Height uint64
	Hash   string // canonical hex: Bitcoin without 0x (display byte order), Ethereum 0x-prefixed lower case
	Parent string // the parent block's Hash; empty when unknown (scenario files)
	Time   int64  // block time, Unix seconds; 0 when unknown

	UTXOTxs    []UTXOTx
	AccountTxs []AccountTx

	// Links are the parts of links (swaps, wraps, bridges, THORChain) that the adapter's
	// detectors found in this block, with their evidence; nil when none.
	Links []LinkPart
}

// TxCount is the number of transactions in the block.
func (b *Block) TxCount() int { return len(b.UTXOTxs) + len(b.AccountTxs) }

// Outpoint names one output of a UTXO transaction.
type Outpoint struct {
	TxID  string
	Index uint32
}

// String formats the outpoint as "txid:index", the form used in scenario files and results.
func (o Outpoint) String() string { return o.TxID + ":" + strconv.FormatUint(uint64(o.Index), 10) }

// ErrBadOutpoint is wrapped by ParseOutpoint errors.
var ErrBadOutpoint = errors.New("malformed outpoint")

// ParseOutpoint parses "txid:index".
func ParseOutpoint(s string) (Outpoint, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return Outpoint{}, fmt.Errorf("%w: %q is not txid:index", ErrBadOutpoint, s)
	}
	n, err := strconv.ParseUint(s[i+1:], 10, 32)
	if err != nil {
		return Outpoint{}, fmt.Errorf("%w: %q has a bad output index", ErrBadOutpoint, s)
	}
	return Outpoint{TxID: s[:i], Index: uint32(n)}, nil
}

// UTXOTx is a Bitcoin-style transaction.
type UTXOTx struct {
	TxID     string
	Index    uint32 // position in the block
	Coinbase bool   // a coinbase has no Inputs; its outputs are new money
	Inputs   []TxIn
	Outputs  []TxOut
}

// TxIn spends an earlier output. Address and Value describe the spent output; adapters that
// cannot see it (raw blocks) leave Resolved false and the store fills them in on write.
type TxIn struct {
	Prev     Outpoint
	Address  Address
	Value    Amount
	Resolved bool
}

// TxOut is an output created by a transaction.
type TxOut struct {
	Address Address
	Value   Amount
	// Unspendable marks provably unspendable outputs (OP_RETURN). Their value, usually 0,
	// never moves again.
	Unspendable bool
}

// ErrOverspend is returned by Fee when outputs exceed inputs.
var ErrOverspend = errors.New("outputs exceed inputs")

// ErrUnresolved is returned when an input's spent output is not known.
var ErrUnresolved = errors.New("unresolved input")

// Fee returns Σ inputs − Σ outputs. A coinbase has no fee.
func (tx *UTXOTx) Fee() (Amount, error) {
	var in, out Amount
	if tx.Coinbase {
		return in, nil
	}
	for i := range tx.Inputs {
		if !tx.Inputs[i].Resolved {
			return in, fmt.Errorf("tx %s input %d (%s): %w", tx.TxID, i, tx.Inputs[i].Prev, ErrUnresolved)
		}
		if _, o := in.AddOverflow(&in, &tx.Inputs[i].Value); o {
			return in, fmt.Errorf("tx %s: input sum overflows", tx.TxID)
		}
	}
	for i := range tx.Outputs {
		if _, o := out.AddOverflow(&out, &tx.Outputs[i].Value); o {
			return in, fmt.Errorf("tx %s: output sum overflows", tx.TxID)
		}
	}
	if out.Gt(&in) {
		return in, fmt.Errorf("tx %s: %w (in %s, out %s)", tx.TxID, ErrOverspend, in.Dec(), out.Dec())
	}
	var fee Amount
	fee.Sub(&in, &out)
	return fee, nil
}

// AccountTx is an Ethereum-style transaction.
type AccountTx struct {
	Hash    string
	Index   uint32 // position in the block
	From    Address
	To      Address // empty for contract creation
	Fee     Amount  // gas used × effective gas price (+ blob gas); charged to From before the transfers
	Success bool    // receipt status; a failed transaction moves nothing but its fee
	// Transfers in execution order: call value, internal transfers (pre-order of the call
	// tree), ERC-20 Transfer logs by log index, mints. Reverted frames are kept with
	// Reverted set, so the record is complete, and skipped by the engine.
	Transfers []Transfer
}

// FeeTransferID is the reference of a transaction's fee pseudo-transfer ("<tx>#fee").
func (tx *AccountTx) FeeTransferID() string { return tx.Hash + "#fee" }

// TransferKind says where a transfer comes from.
type TransferKind string

// Transfer kinds.
const (
	KindCall         TransferKind = "call"         // top-level call value
	KindInternal     TransferKind = "internal"     // value of an internal CALL frame
	KindCreate       TransferKind = "create"       // value of a CREATE/CREATE2
	KindSelfDestruct TransferKind = "selfdestruct" // balance sent by SELFDESTRUCT
	KindERC20        TransferKind = "erc20"        // ERC-20 Transfer log
	KindReward       TransferKind = "reward"       // block reward: a mint
	KindWithdrawal   TransferKind = "withdrawal"   // beacon-chain withdrawal: a mint
	// KindWrap and KindUnwrap are the wrapped-token movements a wrapper (WETH9) makes
	// without logging a Transfer: on a wrap the wrapper mints the token to itself and pays
	// it to the depositor; on an unwrap the holder pays it back and the wrapper burns it.
	// Adapters add them from the wrapper's Deposit and Withdrawal events.
	KindWrap   TransferKind = "wrap"
	KindUnwrap TransferKind = "unwrap"
)

// IsMint reports whether a transfer of this kind creates new units.
func (k TransferKind) IsMint() bool { return k == KindReward || k == KindWithdrawal }

// Transfer is one movement of one asset inside an AccountTx.
type Transfer struct {
	ID       string // unique reference, e.g. "<tx>.0", "<tx>.log3"
	Asset    Asset
	From     Address // ZeroAddress for mints
	To       Address // ZeroAddress for burns
	Amount   Amount
	Kind     TransferKind
	Reverted bool // inside a reverted frame of a successful transaction: moves nothing
}

// Position orders every movement on one chain: block height, transaction index, and the
// sequence inside the transaction (-1 for an account transaction's fee, then 0, 1, …).
type Position struct {
	Height  uint64
	TxIndex uint32
	Seq     int32
}

// Less reports whether p comes before q.
func (p Position) Less(q Position) bool {
	if p.Height != q.Height {
		return p.Height < q.Height
	}
	if p.TxIndex != q.TxIndex {
		return p.TxIndex < q.TxIndex
	}
	return p.Seq < q.Seq
}

func (p Position) String() string {
	return fmt.Sprintf("%d/%d/%d", p.Height, p.TxIndex, p.Seq)
}
