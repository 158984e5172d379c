package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/holiman/uint256"
)

// Opening balances: an account-model trace that starts above the first block does not see
// what an address held before the window. Without it the engine can only cover a debit
// above the known balance with clean funds (trace.Params.ImplicitBalances), which is right
// for poison but overstates a haircut share: an address that held 1,000 ETH, received 1
// tainted ETH and sent 1 ETH sent 1/1,001 of taint, not all of it. An OpeningBalances gives
// each (address, asset) balance at the block before the window, so the engine can start
// each holding with its clean opening balance.

// OpeningBalances gives, for one chain and one window, an address's balance of an asset
// at the end of the block before the window: what it held before the first replayed
// transaction. The trace engine asks for each (address, asset) it needs, once, when it
// first meets the holding; implementations fetch lazily and cache.
//
// An implementation that cannot tell (a node without the historical state) returns an
// error wrapping ErrOpeningBalanceUnknown (an *OpeningBalanceError names the address,
// asset and block): the caller then goes on without it and reports that address's figures
// as resting on an unknown opening balance (they overstate taint). Other errors (context
// cancelled, the node unreachable after retries) stop the trace.
type OpeningBalances interface {
	OpeningBalance(ctx context.Context, addr Address, asset Asset) (*uint256.Int, error)
}

// BalanceFetcher reads an address's balance of an asset at the end of a block from a
// chain's node (chains/ethereum.Client implements it: eth_getBalance, ERC-20 balanceOf
// through eth_call).
type BalanceFetcher interface {
	BalanceAt(ctx context.Context, addr Address, asset Asset, block uint64) (*uint256.Int, error)
}

// ErrOpeningBalanceUnknown: the node cannot give a balance at the block before the window
// (pruned state: geth answers "missing trie node" or "historical state … is not
// available" for blocks outside its recent state unless it is an archive node).
var ErrOpeningBalanceUnknown = errors.New("opening balance unknown")

// OpeningBalanceError says which opening balance could not be had and why. It wraps
// ErrOpeningBalanceUnknown and the node's error.
type OpeningBalanceError struct {
	Address Address
	Asset   Asset
	Block   uint64 // the block whose end state was asked for
	Err     error  // the node's answer
}

func (e *OpeningBalanceError) Error() string {
	return fmt.Sprintf("%v: %s of %s at block %d: %v", ErrOpeningBalanceUnknown, e.Asset, e.Address, e.Block, e.Err)
}

// Unwrap gives both the sentinel and the node's error to errors.Is/As.
func (e *OpeningBalanceError) Unwrap() []error { return []error{ErrOpeningBalanceUnknown, e.Err} }

// FetchOpeningBalances is an OpeningBalances that asks f for every balance at block, with
// no cache (see Store.OpeningBalances for the cached one).
func FetchOpeningBalances(f BalanceFetcher, block uint64) OpeningBalances {
	return fetchOpening{f, block}
}

type fetchOpening struct {
	f     BalanceFetcher
	block uint64
}

func (o fetchOpening) OpeningBalance(ctx context.Context, addr Address, asset Asset) (*uint256.Int, error) {
	return o.f.BalanceAt(ctx, addr, asset, o.block)
}
