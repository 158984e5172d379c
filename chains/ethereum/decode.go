package ethereum

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
)

// TransferTopic is topic0 of the ERC-20 (and ERC-721) Transfer(address,address,uint256) event.
const TransferTopic = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

// gweiToWei converts withdrawal amounts, which are in Gwei on the wire.
var gweiToWei = graph.NewAmount(1_000_000_000)

// Decoded is one normalized block with the warnings of its normalization.
type Decoded struct {
	Block    *graph.Block
	Warnings []Warning
}

// DecodeBlock normalizes one block from recorded JSON-RPC results:
//
//   - block: the result of eth_getBlockByNumber(n, true) (full transactions);
//   - receipts: a JSON array of the block's receipts in transaction order (the result of
//     eth_getBlockReceipts, or the eth_getTransactionReceipt results collected in order);
//   - traces: the result of debug_traceBlockByNumber(n, {"tracer":"callTracer"}), or nil when
//     the node has no debug API — the result then carries an ErrNoTraces warning.
//
// Each argument is the bare result, not the JSON-RPC envelope.
func DecodeBlock(block, receipts, traces []byte) (*Decoded, error) {
	var b wireBlock
	if err := json.Unmarshal(block, &b); err != nil {
		return nil, fmt.Errorf("%w: block: %w", ErrMalformed, err)
	}
	var rs []wireReceipt
	if err := json.Unmarshal(receipts, &rs); err != nil {
		return nil, fmt.Errorf("%w: receipts: %w", ErrMalformed, err)
	}
	var ts []wireTraceResult
	if traces != nil {
		if err := json.Unmarshal(traces, &ts); err != nil {
			return nil, fmt.Errorf("%w: traces: %w", ErrMalformed, err)
		}
	}
	return normalize(&b, rs, ts, traces != nil)
}

// normalize turns a block, its receipts and (when haveTraces) its call traces into a
// graph.Block. The transfers of each successful transaction are, in this order (spec §3.2):
//
//	<tx>.0              top-level call value (KindCall; KindCreate for a contract creation)
//	<tx>.t<path>        value of an internal frame, pre-order of the call tree; path is the
//	                    frame's trace address joined by "_" (t0, t0_1, …); Reverted is set
//	                    for a frame with an error and for every frame below it
//	<tx>.log<logIndex>  ERC-20 Transfer log (3 topics, 32-byte data), in log index order
//
// Beacon withdrawals come last as mints in a pseudo-transaction "<block>.withdrawals" with
// index = number of transactions, From = ZeroAddress, no fee, transfers "<block>.w<i>" for
// the i-th withdrawal of the block (Gwei converted to wei). Zero-value transfers are omitted.
func normalize(b *wireBlock, rs []wireReceipt, ts []wireTraceResult, haveTraces bool) (*Decoded, error) {
	if b.Number == nil {
		return nil, fmt.Errorf("%w: block has no number (is it null — not found?)", ErrMalformed)
	}
	height := uint64(*b.Number)
	hash, err := parseHash(fmt.Sprintf("block %d hash", height), b.Hash)
	if err != nil {
		return nil, err
	}
	out := &Decoded{Block: &graph.Block{Chain: graph.Ethereum, Height: height, Hash: hash}}
	if height > 0 || b.ParentHash != "" {
		if out.Block.Parent, err = parseHash(fmt.Sprintf("block %d parentHash", height), b.ParentHash); err != nil {
			return nil, err
		}
	}
	if b.Timestamp != nil {
		if uint64(*b.Timestamp) > 1<<62 {
			return nil, fmt.Errorf("%w: block %d timestamp %d out of range", ErrMalformed, height, *b.Timestamp)
		}
		out.Block.Time = int64(*b.Timestamp)
	}
	if len(rs) != len(b.Transactions) {
		return nil, fmt.Errorf("%w: block %d has %d transactions but %d receipts", ErrInconsistent, height, len(b.Transactions), len(rs))
	}
	if haveTraces && len(ts) != len(b.Transactions) {
		return nil, fmt.Errorf("%w: block %d has %d transactions but %d traces", ErrInconsistent, height, len(b.Transactions), len(ts))
	}
	if !haveTraces && len(b.Transactions) > 0 {
		out.Warnings = append(out.Warnings, Warning{Height: height, Err: ErrNoTraces})
	}
	if d := b.Difficulty.amount(); !d.IsZero() && height > 0 {
		out.Warnings = append(out.Warnings, Warning{Height: height, Err: ErrRewardsOmitted})
	}
	txs := make([]graph.AccountTx, 0, len(b.Transactions)+1)
	for i := range b.Transactions {
		var tr *wireTraceResult
		if haveTraces {
			tr = &ts[i]
		}
		tx, warns, err := normalizeTx(height, hash, i, &b.Transactions[i], &rs[i], tr, &out.Block.Links)
		if err != nil {
			return nil, err
		}
		out.Warnings = append(out.Warnings, warns...)
		txs = append(txs, tx)
	}
	if w, err := withdrawals(height, hash, b.Withdrawals, uint32(len(b.Transactions))); err != nil {
		return nil, err
	} else if w != nil {
		txs = append(txs, *w)
	}
	out.Block.AccountTxs = txs
	return out, nil
}

