package trace

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
)

// Method names. Poison, Haircut, FIFO and LIFO apply to both models; TIHO only to UTXO
// chains and Seniority only to account chains (spec §7, §8).
const (
	Poison    = "poison"
	Haircut   = "haircut"
	FIFO      = "fifo"
	LIFO      = "lifo"
	TIHO      = "tiho"
	Seniority = "seniority"
)

// Methods returns the methods of a model in the spec's order.
func Methods(m graph.Model) []string {
	if m == graph.UTXO {
		return []string{Poison, Haircut, FIFO, LIFO, TIHO}
	}
	return []string{Poison, Haircut, FIFO, LIFO, Seniority}
}

// Seed declares a tainted holding at hop 0 (spec §5). Exactly one of Address, Outpoint
// and Transfer is set.
//
//   - Address: on a UTXO chain every output paid to it is fully tainted; on an account
//     chain everything it sends is tainted (a source account), and what it receives is
//     absorbed into returned_to_seed.
//   - Outpoint (UTXO): that output is tainted for Amount units (all when Amount is nil),
//     tainted units first.
//   - Transfer (account): the first Amount units (all when nil) of that transfer are
//     tainted at the recipient.
type Seed struct {
	Address  graph.Address
	Outpoint *graph.Outpoint
	Transfer string
	Source   string
	Amount   *graph.Amount
	// Origin says where the seed comes from (an attribution's document and URL, or a
	// file and entry), so that every result can cite it. It does not affect the numbers.
	Origin string
	// Chain, in a multi-chain trace, is the chain the seed is on (as named in the trace's
	// chain list); "" on a one-chain trace.
	Chain graph.Chain
}

func (s Seed) String() string {
	switch {
	case s.Address != "":
		return fmt.Sprintf("address %s (source %s)", s.Address, s.Source)
	case s.Outpoint != nil:
		return fmt.Sprintf("outpoint %s (source %s)", s.Outpoint, s.Source)
	default:
		return fmt.Sprintf("transfer %s (source %s)", s.Transfer, s.Source)
	}
}

// Fraction is a non-negative rational p/q used for min_fraction.
type Fraction struct{ Num, Den graph.Amount }

// ParseFraction accepts "p/q", an integer, or a decimal such as "0.01".
func ParseFraction(s string) (Fraction, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok || r.Sign() < 0 {
		return Fraction{}, fmt.Errorf("%w: min_fraction %q is not a non-negative rational", ErrBadConfig, s)
	}
	var f Fraction
	if f.Num.SetFromBig(r.Num()) || f.Den.SetFromBig(r.Denom()) {
		return Fraction{}, fmt.Errorf("%w: min_fraction %q is out of range", ErrBadConfig, s)
	}
	return f, nil
}

func (f Fraction) String() string { return f.Num.Dec() + "/" + f.Den.Dec() }

// Params are the pruning and sink parameters of spec §9 and §10.
type Params struct {
	// MinTaint prunes, per output or transfer and per source, taint below this many
	// units (0 = off).
	MinTaint graph.Amount
	// MinFraction prunes, per output or transfer and per source, taint whose share of the
	// value is below this fraction (nil = off).
	MinFraction *Fraction
	// MaxHops prunes components whose hop would exceed it at arrival (nil = unlimited).
	MaxHops *uint32
	// StopAtExchanges makes exchanges terminal: taint arriving there is absorbed into
	// exchange_absorbed and the exchange's holdings stay clean. The spec's default is
	// true; use DefaultParams.
	StopAtExchanges bool
	// ImplicitBalances (account model) treats a debit larger than the known balance as
	// spending clean funds held before the analysis window, instead of failing. The spec
	// requires the failure (§8.1) and scenario files always use it; real-chain windows
	// that start mid-history need this. The shortfall is counted in Result.Stats.
	ImplicitBalances bool
	// TaintFee (UTXO model) makes fees flow to the miners instead of the fees sink, as
	// BlockSci's taint_fee=true does (spec §7.7, an option no vector covers): the block's
	// coinbase takes an untainted subsidy input and then every transaction's fee, in
	// transaction order, as inputs, one hop further, and its outputs are distributed by
	// the method. Fees of a block without a coinbase still go to the fees sink.
	TaintFee bool
	// Assets (account model), when not empty, are the only assets traced: transfers of
	// any other asset are skipped and counted in Result.Stats.SkippedTransfers. Any
	// contract can log ERC-20 transfers of any amount from any address, a sanctioned
	// one included, so a fake token can "send" taint to innocent addresses or claim
	// balances beyond 2^256 (ErrOverflow). A screening service lists the assets it
	// pays out and accepts (the chain's native asset for gas fees among them).
	Assets []graph.Asset
}

