package bitcoin

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/chaintrace/chaintrace/graph"
)

// A window over a node (RPCConfig.WindowStart) resolves the inputs of its blocks that
// spend outputs created below the window start, as a window over block files does:
//
//   - bitcoind ≥ 23: getblock <hash> 3 carries every input's prevout (height, value,
//     script).
//   - btcd (or an older bitcoind) with a transaction index (--txindex / -txindex):
//     getrawtransaction <txid> 1 for each transaction the block spends from, with the
//     creating block's height from getblockheader, each round in JSON-RPC batches (or, on
//     a node that refuses batches, single requests, several in flight); transactions and
//     heights are cached, since outputs of one transaction are often spent in several
//     blocks.
//
// A node that offers neither is ErrNoPrevouts, naming the options.

type rpcPrevoutMode int

const (
	prevoutsUnknown rpcPrevoutMode = iota
	prevoutsGetblock3
	prevoutsTxIndex
)

// prevTx is what the cache keeps of a transaction: its block height and its outputs.
type prevTx struct {
	height uint64
	outs   []graph.TxOut
}

// rpcPrevouts is the RPC's window state.
type rpcPrevouts struct {
	mu      sync.Mutex
	mode    rpcPrevoutMode
	txs     map[string]*prevTx
	heights map[string]uint64 // block hash → height
}

// maxPrevTxCache bounds the transaction cache; it is emptied when full.
const maxPrevTxCache = 200_000

// maxPrevoutRequests bounds the getrawtransaction requests of one block in flight.
const maxPrevoutRequests = 16

// PrevoutMethod reports how the window's inputs from before the window are resolved:
// PrevoutsNone without a window or before the first window block with a spend, else
// "getblock3" (bitcoind's getblock <hash> 3) or "txindex" (getrawtransaction).
func (r *RPC) PrevoutMethod() PrevoutMethod {
	if r.cfg.WindowStart == 0 {
		return PrevoutsNone
	}
	r.prev.mu.Lock()
	defer r.prev.mu.Unlock()
	switch r.prev.mode {
	case prevoutsGetblock3:
		return "getblock3"
	case prevoutsTxIndex:
		return "txindex"
	}
	return PrevoutsNone
}

// resolveWindow fills the inputs of b (at or above the window start) spending outputs
// created below it.
func (r *RPC) resolveWindow(ctx context.Context, b *graph.Block) error {
	if r.cfg.WindowStart == 0 || b.Height < r.cfg.WindowStart {
		return nil
	}
	// Inputs spending transactions of the same block are inside the window.
	own := make(map[string]struct{}, len(b.UTXOTxs))
	spends := false
	for i := range b.UTXOTxs {
		own[b.UTXOTxs[i].TxID] = struct{}{}
		spends = spends || len(b.UTXOTxs[i].Inputs) > 0
	}
	if !spends {
		return nil
	}
	r.prev.mu.Lock()
	mode := r.prev.mode
	r.prev.mu.Unlock()
	if mode != prevoutsTxIndex {
		ok, err := r.resolveGetblock3(ctx, b)
		if err != nil {
			return err
		}
		if ok {
			r.setPrevoutMode(prevoutsGetblock3)
			return nil
		}
	}
	if err := r.resolveTxIndex(ctx, b, own); err != nil {
		return err
	}
	r.setPrevoutMode(prevoutsTxIndex)
	return nil
}

func (r *RPC) setPrevoutMode(m rpcPrevoutMode) {
	r.prev.mu.Lock()
	r.prev.mode = m
	r.prev.mu.Unlock()
}

// verboseBlock is the part of bitcoind's getblock <hash> 3 answer read here.
type verboseBlock struct {
	Hash string `json:"hash"`
	Tx   []struct {
		Txid string `json:"txid"`
		Vin  []struct {
			Coinbase string `json:"coinbase"`
			Txid     string `json:"txid"`
			Vout     uint32 `json:"vout"`
			Prevout  *struct {
				Height       uint64      `json:"height"`
				Value        json.Number `json:"value"`
				ScriptPubKey struct {
					Hex string `json:"hex"`
				} `json:"scriptPubKey"`
			} `json:"prevout"`
		} `json:"vin"`
	} `json:"tx"`
}

