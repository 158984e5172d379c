package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
)

// storeSourceNamespace holds, per chain, where a kept store's blocks came from.
const storeSourceNamespace = "examples/trace/source"

// storeSource is what a store holds of one chain: the data source that first filled it (in
// the flags' words), its network when known, and its first block.
type storeSource struct {
	Source  string `json:"source"`
	Network string `json:"network,omitempty"`
	First   uint64 `json:"first"`
}

// checkStoreSource is called before blocks of chain from src, starting at block from, go
// into the store kept in dir (-store). A store holds one contiguous range of a chain's
// blocks of one network: blocks of another network, or a range that starts past the
// store's tip (a gap, after which ingest fails) or below its first block, are refused in
// one line that says what to do. recordStoreSource notes the source once the blocks are in.
func checkStoreSource(ctx context.Context, st *graph.Store, dir string, chain graph.Chain, src storeSource, from uint64) error {
	tip, _, has, err := st.Tip(ctx, chain)
	if err != nil {
		return err
	}
	var held storeSource
	b, err := st.GetRecord(ctx, storeSourceNamespace, []byte(chain))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &held); err != nil {
			return fmt.Errorf("-store %s: the record of its %s source: %w", dir, chain, err)
		}
	case !errors.Is(err, graph.ErrNotFound):
		return err
	}
	if !has {
		return nil
	}
	if held.Source == "" { // a store kept before sources were recorded
		held.Source = "an earlier run"
		if w, ok, err := st.WindowStart(ctx, chain); err == nil && ok {
			held.First = w
		}
	}
	holds := fmt.Sprintf("-store %s holds %s blocks %d..%d from %s", dir, chain, held.First, tip, held.Source)
	if held.Network != "" {
		holds = fmt.Sprintf("-store %s holds %s %s blocks %d..%d from %s", dir, chain, held.Network, held.First, tip, held.Source)
	}
	switch {
	case held.Network != "" && src.Network != "" && held.Network != src.Network:
		return fmt.Errorf("%s; this run reads %s blocks from %s: give another -store directory (or none, for a temporary store)", holds, src.Network, src.Source)
	case from > tip+1:
		return fmt.Errorf("%s; this run starts at block %d, which would leave a gap: give another -store directory, or -from %d or lower", holds, from, tip+1)
	case held.First > 0 && from < held.First:
		return fmt.Errorf("%s; this run starts at block %d, below its first: give another -store directory (a store holds one range of a chain)", holds, from)
	}
	return nil
}

// recordStoreSource notes, after an ingest into a kept store, where its blocks of chain
// came from, unless an earlier run did. It is written after the ingest, not before: a store
// holding a record cannot take the first-time bulk load.
func recordStoreSource(ctx context.Context, st *graph.Store, chain graph.Chain, src storeSource, first uint64) error {
	if _, err := st.GetRecord(ctx, storeSourceNamespace, []byte(chain)); !errors.Is(err, graph.ErrNotFound) {
		return err
	}
	src.First = first
	b, _ := json.Marshal(src)
	return st.PutRecord(ctx, storeSourceNamespace, []byte(chain), b)
}

// ethMainnetGenesis is the hash of Ethereum mainnet's genesis block.
const ethMainnetGenesis = "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"

// ethNetwork names an Ethereum network by its genesis block's hash.
func ethNetwork(genesis string) string {
	if strings.EqualFold(genesis, ethMainnetGenesis) {
		return "mainnet"
	}
	return "genesis " + genesis
}