// DefaultParams returns the spec's defaults: no pruning, stop at exchanges.
func DefaultParams() Params { return Params{StopAtExchanges: true} }

// Config configures an Engine.
type Config struct {
	Model  graph.Model
	Method string
	Seeds  []Seed
	// Exchanges maps an exchange label (entity name) to its addresses.
	Exchanges map[string][]graph.Address
	Params    Params
	// SizeHint, when known, is about how many distinct addresses the replay will meet;
	// the engine sizes its address table for it up front instead of growing it step by
	// step. (The UTXO set is not sized by it: on real chains it stays far smaller than the
	// number of outputs created, and an oversized map only spreads it over more memory.)
	// It changes no result.
	SizeHint int
	// Venues are addresses that convert value instead of holding it (DEX pools and
	// routers, wrappers, bridges, THORChain routers and vaults; spec §15.1): a venue holds
	// no taint. Links carry the taint that goes into a venue onto what comes out.
	Venues []graph.Address
	// Links declare conversions through venues (spec §15): in-legs paid to a venue whose
	// out-legs are their proceeds, on any asset. On a one-chain trace every leg names no
	// chain; a multi-chain trace (NewMulti) takes them from its own list.
	Links []graph.Link
	// Chain is the chain's name in a multi-chain trace (NewMulti sets it); "" otherwise.
	Chain graph.Chain
	// OpeningBalances (account model), for a window that starts above the chain's first
	// block, gives each address's balance at the block before the window. The engine asks
	// for a holding's balance once, when taint first reaches it (poison, whose figures do
	// not depend on amounts, never asks), and adds what the window has not already covered
	// (Params.ImplicitBalances) as clean, oldest units: so an address that held 1,000 ETH
	// and received 1 tainted ETH sends 1/1,001 tainted, not all of it. A balance the source
	// cannot give (graph.ErrOpeningBalanceUnknown) is listed in
	// Result.UnknownOpeningBalances: that holding's figures overstate its taint.
	OpeningBalances graph.OpeningBalances
}

// Errors returned by the engine. Each is wrapped with the block, transaction and entry
// that caused it.
var (
	ErrBadConfig       = errors.New("bad trace configuration")
	ErrUnknownOutpoint = errors.New("input spends an unknown outpoint")
	ErrDoubleSpend     = errors.New("output already spent")
	ErrOverdraft       = errors.New("debit exceeds balance")
	ErrOverspend       = errors.New("outputs exceed inputs")
	ErrOutOfOrder      = errors.New("block out of chain order")
	ErrModel           = errors.New("block does not match the engine's model")
	ErrValueMismatch   = errors.New("input value differs from the spent output")
	ErrOverflow        = errors.New("a balance or total exceeds 256 bits")
)

// OverflowError is the error of a transaction during which a balance, a sum or a running
// total would have passed 2^256. It wraps ErrOverflow.
//
// Real chains never come near 2^256 units; a contract that logs token transfers can claim
// any amount. An OverflowError with a token Asset is the mark of such a contract: list the
// assets the trace should follow in Params.Assets, and its transfers are skipped.
type OverflowError struct {
	Height   uint64
	Tx       string
	What     string       // the sum that overflowed when it is the transaction's own ("input sum", "output sum"), else ""
	Transfer string       // account model: the transfer being applied
	Asset    graph.Asset  // account model: its asset
	Amount   graph.Amount // account model: its amount
}

func (e *OverflowError) Error() string {
	switch {
	case e.Transfer != "":
		return fmt.Sprintf("block %d tx %s transfer %s (%s %s): %v", e.Height, e.Tx, e.Transfer, e.Asset, e.Amount.Dec(), ErrOverflow)
	case e.What != "":
		return fmt.Sprintf("block %d tx %s: %s: %v", e.Height, e.Tx, e.What, ErrOverflow)
	}
	return fmt.Sprintf("block %d tx %s: %v", e.Height, e.Tx, ErrOverflow)
}

func (e *OverflowError) Unwrap() error { return ErrOverflow }

// FeeSink is the "to" of fee pseudo-transfers in results.
const FeeSink graph.Address = "<fee>"
