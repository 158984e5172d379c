package ethereum

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/holiman/uint256"
)

// Opening balances (see graph.OpeningBalances): what an address held of an asset at the
// end of the block before a window, read from the node's state at that block. A full node
// keeps only recent state (geth: the last 128 blocks, or its state history); older blocks
// need an archive node. A node without the state is a *graph.OpeningBalanceError wrapping
// graph.ErrOpeningBalanceUnknown, never a zero balance.

// balanceOfSelector is the ERC-20 balanceOf(address) selector: keccak256("balanceOf(address)")[:4].
const balanceOfSelector = "70a08231"

// BalanceAt returns addr's balance of asset at the end of block: eth_getBalance for ETH,
// balanceOf(addr) through eth_call for an ERC-20 token (the asset is the token contract's
// address). It makes Client a graph.BalanceFetcher.
func (c *Client) BalanceAt(ctx context.Context, addr graph.Address, asset graph.Asset, block uint64) (*uint256.Int, error) {
	a, err := graph.ParseAddress(graph.Ethereum, string(addr))
	if err != nil {
		return nil, fmt.Errorf("ethereum: balance: %w", err)
	}
	if asset == graph.ETH {
		var bal hexutil.Big
		err := c.retry(ctx, "eth_getBalance", func() error {
			c.calls.Add(1)
			c.requests.Add(1)
			return c.rpc.CallContext(ctx, &bal, "eth_getBalance", string(a), hexutil.Uint64(block))
		})
		if err != nil {
			return nil, balanceErr(a, asset, block, "eth_getBalance", err)
		}
		v, overflow := uint256.FromBig(bal.ToInt())
		if overflow || bal.ToInt().Sign() < 0 {
			return nil, fmt.Errorf("%w: eth_getBalance of %s at block %d: %s", ErrMalformed, a, block, bal.ToInt())
		}
		return v, nil
	}
	token, err := graph.ParseAddress(graph.Ethereum, string(asset))
	if err != nil {
		return nil, fmt.Errorf("ethereum: balance: asset %q is neither ETH nor a token contract address: %w", asset, err)
	}
	call := map[string]string{"to": string(token), "data": "0x" + balanceOfSelector + strings.Repeat("0", 24) + string(a)[2:]}
	var out hexutil.Bytes
	err = c.retry(ctx, "eth_call", func() error {
		c.calls.Add(1)
		c.requests.Add(1)
		return c.rpc.CallContext(ctx, &out, "eth_call", call, hexutil.Uint64(block))
	})
	if err != nil {
		return nil, balanceErr(a, asset, block, "eth_call balanceOf", err)
	}
	if len(out) < 32 {
		// No code at the address (at that block) or a contract without balanceOf.
		return nil, fmt.Errorf("%w: balanceOf(%s) on %s at block %d answered %d bytes (0x%s), want a 32-byte number",
			ErrMalformed, a, token, block, len(out), hex.EncodeToString(out))
	}
	return new(uint256.Int).SetBytes32(out[:32]), nil
}

// OpeningBalances returns the balances at the end of the block before the window that
// starts at from, uncached (graph.Store.OpeningBalances caches them in a store). A window
// from the genesis block opens with the genesis allocation (the state of block 0, which
// has no transactions).
func (c *Client) OpeningBalances(from uint64) graph.OpeningBalances {
	return graph.FetchOpeningBalances(c, max(from, 1)-1)
}

// balanceErr turns a node's refusal to read old state into a *graph.OpeningBalanceError.
func balanceErr(addr graph.Address, asset graph.Asset, block uint64, what string, err error) error {
	if missingState(err) {
		return &graph.OpeningBalanceError{Address: addr, Asset: asset, Block: block, Err: fmt.Errorf("%s: %w", what, err)}
	}
	return fmt.Errorf("ethereum: %s of %s (%s) at block %d: %w", what, addr, asset, block, err)
}

// missingState reports whether err is a node saying it does not hold the state of the
// block: geth's hash scheme "missing trie node", its path scheme "historical state … is
// not available" / "has been pruned", Erigon/Nethermind/providers' "state … not available",
// "pruned", "archive".
func missingState(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"missing trie node", "historical state", "state not available", "state is not available",
		"state unavailable", "pruned", "archive"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