// resolveGetblock3 resolves b from getblock <hash> 3. It reports false when the answer
// has no prevouts (btcd, bitcoind < 23 answer as for verbosity 2).
func (r *RPC) resolveGetblock3(ctx context.Context, b *graph.Block) (bool, error) {
	res, err := r.call(ctx, "getblock", b.Hash, 3)
	if err != nil {
		var rpcErr *jsonRPCError
		if errors.As(err, &rpcErr) {
			return false, nil // verbosity 3 refused: try the transaction index
		}
		return false, err
	}
	dec := json.NewDecoder(bytes.NewReader(res))
	dec.UseNumber()
	var vb verboseBlock
	if err := dec.Decode(&vb); err != nil {
		return false, fmt.Errorf("%w: getblock %s 3: %v", ErrRPC, b.Hash, err)
	}
	if len(vb.Tx) == 0 {
		return false, nil // btcd answers verbosity 3 as 2, with the transactions under rawtx
	}
	if vb.Hash != b.Hash || len(vb.Tx) != len(b.UTXOTxs) {
		return false, fmt.Errorf("%w: getblock %s 3 answered block %s with %d transactions, the raw block has %d",
			ErrRPC, b.Hash, vb.Hash, len(vb.Tx), len(b.UTXOTxs))
	}
	for i := range b.UTXOTxs {
		tx := &b.UTXOTxs[i]
		vt := &vb.Tx[i]
		if len(tx.Inputs) == 0 {
			continue
		}
		if vt.Txid != tx.TxID || len(vt.Vin) != len(tx.Inputs) {
			return false, fmt.Errorf("%w: getblock %s 3: transaction %d is %s with %d inputs, the raw block has %s with %d",
				ErrRPC, b.Hash, i, vt.Txid, len(vt.Vin), tx.TxID, len(tx.Inputs))
		}
		for j := range tx.Inputs {
			in := &tx.Inputs[j]
			v := &vt.Vin[j]
			if v.Prevout == nil {
				return false, nil
			}
			if v.Txid != in.Prev.TxID || v.Vout != in.Prev.Index {
				return false, fmt.Errorf("%w: getblock %s 3: tx %s input %d spends %s:%d, the raw block says %s",
					ErrRPC, b.Hash, tx.TxID, j, v.Txid, v.Vout, in.Prev)
			}
			if v.Prevout.Height >= r.cfg.WindowStart || in.Resolved {
				continue
			}
			sats, err := ParseBTC(string(v.Prevout.Value))
			if err != nil {
				return false, fmt.Errorf("%w: getblock %s 3: tx %s input %d: prevout value: %v", ErrRPC, b.Hash, tx.TxID, j, err)
			}
			script, err := hex.DecodeString(v.Prevout.ScriptPubKey.Hex)
			if err != nil {
				return false, fmt.Errorf("%w: getblock %s 3: tx %s input %d: prevout script: %v", ErrRPC, b.Hash, tx.TxID, j, err)
			}
			addr, _, _ := ScriptAddress(script, r.cfg.Net)
			in.Address, in.Value, in.Resolved = addr, graph.NewAmount(sats), true
		}
	}
	return true, nil
}

// jsonRPCError is the node's own error answer.
type jsonRPCError = btcjson.RPCError

