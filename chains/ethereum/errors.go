package ethereum

import (
	"errors"
	"fmt"
)

// Errors wrapped by decoding and fetching. Inspect them with errors.Is.
var (
	// ErrMalformed: a node response is not valid JSON of the expected shape, or a field is
	// not a valid hash, address or quantity.
	ErrMalformed = errors.New("malformed node response")
	// ErrInconsistent: the block, its receipts and its traces disagree (counts, hashes,
	// indexes, status versus trace error).
	ErrInconsistent = errors.New("inconsistent node responses")
	// ErrBlockNotFound: the node does not have the block (yet).
	ErrBlockNotFound = errors.New("block not found")
	// ErrOverflow: a fee does not fit in 256 bits.
	ErrOverflow = errors.New("amount overflows 256 bits")
	// ErrNoTraceAPI is returned instead of a warning when Options.RequireTraces is set and the
	// node has no debug_traceBlockByNumber.
	ErrNoTraceAPI = errors.New("node has no debug_traceBlockByNumber (debug API disabled)")
)

// Warnings: conditions under which the normalized block is correct as far as it goes but
// not complete. They are never dropped silently: every Warning wraps one of these.
var (
	// ErrNoTraces: no call traces for the block, so internal ETH transfers (contract
	// calls, CREATE, SELFDESTRUCT) are missing and only top-level values and ERC-20 logs
	// are visible. Balances of contracts are then under-reported.
	ErrNoTraces = errors.New("no call traces: internal ETH transfers are missing, only top-level transfers are visible")
	// ErrTraceFailed: the node could not trace one transaction; its internal transfers are
	// missing.
	ErrTraceFailed = errors.New("call trace of a transaction failed: its internal transfers are missing")
	// ErrStatusUnknown: a pre-Byzantium receipt has no status and no trace tells whether the
	// transaction failed; it is assumed to have succeeded.
	ErrStatusUnknown = errors.New("receipt has no status (pre-Byzantium) and no trace: assumed successful")
	// ErrRewardsOmitted: a proof-of-work block's miner and uncle rewards are not emitted as
	// mints (JSON-RPC does not report them).
	ErrRewardsOmitted = errors.New("proof-of-work block: miner and uncle rewards are not emitted")
	// ErrLinkEvent: a log with the signature of an event a link detector reads (WETH9
	// Deposit/Withdrawal, Uniswap V2/V3 Swap, THORChain router Deposit/TransferOut) is
	// malformed, or its THORChain memo does not parse (then thorchain.ErrMemo too): no link.
	ErrLinkEvent = errors.New("malformed link event: no link")
	// ErrLinkUnmatched: a link event whose movements are not in its transaction (any
	// contract can emit the event), or that cannot make a valid link: no link.
	ErrLinkUnmatched = errors.New("link event without the movements it states: no link")
)

// Warning says that one block (or one transaction of it) was normalized incompletely.
// errors.Is(w, ErrNoTraces) etc. tells which condition it is.
type Warning struct {
	Height uint64
	Tx     string // empty when the whole block is concerned
	Err    error
}

func (w Warning) Error() string {
	if w.Tx != "" {
		return fmt.Sprintf("block %d tx %s: %v", w.Height, w.Tx, w.Err)
	}
	return fmt.Sprintf("block %d: %v", w.Height, w.Err)
}

func (w Warning) Unwrap() error { return w.Err }
