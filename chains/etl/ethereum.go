package etl

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/graph"
)

// Options tune how an export is read. The zero value is strict.
type Options struct {
	// IgnoreUnknownColumns accepts columns/fields that no known exporter writes (a newer
	// exporter version, a custom BigQuery query) instead of failing with ErrUnknownColumn.
	IgnoreUnknownColumns bool
	// NonFungibleTokens lists token contracts whose token_transfers rows are not fungible
	// amounts (ERC-721: the value column holds a token id) and are skipped. Only needed when
	// token transfers come from the token_transfers table; from logs, ERC-721 is recognised.
	NonFungibleTokens map[graph.Address]bool
	// AllowIncompleteTraces skips (and reports through Warn) trace frames that cannot say
	// how much they moved, instead of failing with ErrIncompleteTrace.
	AllowIncompleteTraces bool
	// Warn, if set, receives data-quality notes: assumptions the reader had to make.
	Warn func(Warning)
}

func (o *Options) warn(w Warning) {
	if o.Warn != nil {
		o.Warn(w)
	}
}

// EthereumExport names the tables of one ethereum-etl export (CSV or JSON lines, each
// table in its own Source; formats may be mixed). Blocks and Transactions are required.
// Every table must be sorted by block number; inside a block, rows may come in any order.
type EthereumExport struct {
	Blocks       Source
	Transactions Source
	// Receipts gives gas used, effective gas price and status. It may be omitted when the
	// transactions carry receipt_* columns (ethereumetl stream, BigQuery crypto_ethereum).
	Receipts Source
	// Traces gives internal transfers, the status of pre-Byzantium transactions and block
	// rewards (Parity/Erigon trace_block or geth callTracer, as ethereum-etl exports them).
	Traces Source
	// TokenTransfers gives ERC-20 transfers (ethereum-etl token_transfers). Logs, when
	// given, are used instead: they tell ERC-20 from ERC-721 (see doc.go).
	TokenTransfers Source
	Logs           Source

	// NoTraces declares that the export has no traces: internal transfers (contract
	// payouts, mixer withdrawals, …) and block rewards are then absent from the Blocks.
	// Without it, a missing Traces table is ErrMissingTable: never under-report silently.
	NoTraces bool
	// NoTokenTransfers declares that the export has neither token_transfers nor logs.
	NoTokenTransfers bool

	Options Options
}

// ReadEthereumBlocks reads a whole export into memory. See ReadEthereum for large ones.
func ReadEthereumBlocks(ctx context.Context, src EthereumExport) ([]graph.Block, error) {
	var out []graph.Block
	err := ReadEthereum(ctx, src, func(b *graph.Block) error {
		out = append(out, *b)
		return nil
	})
	return out, err
}

// ReadEthereum streams an ethereum-etl export: fn receives each block, normalized (spec
// §3.2), in ascending block order; fn's error stops reading and is returned. Memory use
// is one block's rows. The block passed to fn is fresh: fn may keep it.
func ReadEthereum(ctx context.Context, src EthereumExport, fn func(*graph.Block) error) error {
	opt := &src.Options
	if src.Blocks.IsZero() || src.Transactions.IsZero() {
		return &Error{Err: fmt.Errorf("%w: an Ethereum export needs blocks and transactions", ErrMissingTable)}
	}
	if src.Traces.IsZero() && !src.NoTraces {
		return &Error{Err: fmt.Errorf("%w: no traces table: internal transfers would be missing; give one or set NoTraces", ErrMissingTable)}
	}
	if src.TokenTransfers.IsZero() && src.Logs.IsZero() && !src.NoTokenTransfers {
		return &Error{Err: fmt.Errorf("%w: no token_transfers or logs table: ERC-20 transfers would be missing; give one or set NoTokenTransfers", ErrMissingTable)}
	}
	open := func(s Source, sch *schema) (*rowReader, error) {
		if s.IsZero() {
			return nil, nil
		}
		return newRowReader(s, sch, opt.IgnoreUnknownColumns)
	}
	var (
		r   ethReader
		err error
		rr  *rowReader
	)
	r.opt = opt
	if rr, err = open(src.Blocks, ethBlocksSchema); err != nil {
		return err
	}
	r.blocks = newTableIter(rr, parseEthBlock)
	if rr, err = open(src.Transactions, ethTxSchema); err != nil {
		return err
	}
	r.txs = newTableIter(rr, parseEthTx)
	if rr, err = open(src.Receipts, ethReceiptSchema); err != nil {
		return err
	} else if rr != nil {
		r.receipts = newTableIter(rr, parseEthReceipt)
	}
	if rr, err = open(src.Traces, ethTraceSchema); err != nil {
		return err
	} else if rr != nil {
		r.traces = newTableIter(rr, parseEthTrace)
	}
	if !src.Logs.IsZero() {
		if rr, err = open(src.Logs, ethLogSchema); err != nil {
			return err
		}
		r.logs = newTableIter(rr, parseEthLog)
	} else if rr, err = open(src.TokenTransfers, ethTokenTransferSchema); err != nil {
		return err
	} else if rr != nil {
		r.tokens = newTableIter(rr, parseEthTokenTransfer)
	}
	r.haveTraces = r.traces != nil
	return r.run(ctx, fn)
}