// resolveTxIndex resolves b's inputs with getrawtransaction (a transaction index).
func (r *RPC) resolveTxIndex(ctx context.Context, b *graph.Block, own map[string]struct{}) error {
	var need []string
	seen := make(map[string]struct{})
	for i := range b.UTXOTxs {
		for _, in := range b.UTXOTxs[i].Inputs {
			id := in.Prev.TxID
			if _, ok := own[id]; ok {
				continue
			}
			if _, ok := seen[id]; ok {
				continue
			}
			seen[id] = struct{}{}
			need = append(need, id)
		}
	}
	txs := make(map[string]*prevTx, len(need))
	var missing []string
	r.prev.mu.Lock()
	for _, id := range need {
		if p, ok := r.prev.txs[id]; ok {
			txs[id] = p
		} else {
			missing = append(missing, id)
		}
	}
	r.prev.mu.Unlock()
	if len(missing) > 0 {
		got, err := r.fetchPrevTxs(ctx, b, missing)
		if err != nil {
			return err
		}
		r.prev.mu.Lock()
		if r.prev.txs == nil || len(r.prev.txs)+len(got) > maxPrevTxCache {
			r.prev.txs = make(map[string]*prevTx)
		}
		for i, id := range missing {
			txs[id] = got[i]
			r.prev.txs[id] = got[i]
		}
		r.prev.mu.Unlock()
	}
	for i := range b.UTXOTxs {
		tx := &b.UTXOTxs[i]
		for j := range tx.Inputs {
			in := &tx.Inputs[j]
			p, ok := txs[in.Prev.TxID]
			if !ok || in.Resolved || p.height >= r.cfg.WindowStart {
				continue
			}
			if int(in.Prev.Index) >= len(p.outs) {
				return fmt.Errorf("%w: block %d tx %s input %d spends %s, but that transaction has %d outputs",
					ErrRPC, b.Height, tx.TxID, j, in.Prev, len(p.outs))
			}
			o := &p.outs[in.Prev.Index]
			in.Address, in.Value, in.Resolved = o.Address, o.Value, true
		}
	}
	return nil
}

// fetchPrevTxs gets the transactions ids with getrawtransaction: in batch requests, or, on
// a node that refuses them, several single requests at a time.
func (r *RPC) fetchPrevTxs(ctx context.Context, b *graph.Block, ids []string) ([]*prevTx, error) {
	if !r.noBatch.Load() {
		// Until the node has taken a batch, one batch at a time: a node that refuses them
		// is asked once, not once per worker fetching a block.
		probing := !r.batchOK.Load()
		if probing {
			r.batchProbe.Lock()
		}
		if !r.noBatch.Load() {
			out, ok, err := r.fetchPrevTxsBatched(b, ids)
			if ok {
				r.batchOK.Store(true)
			} else if err == nil {
				r.noBatch.Store(true)
			}
			if probing {
				r.batchProbe.Unlock()
			}
			if err != nil || ok {
				return out, err
			}
		} else if probing {
			r.batchProbe.Unlock()
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]*prevTx, len(ids))
	errs := make([]error, len(ids))
	sem := make(chan struct{}, maxPrevoutRequests)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, id string) {
			defer wg.Done()
			defer func() { <-sem }()
			out[i], errs[i] = r.prevTx(ctx, id)
			if errs[i] != nil {
				cancel()
			}
		}(i, id)
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			continue
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			continue // cancelled by another request's failure, reported on its own index
		}
		return nil, r.prevTxErr(b, ids[i], err)
	}
	return out, nil
}

// prevTxErr names the node's missing transaction index as ErrNoPrevouts.
func (r *RPC) prevTxErr(b *graph.Block, id string, err error) error {
	var rpcErr *jsonRPCError
	if errors.As(err, &rpcErr) && (rpcErr.Code == btcjson.ErrRPCNoTxInfo || strings.Contains(rpcErr.Message, "txindex")) {
		return fmt.Errorf("%w: block %d spends %s from before the window start %d, and node %s answers neither getblock <hash> 3 with prevouts (bitcoind ≥ 23) nor getrawtransaction for it (btcd: start it with --txindex; bitcoind: -txindex): %v",
			ErrNoPrevouts, b.Height, id, r.cfg.WindowStart, r.cfg.Host, rpcErr.Message)
	}
	return err
}

// prevTx fetches one transaction and the height of its block.
func (r *RPC) prevTx(ctx context.Context, id string) (*prevTx, error) {
	res, err := r.call(ctx, "getrawtransaction", id, 1)
	if err != nil {
		return nil, err
	}
	p, blockHash, err := r.parsePrevTx(id, res)
	if err != nil {
		return nil, err
	}
	if p.height, err = r.blockHeight(ctx, blockHash); err != nil {
		return nil, err
	}
	return p, nil
}

