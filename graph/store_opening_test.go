package graph

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/holiman/uint256"
)

// countingFetcher answers balance = block × 1000 + len(addr) and counts the calls; it
// stands for a node (chains/ethereum tests run the real one).
type countingFetcher struct{ calls atomic.Int64 }

func (f *countingFetcher) BalanceAt(_ context.Context, addr Address, asset Asset, block uint64) (*uint256.Int, error) {
	f.calls.Add(1)
	if asset == "pruned" {
		return nil, &OpeningBalanceError{Address: addr, Asset: asset, Block: block, Err: errors.New("missing trie node")}
	}
	return uint256.NewInt(block*1000 + uint64(len(addr))), nil
}

// The store caches opening balances per chain, block, address and asset; failures are not
// cached.
func TestStoreOpeningBalances(t *testing.T) {
	ctx := context.Background()
	st, err := OpenStore(ctx, StoreOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := &countingFetcher{}
	for round := 0; round < 2; round++ {
		for _, block := range []uint64{7, 8} {
			o := st.OpeningBalances(Ethereum, block, f)
			for _, a := range []Address{"0xa", "0xbb"} {
				v, err := o.OpeningBalance(ctx, a, ETH)
				if err != nil || v.Uint64() != block*1000+uint64(len(a)) {
					t.Fatalf("%s at %d: %v %v", a, block, v, err)
				}
				v.SetUint64(0) // the caller's copy: the cache is not changed through it
				if v, _ := o.OpeningBalance(ctx, a, ETH); v.Uint64() != block*1000+uint64(len(a)) {
					t.Fatalf("cached value changed through a returned copy: %v", v)
				}
			}
		}
	}
	if n := f.calls.Load(); n != 4 {
		t.Errorf("%d node calls for 4 distinct balances", n)
	}
	o := st.OpeningBalances(Ethereum, 7, f)
	for i := 0; i < 2; i++ {
		_, err := o.OpeningBalance(ctx, "0xa", "pruned")
		var oe *OpeningBalanceError
		if !errors.Is(err, ErrOpeningBalanceUnknown) || !errors.As(err, &oe) || oe.Block != 7 {
			t.Fatalf("pruned: %v", err)
		}
	}
	if n := f.calls.Load(); n != 6 {
		t.Errorf("failures were cached: %d calls", n)
	}
	// A corrupt record is an error, not a number.
	if err := st.PutRecord(ctx, openingNS, openingKey(Ethereum, 9, "0xa", ETH), []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.OpeningBalances(Ethereum, 9, f).OpeningBalance(ctx, "0xa", ETH); !errors.Is(err, ErrCorruptStore) {
		t.Errorf("corrupt record: %v", err)
	}
}

// BenchmarkStoreOpeningBalance: a balance from the in-memory layer, and from the store's
// record (a fresh OpeningBalances per lookup, as a second trace of the window sees it).
func BenchmarkStoreOpeningBalance(b *testing.B) {
	ctx := context.Background()
	st, err := OpenStore(ctx, StoreOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	f := &countingFetcher{}
	addrs := make([]Address, 1000)
	warm := st.OpeningBalances(Ethereum, 100, f)
	for i := range addrs {
		addrs[i] = Address(fmt.Sprintf("0x%040x", i))
		if _, err := warm.OpeningBalance(ctx, addrs[i], ETH); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("memory", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := warm.OpeningBalance(ctx, addrs[i%len(addrs)], ETH); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := st.OpeningBalances(Ethereum, 100, f).OpeningBalance(ctx, addrs[i%len(addrs)], ETH); err != nil {
				b.Fatal(err)
			}
		}
	})
}