type ethReader struct {
	opt        *Options
	blocks     *tableIter[ethBlock]
	txs        *tableIter[ethTx]
	receipts   *tableIter[ethReceipt]
	traces     *tableIter[ethTrace]
	tokens     *tableIter[ethTokenTransfer]
	logs       *tableIter[ethLog]
	haveTraces bool

	// per-block scratch, reused
	txBuf     []ethTx
	rcBuf     []ethReceipt
	trBuf     []ethTrace
	ttBuf     []ethTokenTransfer
	logBuf    []ethLog
	evBuf     []ethLog // the logs of link events of the block
	prev      ethBlock
	havePrev  bool
	rowsTotal int
}

func (r *ethReader) run(ctx context.Context, fn func(*graph.Block) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.blocks.peek(); err != nil {
			return err
		}
		if !r.blocks.has {
			break
		}
		blk := r.blocks.item
		r.blocks.has = false
		if err := r.blocks.peek(); err != nil {
			return err // the blocks table's own order is checked before its rows are joined
		}
		if r.havePrev && blk.number <= r.prev.number {
			sentinel, what := ErrOutOfOrder, "comes after"
			if blk.number == r.prev.number {
				sentinel, what = ErrDuplicate, "repeats"
			}
			return &Error{File: blk.p.file, Line: blk.p.line, Block: blk.number, HasBlock: true,
				Err: fmt.Errorf("%w: block %d %s block %d", sentinel, blk.number, what, r.prev.number)}
		}
		b, err := r.block(blk)
		if err != nil {
			return withBlock(err, blk.number)
		}
		r.prev, r.havePrev = blk, true
		if err := fn(b); err != nil {
			return err
		}
	}
	for _, f := range []func() error{r.txs.finish, r.receipts.finish, r.traces.finish, r.tokens.finish, r.logs.finish} {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

func (r *ethReader) block(blk ethBlock) (*graph.Block, error) {
	n := blk.number
	var err error
	if r.txBuf, err = r.txs.take(n, r.txBuf[:0]); err != nil {
		return nil, err
	}
	if r.rcBuf, err = r.receipts.take(n, r.rcBuf[:0]); err != nil {
		return nil, err
	}
	if r.trBuf, err = r.traces.take(n, r.trBuf[:0]); err != nil {
		return nil, err
	}
	if r.ttBuf, err = r.tokens.take(n, r.ttBuf[:0]); err != nil {
		return nil, err
	}
	if r.logBuf, err = r.logs.take(n, r.logBuf[:0]); err != nil {
		return nil, err
	}
	r.evBuf = r.evBuf[:0]
	for _, l := range r.logBuf {
		if l.isToken {
			r.ttBuf = append(r.ttBuf, l.transfer)
		}
		if l.event != nil {
			r.evBuf = append(r.evBuf, l)
		}
	}

	if r.havePrev && r.prev.number == n-1 && blk.parent != "" && blk.parent != r.prev.hash {
		return nil, blk.p.errf(ErrInconsistent, "parent_hash %s is not the hash of block %d (%s): the export mixes forks", blk.parent, n-1, r.prev.hash)
	}
	b := &graph.Block{Chain: graph.Ethereum, Height: n, Hash: blk.hash, Parent: blk.parent, Time: blk.time}

	// transactions in block order, complete
	txs := r.txBuf
	slices.SortFunc(txs, func(a, b ethTx) int { return cmpU64(a.index, b.index) })
	for i := range txs {
		t := &txs[i]
		if t.index != uint64(i) {
			if i > 0 && txs[i-1].index == t.index {
				return nil, withTx(t.p.errf(ErrDuplicate, "transaction index %d twice", t.index), t.hash)
			}
			return nil, withTx(t.p.errf(ErrIncomplete, "transaction index %d is missing from the export", i), t.hash)
		}
		if t.blockHash != "" && t.blockHash != blk.hash {
			return nil, withTx(t.p.errf(ErrInconsistent, "block_hash %s is not block %d's hash %s", t.blockHash, n, blk.hash), t.hash)
		}
	}
	if blk.hasTxCount && blk.txCount != uint64(len(txs)) {
		return nil, blk.p.errf(ErrIncomplete, "transaction_count is %d but the export holds %d transactions of block %d", blk.txCount, len(txs), n)
	}
	byHash := make(map[string]int, len(txs))
	for i := range txs {
		if _, dup := byHash[txs[i].hash]; dup {
			return nil, withTx(txs[i].p.errf(ErrDuplicate, "transaction twice in block %d", n), txs[i].hash)
		}
		byHash[txs[i].hash] = i
	}

	// receipts
	for i := range r.rcBuf {
		rc := &r.rcBuf[i]
		ti, ok := byHash[rc.txHash]
		if !ok {
			return nil, withTx(rc.p.errf(ErrUnknownTx, "receipt of a transaction not in block %d", n), rc.txHash)
		}
		t := &txs[ti]
		if rc.txIndex != t.index {
			return nil, withTx(rc.p.errf(ErrInconsistent, "receipt says transaction index %d, the transaction says %d", rc.txIndex, t.index), rc.txHash)
		}
		if rc.blockHash != "" && rc.blockHash != blk.hash {
			return nil, withTx(rc.p.errf(ErrInconsistent, "receipt block_hash %s is not block %d's hash", rc.blockHash, n), rc.txHash)
		}
		if t.rcpt != nil && t.rcpt.p != t.p {
			return nil, withTx(rc.p.errf(ErrDuplicate, "second receipt of the transaction"), rc.txHash)
		}
		t.rcpt = rc // a receipts table row wins over merged receipt_* columns
	}

	// traces grouped by transaction; block-scoped ones apart
	perTx := make([][]ethTrace, len(txs))
	var blockTraces []ethTrace
	for _, tr := range r.trBuf {
		if tr.txIndex < 0 {
			blockTraces = append(blockTraces, tr)
			continue
		}
		if tr.txIndex >= int64(len(txs)) {
			return nil, withTx(tr.p.errf(ErrUnknownTx, "trace of transaction index %d, block %d has %d transactions", tr.txIndex, n, len(txs)), tr.txHash)
		}
		if tr.txHash != "" && tr.txHash != txs[tr.txIndex].hash {
			return nil, withTx(tr.p.errf(ErrInconsistent, "trace says transaction index %d, which is %s", tr.txIndex, txs[tr.txIndex].hash), tr.txHash)
		}
		perTx[tr.txIndex] = append(perTx[tr.txIndex], tr)
	}

	// token transfers grouped by transaction
	perTxTokens := make([][]ethTokenTransfer, len(txs))
	for _, tt := range r.ttBuf {
		ti, ok := byHash[tt.txHash]
		if !ok {
			return nil, withTx(tt.p.errf(ErrUnknownTx, "token transfer of a transaction not in block %d", n), tt.txHash)
		}
		perTxTokens[ti] = append(perTxTokens[ti], tt)
	}

	// the logs the link detectors read, grouped by transaction, in log index order
	var perTxEvents [][]ethLog
	if len(r.evBuf) > 0 {
		perTxEvents = make([][]ethLog, len(txs))
		for _, l := range r.evBuf {
			ti, ok := byHash[l.transfer.txHash]
			if !ok {
				return nil, withTx(l.transfer.p.errf(ErrUnknownTx, "log of a transaction not in block %d", n), l.transfer.txHash)
			}
			perTxEvents[ti] = append(perTxEvents[ti], l)
		}
	}

	b.AccountTxs = make([]graph.AccountTx, 0, len(txs)+1)
	for i := range txs {
		atx, err := r.transaction(n, &txs[i], perTx[i], perTxTokens[i])
		if err != nil {
			return nil, withTx(err, txs[i].hash)
		}
		if perTxEvents != nil && len(perTxEvents[i]) > 0 {
			if b.Links, err = r.detectLinks(n, &atx, perTxEvents[i], b.Links); err != nil {
				return nil, withTx(err, txs[i].hash)
			}
		}
		b.AccountTxs = append(b.AccountTxs, atx)
	}
	rewards, withdrawals, err := r.blockMints(blk, blockTraces)
	if err != nil {
		return nil, err
	}
	if len(rewards) > 0 {
		b.AccountTxs = append(b.AccountTxs, graph.AccountTx{
			Hash: blk.hash + ".rewards", Index: uint32(len(b.AccountTxs)), From: graph.ZeroAddress, Success: true, Transfers: rewards,
		})
	}
	if len(withdrawals) > 0 {
		b.AccountTxs = append(b.AccountTxs, graph.AccountTx{
			Hash: blk.hash + ".withdrawals", Index: uint32(len(b.AccountTxs)), From: graph.ZeroAddress, Success: true, Transfers: withdrawals,
		})
	}
	return b, nil
}

// detectLinks runs chains/ethereum's link detectors over a transaction and the logs of its
// link events (spec §15.10), as the RPC adapter does, and appends the parts to links. The
// detectors' warnings (an unusable event, a memo that does not parse) go to Options.Warn
// with the position of the event's log row.
func (r *ethReader) detectLinks(n uint64, atx *graph.AccountTx, events []ethLog, links []graph.LinkPart) ([]graph.LinkPart, error) {
	slices.SortFunc(events, func(a, b ethLog) int { return cmpU64(a.transfer.logIndex, b.transfer.logIndex) })
	logs := make([]ethereum.Log, len(events))
	for i := range events {
		if i > 0 && events[i-1].transfer.logIndex == events[i].transfer.logIndex {
			return links, events[i].transfer.p.errf(ErrDuplicate, "log index %d twice", events[i].transfer.logIndex)
		}
		logs[i] = *events[i].event
	}
	if !atx.Success {
		return links, events[0].transfer.p.errf(ErrInconsistent, "log in a failed transaction (failed transactions have no logs)")
	}
	parts, warns := ethereum.DetectLinks(n, atx, logs)
	for _, w := range warns {
		p := events[0].transfer.p
		for _, e := range events {
			if strings.Contains(w.Err.Error(), fmt.Sprintf(": log %d:", e.transfer.logIndex)) {
				p = e.transfer.p
				break
			}
		}
		r.opt.warn(Warning{File: p.file, Line: p.line, Block: n, Tx: atx.Hash, Msg: w.Err.Error()})
	}
	return append(links, parts...), nil
}

// transaction normalizes one transaction (spec §3.2).
func (r *ethReader) transaction(n uint64, t *ethTx, traces []ethTrace, tokens []ethTokenTransfer) (graph.AccountTx, error) {
	atx := graph.AccountTx{Hash: t.hash, Index: uint32(t.index), From: t.from, To: t.to}
	rc := t.rcpt
	if rc == nil {
		return atx, t.p.errf(ErrMissingReceipt, "no receipt (give a receipts table or receipt_* columns)")
	}

	// fee = gas used × effective gas price (+ blob gas) (+ L1 data fee on rollups)
	price := rc.effPrice
	if !rc.hasEffPrice {
		// Exports older than the effective_gas_price column: for a mined transaction the
		// node's gasPrice field already is the effective price (also for EIP-1559 ones).
		if !t.hasGasPrice {
			return atx, rc.p.errf(ErrMissingReceipt, "neither effective_gas_price nor gas_price: the fee is unknown")
		}
		price = t.gasPrice
	}
	var gas graph.Amount
	gas.SetUint64(rc.gasUsed)
	if _, o := atx.Fee.MulOverflow(&gas, &price); o {
		return atx, rc.p.errf(ErrBadValue, "fee overflows 256 bits")
	}
	if rc.hasBlob {
		var blob graph.Amount
		if _, o := blob.MulOverflow(&rc.blobGasUsed, &rc.blobGasPrice); o {
			return atx, rc.p.errf(ErrBadValue, "blob fee overflows 256 bits")
		}
		if _, o := atx.Fee.AddOverflow(&atx.Fee, &blob); o {
			return atx, rc.p.errf(ErrBadValue, "fee overflows 256 bits")
		}
	}
	if rc.hasL1Fee {
		if _, o := atx.Fee.AddOverflow(&atx.Fee, &rc.l1Fee); o {
			return atx, rc.p.errf(ErrBadValue, "fee overflows 256 bits")
		}
	}

	// traces in pre-order of the call tree = lexicographic trace_address order
	slices.SortFunc(traces, func(a, b ethTrace) int { return slices.Compare(a.addr, b.addr) })
	var top *ethTrace
	for i := range traces {
		if i > 0 && slices.Equal(traces[i-1].addr, traces[i].addr) {
			return atx, traces[i].p.errf(ErrDuplicate, "trace_address [%s] twice", joinAddr(traces[i].addr, ","))
		}
		if len(traces[i].addr) == 0 {
			top = &traces[i]
		}
	}

	// status: the receipt's; before Byzantium receipts have none and the top-level trace tells
	switch {
	case rc.status >= 0:
		atx.Success = rc.status == 1
		if top != nil && top.failed && atx.Success {
			return atx, top.p.errf(ErrInconsistent, "receipt status 1 but the top-level trace failed (%s)", clip(top.errText))
		}
	case top != nil:
		atx.Success = !top.failed
	default:
		atx.Success = true
		r.opt.warn(Warning{File: rc.p.file, Line: rc.p.line, Block: n, Tx: t.hash,
			Msg: "receipt has no status (pre-Byzantium) and there is no top-level trace: assumed successful"})
	}
	if top != nil && top.hasValue && !top.value.Eq(&t.value) {
		return atx, top.p.errf(ErrInconsistent, "top-level trace value %s differs from the transaction value %s", top.value.Dec(), t.value.Dec())
	}
	if !atx.Success {
		// A failed transaction moves nothing but its fee; it has no logs either.
		if len(tokens) > 0 {
			return atx, tokens[0].p.errf(ErrInconsistent, "token transfer in a failed transaction (failed transactions have no logs)")
		}
		return atx, nil
	}

	// 1. top-level call value; a contract creation pays the new contract
	to, kind := t.to, graph.KindCall
	if to == "" {
		to, kind = rc.contract, graph.KindCreate
		if to == "" && top != nil {
			to = top.to
		}
	}
	if !t.value.IsZero() {
		if to == "" {
			return atx, t.p.errf(ErrIncomplete, "contract creation with value but no contract address (receipt contract_address or create trace)")
		}
		atx.Transfers = append(atx.Transfers, graph.Transfer{
			ID: t.hash + ".0", Asset: graph.ETH, From: t.from, To: to, Amount: t.value, Kind: kind,
		})
	}

	// 2. internal transfers, pre-order; a failed frame reverts its whole subtree
	type frame struct {
		addr   []uint32
		failed bool
	}
	var stack []frame
	for i := range traces {
		tr := &traces[i]
		for len(stack) > 0 && !isPrefix(stack[len(stack)-1].addr, tr.addr) {
			stack = stack[:len(stack)-1]
		}
		failed := tr.failed || (len(stack) > 0 && stack[len(stack)-1].failed)
		stack = append(stack, frame{tr.addr, failed})
		if len(tr.addr) == 0 {
			continue // the top-level frame is the call value above: not counted twice
		}
		var kind graph.TransferKind
		switch tr.traceType {
		case "call":
			// Only CALL moves value. DELEGATECALL and STATICCALL move none (the value
			// column of a delegatecall repeats its context's); CALLCODE runs foreign code
			// on the caller's own balance, a transfer to itself (geth even names the code
			// address as to_address, which would be wrong).
			if tr.callType != "call" {
				continue
			}
			kind = graph.KindInternal
		case "create":
			kind = graph.KindCreate
		case "suicide":
			kind = graph.KindSelfDestruct
		}
		if !tr.hasValue || (kind == graph.KindSelfDestruct && (tr.from == "" || tr.to == "")) {
			if r.opt.AllowIncompleteTraces {
				r.opt.warn(Warning{File: tr.p.file, Line: tr.p.line, Block: n, Tx: t.hash,
					Msg: fmt.Sprintf("%s trace [%s] without value or addresses skipped: its transfer is missing", tr.traceType, joinAddr(tr.addr, ","))})
				continue
			}
			return atx, tr.p.errf(ErrIncompleteTrace, "%s trace [%s] has no value or addresses (geth SELFDESTRUCT as exported by ethereum-etl?); re-export with trace_block traces or set AllowIncompleteTraces", tr.traceType, joinAddr(tr.addr, ","))
		}
		if tr.value.IsZero() {
			continue
		}
		rev := failed
		if (tr.from == "" || tr.to == "") && !rev {
			return atx, tr.p.errf(ErrIncompleteTrace, "%s trace [%s] moves %s wei but lacks from or to address", tr.traceType, joinAddr(tr.addr, ","), tr.value.Dec())
		}
		atx.Transfers = append(atx.Transfers, graph.Transfer{
			ID: t.hash + ".t" + joinAddr(tr.addr, "_"), Asset: graph.ETH, From: tr.from, To: tr.to,
			Amount: tr.value, Kind: kind, Reverted: rev,
		})
	}

	// 3. token transfers by log index
	slices.SortFunc(tokens, func(a, b ethTokenTransfer) int { return cmpU64(a.logIndex, b.logIndex) })
	for i := range tokens {
		tt := &tokens[i]
		if i > 0 && tokens[i-1].logIndex == tt.logIndex {
			return atx, tt.p.errf(ErrDuplicate, "log index %d twice", tt.logIndex)
		}
		if tt.value.IsZero() || r.opt.NonFungibleTokens[tt.token] {
			continue
		}
		atx.Transfers = append(atx.Transfers, graph.Transfer{
			ID: t.hash + ".log" + strconv.FormatUint(tt.logIndex, 10), Asset: graph.Asset(tt.token),
			From: tt.from, To: tt.to, Amount: tt.value, Kind: graph.KindERC20,
		})
	}
	return atx, nil
}

// blockMints turns block-scoped movements into transfers of the block's pseudo-transaction:
// block and uncle rewards (Parity reward traces), genesis allocations, the DAO fork's
// irregular state change, then beacon-chain withdrawals by withdrawal index.
func (r *ethReader) blockMints(blk ethBlock, traces []ethTrace) (out, withdrawals []graph.Transfer, err error) {
	// Order: trace_index (stream) if all have one, else the trace_id suffix (reward_<block>_<k>),
	// else file order, so that CSV and JSON of the same export agree.
	slices.SortStableFunc(traces, func(a, b ethTrace) int {
		if a.traceIndex >= 0 && b.traceIndex >= 0 {
			return cmpI64(a.traceIndex, b.traceIndex)
		}
		return cmpI64(traceIDSeq(a.traceID), traceIDSeq(b.traceID))
	})
	for k, tr := range traces {
		if !tr.hasValue {
			return nil, nil, tr.p.errf(ErrIncompleteTrace, "%s trace without value", tr.traceType)
		}
		if tr.value.IsZero() || tr.failed {
			continue
		}
		if tr.to == "" {
			return nil, nil, tr.p.errf(ErrIncompleteTrace, "%s trace without to_address", tr.traceType)
		}
		t := graph.Transfer{Asset: graph.ETH, From: graph.ZeroAddress, To: tr.to, Amount: tr.value}
		switch tr.traceType {
		case "reward", "genesis":
			t.ID, t.Kind = blk.hash+".r"+strconv.Itoa(k), graph.KindReward
		case "daofork":
			if tr.from == "" {
				return nil, nil, tr.p.errf(ErrIncompleteTrace, "daofork trace without from_address")
			}
			t.ID, t.Kind, t.From = blk.hash+".daofork"+strconv.Itoa(k), graph.KindInternal, tr.from
		}
		out = append(out, t)
	}
	ws := slices.Clone(blk.withdrawals)
	slices.SortFunc(ws, func(a, b ethWithdrawal) int { return cmpU64(a.index, b.index) })
	gweiWei := graph.NewAmount(1_000_000_000)
	for i, w := range ws {
		if i > 0 && ws[i-1].index == w.index {
			return nil, nil, blk.p.errf(ErrDuplicate, "withdrawal index %d twice", w.index)
		}
		if w.gwei == 0 {
			continue
		}
		amt := graph.NewAmount(w.gwei)
		amt.Mul(&amt, &gweiWei)
		withdrawals = append(withdrawals, graph.Transfer{
			ID: blk.hash + ".w" + strconv.Itoa(i), Asset: graph.ETH, From: graph.ZeroAddress,
			To: w.address, Amount: amt, Kind: graph.KindWithdrawal,
		})
	}
	return out, withdrawals, nil
}

func traceIDSeq(id string) int64 {
	i := strings.LastIndexByte(id, '_')
	if i < 0 {
		return -1
	}
	n, err := strconv.ParseInt(id[i+1:], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func isPrefix(p, s []uint32) bool {
	return len(p) <= len(s) && slices.Equal(p, s[:len(p)])
}

func joinAddr(a []uint32, sep string) string {
	var b strings.Builder
	for i, v := range a {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	}
	return b.String()
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpI64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