// parsePrevTx reads a getrawtransaction <id> 1 answer: the transaction's outputs (decoded
// from its hex by this package, so values are exact and addresses follow the package's
// rules) and the hash of its block.
func (r *RPC) parsePrevTx(id string, res json.RawMessage) (*prevTx, string, error) {
	var v struct {
		Hex       string `json:"hex"`
		BlockHash string `json:"blockhash"`
	}
	if err := json.Unmarshal(res, &v); err != nil {
		return nil, "", fmt.Errorf("%w: getrawtransaction %s 1: %v", ErrRPC, id, err)
	}
	raw, err := hex.DecodeString(v.Hex)
	if err != nil {
		return nil, "", fmt.Errorf("%w: getrawtransaction %s 1: hex: %v", ErrRPC, id, err)
	}
	tx, err := DecodeTx(raw, r.cfg.Net)
	if err != nil {
		return nil, "", fmt.Errorf("getrawtransaction %s: %w", id, err)
	}
	if tx.TxID != id {
		return nil, "", fmt.Errorf("%w: getrawtransaction %s answered transaction %s", ErrRPC, id, tx.TxID)
	}
	if v.BlockHash == "" {
		return nil, "", fmt.Errorf("%w: getrawtransaction %s: the transaction is in no block", ErrRPC, id)
	}
	outs := make([]graph.TxOut, len(tx.Outputs))
	for i, o := range tx.Outputs {
		outs[i] = graph.TxOut{Address: graph.Address(strings.Clone(string(o.Address))), Value: o.Value, Unspendable: o.Unspendable}
	}
	return &prevTx{outs: outs}, v.BlockHash, nil
}

// maxBatch is the number of calls in one JSON-RPC batch request.
const maxBatch = 250

// batchCall sends one call of method per parameter list as JSON-RPC batch requests (btcd
// and bitcoind both take them; rpcclient's batch client) and returns each call's answer
// or error. A failure of a whole request (the node refuses batches, the connection fails)
// is the returned error.
func (r *RPC) batchCall(method string, params [][]any) ([]json.RawMessage, []error, error) {
	r.batchMu.Lock()
	defer r.batchMu.Unlock()
	if r.batch == nil {
		bc, err := rpcclient.NewBatch(r.connConfig())
		if err != nil {
			return nil, nil, fmt.Errorf("%w: batch client: %v", ErrRPC, err)
		}
		r.batch = bc
	}
	res := make([]json.RawMessage, len(params))
	errs := make([]error, len(params))
	for lo := 0; lo < len(params); lo += maxBatch {
		hi := min(lo+maxBatch, len(params))
		futs := make([]rpcclient.FutureRawResult, 0, hi-lo)
		for _, ps := range params[lo:hi] {
			raw := make([]json.RawMessage, len(ps))
			for i, p := range ps {
				b, err := json.Marshal(p)
				if err != nil {
					return nil, nil, fmt.Errorf("%w: %s: marshal parameter %d: %v", ErrRPC, method, i, err)
				}
				raw[i] = b
			}
			futs = append(futs, r.batch.RawRequestAsync(method, raw))
		}
		if err := r.batch.Send(); err != nil {
			return nil, nil, fmt.Errorf("%w: batch of %d %s: %w", ErrRPC, hi-lo, method, err)
		}
		for i, f := range futs {
			res[lo+i], errs[lo+i] = f.Receive()
		}
	}
	return res, errs, nil
}

