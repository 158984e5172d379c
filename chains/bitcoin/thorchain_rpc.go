package bitcoin

import (
	"context"
	"errors"
	"strings"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/chaintrace/chaintrace/graph"
)

// detectThorchain links the block's THORChain memos. THORChain names the sender of an
// inbound and the vault of an outbound by the outputs their inputs spend, which a raw
// block does not hold: the transactions those inputs spend are fetched with
// getrawtransaction, for the few transactions with a memo only. A node without a
// transaction index cannot answer: with a lookup (RPCConfig.Prevouts, or the store Ingest
// fills) the memos are returned as pending, to be linked in height order (linkPending);
// without, they give warnings (ErrInputsUnknown), not a failed fetch.
func (r *RPC) detectThorchain(ctx context.Context, b *graph.Block, memos []TxMemo, look PrevoutLookup) (warns []Warning, pending []TxMemo, err error) {
	if len(memos) == 0 {
		return nil, nil, nil
	}
	own := make(map[string]struct{}, len(b.UTXOTxs))
	for i := range b.UTXOTxs {
		own[b.UTXOTxs[i].TxID] = struct{}{}
	}
	prevs := map[string][]graph.TxOut{}
	var noIndex error
	for _, m := range memos {
		if m.Tx < 0 || m.Tx >= len(b.UTXOTxs) {
			continue
		}
		for _, in := range b.UTXOTxs[m.Tx].Inputs {
			id := in.Prev.TxID
			if _, ok := own[id]; ok || in.Resolved {
				continue
			}
			if _, ok := prevs[id]; ok || noIndex != nil {
				continue
			}
			res, err := r.call(ctx, "getrawtransaction", id, 1)
			if err != nil {
				var rpcErr *btcjson.RPCError
				if errors.As(err, &rpcErr) && (rpcErr.Code == btcjson.ErrRPCNoTxInfo || strings.Contains(rpcErr.Message, "txindex")) {
					noIndex = err // the memos' inputs stay unknown: warnings below
					continue
				}
				return nil, nil, err
			}
			p, _, err := r.parsePrevTx(id, res)
			if err != nil {
				return nil, nil, err
			}
			prevs[id] = p.outs
		}
	}
	if noIndex != nil && look != nil {
		return nil, append([]TxMemo(nil), memos...), nil
	}
	return DetectThorchain(b, memos, func(op graph.Outpoint) (graph.Address, bool) {
		outs, ok := prevs[op.TxID]
		if !ok || int(op.Index) >= len(outs) {
			return "", false
		}
		return outs[op.Index].Address, true
	}), nil, nil
}

// linkPending links memos detectThorchain left pending, with the lookup.
func (r *RPC) linkPending(ctx context.Context, b *graph.Block, pending []TxMemo, look PrevoutLookup) ([]Warning, error) {
	if len(pending) == 0 {
		return nil, nil
	}
	return detectWith(ctx, b, pending, look)
}

// rangePrevouts is Range with look naming memo inputs when RPCConfig.Prevouts does not
// (Ingest passes its store's).
func (r *RPC) rangePrevouts(ctx context.Context, from, to uint64, look PrevoutLookup, fn func(*graph.Block) error) error {
	if r.cfg.Prevouts != nil {
		look = r.cfg.Prevouts
	}
	return r.rangeWith(ctx, from, to, look, fn)
}