// normalizeTx normalizes transaction i and appends the link parts its logs show to links.
func normalizeTx(height uint64, blockHash string, i int, t *wireTx, r *wireReceipt, tr *wireTraceResult, links *[]graph.LinkPart) (graph.AccountTx, []Warning, error) {
	var tx graph.AccountTx
	var warns []Warning
	where := fmt.Sprintf("block %d tx %d", height, i)
	h, err := parseHash(where+" hash", t.Hash)
	if err != nil {
		return tx, nil, err
	}
	where = fmt.Sprintf("block %d tx %d (%s)", height, i, h)
	if t.TransactionIndex != nil && uint64(*t.TransactionIndex) != uint64(i) {
		return tx, nil, fmt.Errorf("%w: %s has transactionIndex %d", ErrInconsistent, where, *t.TransactionIndex)
	}
	if !strings.EqualFold(r.TransactionHash, h) {
		return tx, nil, fmt.Errorf("%w: %s: receipt is for transaction %q", ErrInconsistent, where, r.TransactionHash)
	}
	if r.BlockHash != "" && !strings.EqualFold(r.BlockHash, blockHash) {
		return tx, nil, fmt.Errorf("%w: %s: receipt is from block %s (reorg while fetching?)", ErrInconsistent, where, r.BlockHash)
	}
	if tr != nil && tr.TxHash != "" && !strings.EqualFold(tr.TxHash, h) {
		return tx, nil, fmt.Errorf("%w: %s: trace is for transaction %q", ErrInconsistent, where, tr.TxHash)
	}
	tx.Hash, tx.Index = h, uint32(i)
	if tx.From, err = parseAddr(where+" from", t.From); err != nil {
		return tx, nil, err
	}
	if t.To != nil {
		if tx.To, err = parseAddr(where+" to", *t.To); err != nil {
			return tx, nil, err
		}
	}

	// Fee = gasUsed × effectiveGasPrice (+ blobGasUsed × blobGasPrice). Receipts before
	// London carry no effectiveGasPrice on some nodes: the price is then the tx's gasPrice.
	if r.GasUsed == nil {
		return tx, nil, fmt.Errorf("%w: %s: receipt has no gasUsed", ErrMalformed, where)
	}
	price := r.EffectiveGasPrice
	if price == nil {
		price = t.GasPrice
	}
	if price == nil {
		return tx, nil, fmt.Errorf("%w: %s: neither effectiveGasPrice nor gasPrice", ErrMalformed, where)
	}
	gasUsed, p := r.GasUsed.amount(), price.amount()
	if _, o := tx.Fee.MulOverflow(&gasUsed, &p); o {
		return tx, nil, fmt.Errorf("%w: %s fee", ErrOverflow, where)
	}
	if r.BlobGasUsed != nil && r.BlobGasPrice != nil {
		var blob graph.Amount
		bu, bp := r.BlobGasUsed.amount(), r.BlobGasPrice.amount()
		if _, o := blob.MulOverflow(&bu, &bp); o {
			return tx, nil, fmt.Errorf("%w: %s blob fee", ErrOverflow, where)
		}
		if _, o := tx.Fee.AddOverflow(&tx.Fee, &blob); o {
			return tx, nil, fmt.Errorf("%w: %s fee", ErrOverflow, where)
		}
	}

	// Status: the receipt's, or for pre-Byzantium receipts the top frame's error.
	var top *wireFrame
	if tr != nil {
		if tr.Error != "" || tr.Result == nil {
			warns = append(warns, Warning{Height: height, Tx: h, Err: fmt.Errorf("%w: %s", ErrTraceFailed, tr.Error)})
		} else {
			top = tr.Result
		}
	}
	switch {
	case r.Status != nil:
		if *r.Status > 1 {
			return tx, nil, fmt.Errorf("%w: %s: receipt status %d", ErrMalformed, where, *r.Status)
		}
		tx.Success = *r.Status == 1
		if top != nil && tx.Success && top.Error != "" {
			return tx, nil, fmt.Errorf("%w: %s: status 1 but the trace failed with %q", ErrInconsistent, where, top.Error)
		}
	case top != nil:
		tx.Success = top.Error == ""
	default:
		tx.Success = true
		warns = append(warns, Warning{Height: height, Tx: h, Err: ErrStatusUnknown})
	}
	if !tx.Success {
		return tx, warns, nil // a failed transaction moves nothing but its fee
	}

	// 1. Top-level value.
	if v := t.Value.amount(); !v.IsZero() {
		to, kind := tx.To, graph.KindCall
		if t.To == nil {
			kind = graph.KindCreate
			switch {
			case r.ContractAddress != nil:
				if to, err = parseAddr(where+" contractAddress", *r.ContractAddress); err != nil {
					return tx, nil, err
				}
			case top != nil && top.To != "":
				if to, err = parseAddr(where+" created address", top.To); err != nil {
					return tx, nil, err
				}
			default:
				return tx, nil, fmt.Errorf("%w: %s creates a contract with value but the receipt names no contractAddress", ErrMalformed, where)
			}
		}
		tx.Transfers = append(tx.Transfers, graph.Transfer{ID: h + ".0", Asset: graph.ETH, From: tx.From, To: to, Amount: v, Kind: kind})
	}
	// 2. Internal transfers, pre-order DFS of the call tree below the top frame.
	if top != nil {
		path := make([]int, 0, 8)
		for ci := range top.Calls {
			path = append(path[:0], ci)
			if tx.Transfers, err = frameTransfers(tx.Transfers, h, where, &top.Calls[ci], path, false); err != nil {
				return tx, nil, err
			}
		}
	}
	// 3. ERC-20 Transfer logs by log index; the logs of link events are set aside for the
	// detectors (links.go).
	var events []Log
	prev := -1
	for li := range r.Logs {
		lg := &r.Logs[li]
		if lg.LogIndex == nil {
			return tx, nil, fmt.Errorf("%w: %s log %d has no logIndex", ErrMalformed, where, li)
		}
		idx := int(*lg.LogIndex)
		if idx <= prev {
			return tx, nil, fmt.Errorf("%w: %s: log indexes not increasing (%d after %d)", ErrInconsistent, where, idx, prev)
		}
		prev = idx
		if !lg.Removed && len(lg.Topics) > 0 && linkEventKind(lg.Topics[0]) != evNone {
			ev, err := eventLog(idx, lg)
			if err != nil {
				warns = append(warns, Warning{Height: height, Tx: h, Err: fmt.Errorf("%w: log %d: %v", ErrLinkEvent, idx, err)})
			} else {
				events = append(events, ev)
			}
			continue
		}
		if lg.Removed || len(lg.Topics) != 3 || !strings.EqualFold(lg.Topics[0], TransferTopic) {
			continue // 4 topics = ERC-721 (token id indexed): not a fungible amount
		}
		amount, ok := word32(lg.Data)
		if !ok || amount.IsZero() {
			continue
		}
		token, err := parseAddr(fmt.Sprintf("%s log %d address", where, idx), lg.Address)
		if err != nil {
			return tx, nil, err
		}
		from, ok1 := topicAddress(strings.ToLower(lg.Topics[1]))
		to, ok2 := topicAddress(strings.ToLower(lg.Topics[2]))
		if !ok1 || !ok2 {
			continue // indexed "addresses" with dirty high bytes: not a standard Transfer
		}
		tx.Transfers = append(tx.Transfers, graph.Transfer{
			ID: h + ".log" + strconv.Itoa(idx), Asset: graph.Asset(token), From: from, To: to, Amount: amount, Kind: graph.KindERC20,
		})
	}
	if events != nil {
		parts, w := DetectLinks(height, &tx, events)
		*links = append(*links, parts...)
		warns = append(warns, w...)
	}
	return tx, warns, nil
}