// fetchPrevTxsBatched is fetchPrevTxs in two rounds of batch requests: getrawtransaction
// for every transaction, then getblockheader for every block not yet cached. It reports
// false when the node does not take batches.
func (r *RPC) fetchPrevTxsBatched(b *graph.Block, ids []string) ([]*prevTx, bool, error) {
	params := make([][]any, len(ids))
	for i, id := range ids {
		params[i] = []any{id, 1}
	}
	res, errs, err := r.batchCall("getrawtransaction", params)
	if err != nil {
		return nil, false, nil
	}
	out := make([]*prevTx, len(ids))
	hashes := make([]string, len(ids))
	for i, id := range ids {
		if errs[i] != nil {
			return nil, true, r.prevTxErr(b, id, fmt.Errorf("%w: getrawtransaction %s 1: %w", ErrRPC, id, errs[i]))
		}
		if out[i], hashes[i], err = r.parsePrevTx(id, res[i]); err != nil {
			return nil, true, err
		}
	}
	var need []string
	seen := map[string]bool{}
	r.prev.mu.Lock()
	for _, h := range hashes {
		if _, ok := r.prev.heights[h]; !ok && !seen[h] {
			seen[h] = true
			need = append(need, h)
		}
	}
	r.prev.mu.Unlock()
	if len(need) > 0 {
		params = params[:0]
		for _, h := range need {
			params = append(params, []any{h, true})
		}
		res, errs, err := r.batchCall("getblockheader", params)
		if err != nil {
			return nil, false, nil
		}
		got := make(map[string]uint64, len(need))
		for i, h := range need {
			if errs[i] != nil {
				return nil, true, fmt.Errorf("%w: getblockheader %s: %w", ErrRPC, h, errs[i])
			}
			var v struct {
				Height *uint64 `json:"height"`
			}
			if err := json.Unmarshal(res[i], &v); err != nil || v.Height == nil {
				return nil, true, fmt.Errorf("%w: getblockheader %s answered %.80q", ErrRPC, h, res[i])
			}
			got[h] = *v.Height
		}
		r.prev.mu.Lock()
		if r.prev.heights == nil || len(r.prev.heights)+len(got) > maxPrevTxCache {
			r.prev.heights = make(map[string]uint64)
		}
		for h, n := range got {
			r.prev.heights[h] = n
		}
		r.prev.mu.Unlock()
		for i, h := range hashes {
			if n, ok := got[h]; ok {
				out[i].height = n
				hashes[i] = ""
			}
		}
	}
	r.prev.mu.Lock()
	defer r.prev.mu.Unlock()
	for i, h := range hashes {
		if h != "" {
			n, ok := r.prev.heights[h]
			if !ok { // evicted meanwhile: one more call decides
				return nil, false, nil
			}
			out[i].height = n
		}
	}
	return out, true, nil
}

// blockHeight returns the height of the block with the given hash (getblockheader), cached.
func (r *RPC) blockHeight(ctx context.Context, hash string) (uint64, error) {
	r.prev.mu.Lock()
	h, ok := r.prev.heights[hash]
	r.prev.mu.Unlock()
	if ok {
		return h, nil
	}
	res, err := r.call(ctx, "getblockheader", hash, true)
	if err != nil {
		return 0, err
	}
	var v struct {
		Height *uint64 `json:"height"`
	}
	if err := json.Unmarshal(res, &v); err != nil || v.Height == nil {
		return 0, fmt.Errorf("%w: getblockheader %s answered %.80q", ErrRPC, hash, res)
	}
	r.prev.mu.Lock()
	if r.prev.heights == nil || len(r.prev.heights) > maxPrevTxCache {
		r.prev.heights = make(map[string]uint64)
	}
	r.prev.heights[hash] = *v.Height
	r.prev.mu.Unlock()
	return *v.Height, nil
}

// ParseBTC parses a decimal BTC amount as the nodes print it ("50.00000000", "0.0001")
// into satoshis, exactly: at most 8 decimals, not negative, at most 21 million BTC.
func ParseBTC(s string) (uint64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") || len(frac) > 8 || len(whole) > 8 {
		return 0, fmt.Errorf("amount %q is not a BTC amount with at most 8 decimals", s)
	}
	var n uint64
	for _, c := range whole + frac + strings.Repeat("0", 8-len(frac)) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("amount %q is not a BTC amount with at most 8 decimals", s)
		}
		n = n*10 + uint64(c-'0')
	}
	if n > maxMoney {
		return 0, fmt.Errorf("amount %q is above the money supply", s)
	}
	return n, nil
}
