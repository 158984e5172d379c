package graph

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/holiman/uint256"
)

// Opening balances are cached in the store's records, namespace "opening-balance", under
// chain, block (uvarint), address and asset, as the balance's 32 big-endian bytes: a second
// trace of the same window asks the node nothing. Balances a node could not give are not
// cached, so a later run against an archive node fills them in.
const openingNS = "opening-balance"

func openingKey(c Chain, block uint64, addr Address, asset Asset) []byte {
	k := make([]byte, 0, 8+len(c)+len(addr)+len(asset)+12)
	k = binary.AppendUvarint(k, uint64(len(c)))
	k = append(k, c...)
	k = binary.AppendUvarint(k, block)
	k = binary.AppendUvarint(k, uint64(len(addr)))
	k = append(k, addr...)
	return append(k, asset...)
}

// OpeningBalances returns the OpeningBalances of chain c at the end of block (the block
// before the window), fetched from f on first use and cached in the store (and in memory
// for this value's life). It is safe for concurrent use.
func (s *Store) OpeningBalances(c Chain, block uint64, f BalanceFetcher) OpeningBalances {
	return &storeOpening{s: s, c: c, block: block, f: f, mem: make(map[openingMemKey]*uint256.Int)}
}

type openingMemKey struct {
	addr  Address
	asset Asset
}

type storeOpening struct {
	s     *Store
	c     Chain
	block uint64
	f     BalanceFetcher
	mu    sync.Mutex
	mem   map[openingMemKey]*uint256.Int
}

func (o *storeOpening) OpeningBalance(ctx context.Context, addr Address, asset Asset) (*uint256.Int, error) {
	mk := openingMemKey{addr, asset}
	o.mu.Lock()
	v, ok := o.mem[mk]
	o.mu.Unlock()
	if ok {
		return new(uint256.Int).Set(v), nil
	}
	key := openingKey(o.c, o.block, addr, asset)
	raw, err := o.s.GetRecord(ctx, openingNS, key)
	switch {
	case err == nil:
		if len(raw) != 32 {
			return nil, fmt.Errorf("%w: opening balance record of %s %s at block %d has %d bytes, want 32",
				ErrCorruptStore, addr, asset, o.block, len(raw))
		}
		v = new(uint256.Int).SetBytes32(raw)
	case errors.Is(err, ErrNotFound):
		if v, err = o.f.BalanceAt(ctx, addr, asset, o.block); err != nil {
			return nil, err
		}
		b := v.Bytes32()
		if err := o.s.PutRecord(ctx, openingNS, key, b[:]); err != nil {
			return nil, fmt.Errorf("graph: cache opening balance: %w", err)
		}
	default:
		return nil, fmt.Errorf("graph: opening balance of %s %s at block %d: %w", addr, asset, o.block, err)
	}
	o.mu.Lock()
	o.mem[mk] = v
	o.mu.Unlock()
	return new(uint256.Int).Set(v), nil
}