// eventLog converts a receipt log that linkEventKind recognised for DetectLinks.
func eventLog(idx int, lg *wireLog) (Log, error) {
	addr, err := graph.ParseAddress(graph.Ethereum, lg.Address)
	if err != nil {
		return Log{}, fmt.Errorf("address: %w", err)
	}
	data, err := decodeHexData(lg.Data)
	if err != nil {
		return Log{}, err
	}
	return Log{Index: uint64(idx), Address: addr, Topics: lg.Topics, Data: data}, nil
}

// frameTransfers appends the value transfer of frame f (if any) and of its subtree in
// pre-order. reverted is true inside a subtree whose root failed.
func frameTransfers(dst []graph.Transfer, txHash, where string, f *wireFrame, path []int, reverted bool) ([]graph.Transfer, error) {
	reverted = reverted || f.Error != ""
	var kind graph.TransferKind
	switch strings.ToUpper(f.Type) {
	case "CALL":
		kind = graph.KindInternal
	case "CREATE", "CREATE2":
		kind = graph.KindCreate
	case "SELFDESTRUCT", "SUICIDE":
		kind = graph.KindSelfDestruct
	case "DELEGATECALL", "STATICCALL", "CALLCODE":
		// No value moves between accounts: callTracer repeats the caller's msg.value on a
		// DELEGATECALL, and a CALLCODE pays the caller itself.
	default:
		return nil, fmt.Errorf("%w: %s: unknown call frame type %q", ErrMalformed, where, f.Type)
	}
	if kind != "" {
		if v := f.Value.amount(); !v.IsZero() {
			id := frameID(txHash, path)
			from, err := parseAddr(where+" frame "+id+" from", f.From)
			if err != nil {
				return nil, err
			}
			to, err := parseAddr(where+" frame "+id+" to", f.To)
			if err != nil {
				return nil, err
			}
			dst = append(dst, graph.Transfer{ID: id, Asset: graph.ETH, From: from, To: to, Amount: v, Kind: kind, Reverted: reverted})
		}
	}
	for ci := range f.Calls {
		var err error
		if dst, err = frameTransfers(dst, txHash, where, &f.Calls[ci], append(path, ci), reverted); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func frameID(txHash string, path []int) string {
	var sb strings.Builder
	sb.Grow(len(txHash) + 2 + 3*len(path))
	sb.WriteString(txHash)
	sb.WriteString(".t")
	for i, p := range path {
		if i > 0 {
			sb.WriteByte('_')
		}
		sb.WriteString(strconv.Itoa(p))
	}
	return sb.String()
}

func withdrawals(height uint64, blockHash string, ws []wireWithdrawal, index uint32) (*graph.AccountTx, error) {
	var ts []graph.Transfer
	for i := range ws {
		w := &ws[i]
		where := fmt.Sprintf("block %d withdrawal %d", height, i)
		if w.Amount == nil {
			return nil, fmt.Errorf("%w: %s has no amount", ErrMalformed, where)
		}
		gwei := w.Amount.amount()
		if gwei.IsZero() {
			continue
		}
		to, err := parseAddr(where+" address", w.Address)
		if err != nil {
			return nil, err
		}
		var wei graph.Amount
		if _, o := wei.MulOverflow(&gwei, &gweiToWei); o {
			return nil, fmt.Errorf("%w: %s amount", ErrOverflow, where)
		}
		ts = append(ts, graph.Transfer{
			ID: blockHash + ".w" + strconv.Itoa(i), Asset: graph.ETH, From: graph.ZeroAddress, To: to, Amount: wei, Kind: graph.KindWithdrawal,
		})
	}
	if ts == nil {
		return nil, nil
	}
	return &graph.AccountTx{Hash: blockHash + ".withdrawals", Index: index, From: graph.ZeroAddress, Success: true, Transfers: ts}, nil
}
