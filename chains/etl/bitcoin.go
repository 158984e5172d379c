package etl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
)

// BitcoinExport names the tables of one bitcoin-etl export (JSON lines; bitcoin-etl has no
// CSV form because inputs and outputs are nested). Transactions is required. Blocks is
// optional: without it, blocks are formed from the transactions' block_number, block_hash
// and block_timestamp (a BigQuery export of crypto_bitcoin.transactions alone suffices).
// Both tables must be sorted by block number.
type BitcoinExport struct {
	Blocks       Source
	Transactions Source
	Options      Options
}

var btcBlocksSchema = newSchema("blocks", "block", cols(streamExtras,
	req("hash"), opt("size"), opt("stripped_size"), opt("weight"), req("number"), opt("version"),
	opt("merkle_root"), req("timestamp"), opt("timestamp_month"), opt("nonce"), opt("bits"),
	opt("coinbase_param"), opt("transaction_count"))...)

var btcTxSchema = newSchema("transactions", "transaction", cols(streamExtras,
	req("hash"), opt("size"), opt("virtual_size"), opt("version"), opt("lock_time"),
	req("block_number"), req("block_hash"), opt("block_timestamp"), opt("block_timestamp_month"),
	opt("is_coinbase"), opt("index"), raw("inputs"), raw("outputs"), opt("input_count"),
	opt("output_count"), opt("input_value"), opt("output_value"), opt("fee"))...)

var (
	cBbHash    = btcBlocksSchema.col("hash")
	cBbNumber  = btcBlocksSchema.col("number")
	cBbTime    = btcBlocksSchema.col("timestamp")
	cBbTxCount = btcBlocksSchema.col("transaction_count")

	cBtHash     = btcTxSchema.col("hash")
	cBtBlock    = btcTxSchema.col("block_number")
	cBtBlkHash  = btcTxSchema.col("block_hash")
	cBtBlkTime  = btcTxSchema.col("block_timestamp")
	cBtCoinbase = btcTxSchema.col("is_coinbase")
	cBtIndex    = btcTxSchema.col("index")
	cBtInputs   = btcTxSchema.col("inputs")
	cBtOutputs  = btcTxSchema.col("outputs")
	cBtInValue  = btcTxSchema.col("input_value")
	cBtOutValue = btcTxSchema.col("output_value")
	cBtInCount  = btcTxSchema.col("input_count")
	cBtOutCount = btcTxSchema.col("output_count")
)

type btcBlock struct {
	p          pos
	number     uint64
	hash       string
	time       int64
	txCount    uint64
	hasTxCount bool
}

func parseBtcBlock(r *rowReader) (b btcBlock, n uint64, err error) {
	b.p = r.pos()
	if b.hash, err = fld(r, cBbHash).btcHash(); err != nil {
		return b, 0, err
	}
	if b.number, err = fld(r, cBbNumber).uint64(); err != nil {
		return b, 0, err
	}
	if b.time, err = fld(r, cBbTime).optTimestamp(); err != nil {
		return b, 0, err
	}
	if b.txCount, b.hasTxCount, err = fld(r, cBbTxCount).optUint64(); err != nil {
		return b, 0, err
	}
	return b, b.number, nil
}

type btcTx struct {
	p         pos
	tx        graph.UTXOTx
	blockHash string
	blockTime int64
	hasIndex  bool
	index     uint64
	// memo is the transaction's THORChain memo (read from its OP_RETURN outputs' script_hex),
	// when it has one.
	memo    string
	memoOut int
	hasMemo bool
}

// addrCache remembers canonical forms of addresses already parsed: addresses repeat a lot
// and decoding base58/bech32 with checksums dominates otherwise.
type addrCache map[string]graph.Address

func (c addrCache) parse(f field, s string) (graph.Address, error) {
	if a, ok := c[s]; ok {
		return a, nil
	}
	a, err := graph.ParseAddress(graph.Bitcoin, s)
	if err != nil {
		return "", f.err("%w", err)
	}
	if len(c) >= 1<<16 {
		clear(c)
	}
	c[s] = a
	return a, nil
}

func parseBtcTx(r *rowReader, ignoreUnknown bool, cache addrCache) (t btcTx, n uint64, err error) {
	t.p = r.pos()
	if t.tx.TxID, err = fld(r, cBtHash).btcHash(); err != nil {
		return t, 0, err
	}
	h := t.tx.TxID
	if n, err = fld(r, cBtBlock).uint64(); err != nil {
		return t, 0, withTx(err, h)
	}
	if t.blockHash, err = fld(r, cBtBlkHash).btcHash(); err != nil {
		return t, 0, withTx(err, h)
	}
	if t.blockTime, err = fld(r, cBtBlkTime).optTimestamp(); err != nil {
		return t, 0, withTx(err, h)
	}
	if t.index, t.hasIndex, err = fld(r, cBtIndex).optUint64(); err != nil {
		return t, 0, withTx(err, h)
	}
	if t.hasIndex && t.index >= 1<<32 {
		return t, 0, withTx(fld(r, cBtIndex).err("index %d out of range", t.index), h)
	}
	t.tx.Index = uint32(t.index)
	if t.tx.Coinbase, _, err = fld(r, cBtCoinbase).optBool(); err != nil {
		return t, 0, withTx(err, h)
	}
	ins, err := parseNested(fld(r, cBtInputs), btcInputFields, ignoreUnknown)
	if err != nil {
		return t, 0, withTx(err, h)
	}
	outs, err := parseNested(fld(r, cBtOutputs), btcOutputFields, ignoreUnknown)
	if err != nil {
		return t, 0, withTx(err, h)
	}
	if c, ok, err := fld(r, cBtInCount).optUint64(); err != nil {
		return t, 0, withTx(err, h)
	} else if ok && c != uint64(len(ins)) && !(t.tx.Coinbase && len(ins) == 0) {
		return t, 0, withTx(fld(r, cBtInCount).err("input_count %d but %d inputs", c, len(ins)), h)
	}
	if c, ok, err := fld(r, cBtOutCount).optUint64(); err != nil {
		return t, 0, withTx(err, h)
	} else if ok && c != uint64(len(outs)) {
		return t, 0, withTx(fld(r, cBtOutCount).err("output_count %d but %d outputs", c, len(outs)), h)
	}

	// inputs: bitcoin-etl drops the coinbase input; tolerate it if present (no spent hash)
	var inSum graph.Amount
	allValued := true
	for i, in := range ins {
		f := in.field("spent_transaction_hash")
		if t.tx.Coinbase && f.empty() {
			continue
		}
		var txin graph.TxIn
		if txin.Prev.TxID, err = f.btcHash(); err != nil {
			return t, 0, withTx(err, h)
		}
		vout, err := in.field("spent_output_index").uint64()
		if err != nil {
			return t, 0, withTx(err, h)
		}
		if vout >= 1<<32 {
			return t, 0, withTx(in.field("spent_output_index").err("output index %d out of range", vout), h)
		}
		txin.Prev.Index = uint32(vout)
		if idx, ok, err := in.field("index").optUint64(); err != nil {
			return t, 0, withTx(err, h)
		} else if ok && idx != uint64(i) {
			return t, 0, withTx(in.field("index").err("input %d has index %d", i, idx), h)
		}
		// Enriched exports carry the spent output's value and addresses. An input is
		// resolved only when both are there and name one address; otherwise (raw export,
		// multisig, an enrichment that left a nonstandard script without address) the
		// store resolves it from its own outpoint index.
		v, hasV, err := in.field("value").optAmount()
		if err != nil {
			return t, 0, withTx(err, h)
		}
		if hasV {
			if _, o := inSum.AddOverflow(&inSum, &v); o {
				return t, 0, withTx(in.field("value").err("input sum overflows"), h)
			}
			if addrs := in.list("addresses"); len(addrs) == 1 {
				a, err := cache.parse(in.field("addresses"), addrs[0])
				if err != nil {
					return t, 0, withTx(err, h)
				}
				txin.Address, txin.Value, txin.Resolved = a, v, true
			}
		} else {
			allValued = false
		}
		t.tx.Inputs = append(t.tx.Inputs, txin)
	}
	if t.tx.Coinbase && len(t.tx.Inputs) > 0 {
		return t, 0, withTx(t.p.errf(ErrInconsistent, "coinbase transaction spends outputs"), h)
	}
	if !t.tx.Coinbase && len(t.tx.Inputs) == 0 {
		return t, 0, withTx(t.p.errf(ErrInconsistent, "transaction without inputs is not marked is_coinbase"), h)
	}

	var outSum graph.Amount
	var opReturns [][]byte // the OP_RETURN scripts, for a THORChain memo; nil when none
	for i, out := range outs {
		if idx, ok, err := out.field("index").optUint64(); err != nil {
			return t, 0, withTx(err, h)
		} else if ok && idx != uint64(i) {
			return t, 0, withTx(out.field("index").err("output %d has index %d", i, idx), h)
		}
		var o graph.TxOut
		if o.Value, err = out.field("value").amount(); err != nil {
			return t, 0, withTx(err, h)
		}
		if _, ov := outSum.AddOverflow(&outSum, &o.Value); ov {
			return t, 0, withTx(out.field("value").err("output sum overflows"), h)
		}
		script := strings.ToLower(out.field("script_hex").s)
		if !isHex(script) || len(script)%2 != 0 {
			return t, 0, withTx(out.field("script_hex").err("%q is not hex", clip(script)), h)
		}
		o.Unspendable = strings.HasPrefix(script, "6a") || out.field("type").s == "nulldata"
		if strings.HasPrefix(script, "6a") {
			if opReturns == nil {
				opReturns = make([][]byte, len(outs))
			}
			opReturns[i], _ = hex.DecodeString(script) // checked as hex above
		}
		if o.Address, err = outputAddress(out, script, cache); err != nil {
			return t, 0, withTx(err, h)
		}
		t.tx.Outputs = append(t.tx.Outputs, o)
	}

	if opReturns != nil {
		t.memo, t.memoOut, t.hasMemo = bitcoin.ThorchainMemo(opReturns)
	}

	// enriched totals must agree with the rows (raw exports have input_value 0 and a
	// negative fee: only checked when every input carries its value)
	if ov, ok, err := fld(r, cBtOutValue).optAmount(); err != nil {
		return t, 0, withTx(err, h)
	} else if ok && !ov.Eq(&outSum) {
		return t, 0, withTx(fld(r, cBtOutValue).p.errf(ErrInconsistent, "output_value %s but outputs sum to %s", ov.Dec(), outSum.Dec()), h)
	}
	if allValued && len(t.tx.Inputs) > 0 {
		if iv, ok, err := fld(r, cBtInValue).optAmount(); err != nil {
			return t, 0, withTx(err, h)
		} else if ok && !iv.Eq(&inSum) {
			return t, 0, withTx(fld(r, cBtInValue).p.errf(ErrInconsistent, "input_value %s but inputs sum to %s", iv.Dec(), inSum.Dec()), h)
		}
	}
	return t, n, nil
}

// outputAddress applies the address rule for outputs:
//   - one address: that address, canonical (graph.ParseAddress), including bitcoin-etl's
//     "nonstandard<hex>" pseudo-addresses, kept as written;
//   - none (a raw RPC mapping that skipped bitcoin-etl's fix-up) or several (bare multisig
//     as old bitcoind listed it): the pseudo-address bitcoin-etl gives scripts without one
//     address, "nonstandard" + the first 40 hex digits of sha256(script). So a bare multisig
//     output is one holding, as the script that guards it is one, and every export of it
//     (old or new bitcoind) names it the same way.
func outputAddress(out nested, script string, cache addrCache) (graph.Address, error) {
	addrs := out.list("addresses")
	if len(addrs) == 1 {
		return cache.parse(out.field("addresses"), addrs[0])
	}
	b, err := hex.DecodeString(script)
	if err != nil {
		return "", out.field("script_hex").err("%q is not hex", clip(script))
	}
	sum := sha256.Sum256(b)
	return graph.Address("nonstandard" + hex.EncodeToString(sum[:])[:40]), nil
}

var (
	btcInputFields  = fieldSet("inputs", "index", "spent_transaction_hash", "spent_output_index", "script_asm", "script_hex", "sequence", "required_signatures", "type", "addresses", "value")
	btcOutputFields = fieldSet("outputs", "index", "script_asm", "script_hex", "required_signatures", "type", "addresses", "value")
)

type nestedSchema struct {
	name   string
	fields map[string]bool
}

func fieldSet(name string, fields ...string) nestedSchema {
	m := make(map[string]bool, len(fields))
	for _, f := range fields {
		m[f] = true
	}
	return nestedSchema{name: name, fields: m}
}

// nested is one object of a nested list (an input, an output) as text fields.
type nested struct {
	p    pos
	name string // e.g. inputs[2]
	vals map[string]string
}

func (n nested) field(k string) field {
	return field{p: n.p, name: n.name + "." + k, s: n.vals[k]}
}

func (n nested) list(k string) []string {
	s := n.vals[k]
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func parseNested(f field, sch nestedSchema, ignoreUnknown bool) ([]nested, error) {
	if f.s == "" {
		return nil, nil
	}
	raw := []byte(f.s) // a kRaw value of a line that json.Valid accepted
	if raw[0] != '[' {
		return nil, f.err("not a list of objects")
	}
	var out []nested
	err := scanArray(raw, func(elem []byte) error {
		if elem[0] != '{' {
			return f.err("not a list of objects")
		}
		n := nested{p: f.p, name: fmt.Sprintf("%s[%d]", sch.name, len(out)), vals: make(map[string]string, 8)}
		err := scanObject(elem, func(key, v []byte) error {
			k := string(key)
			if !sch.fields[k] {
				if ignoreUnknown {
					return nil
				}
				return &Error{File: f.p.file, Line: f.p.line, Column: n.name + "." + k,
					Err: fmt.Errorf("%w: %q is not a field of %s", ErrUnknownColumn, clip(k), sch.name)}
			}
			kind := kScalar
			if k == "addresses" {
				kind = kList
			}
			s, err := jsonText(v, kind)
			if err != nil {
				return &Error{File: f.p.file, Line: f.p.line, Column: n.name + "." + k, Err: err}
			}
			n.vals[k] = s
			return nil
		})
		out = append(out, n)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReadBitcoinBlocks reads a whole export into memory. See ReadBitcoin for large ones.
func ReadBitcoinBlocks(ctx context.Context, src BitcoinExport) ([]graph.Block, error) {
	var out []graph.Block
	err := ReadBitcoin(ctx, src, func(b *graph.Block) error {
		out = append(out, *b)
		return nil
	})
	return out, err
}

// ReadBitcoin streams a bitcoin-etl export: fn receives each block in ascending height
// order; fn's error stops reading and is returned. The block passed to fn is fresh.
func ReadBitcoin(ctx context.Context, src BitcoinExport, fn func(*graph.Block) error) error {
	opt := &src.Options
	if src.Transactions.IsZero() {
		return &Error{Err: fmt.Errorf("%w: a Bitcoin export needs transactions", ErrMissingTable)}
	}
	for _, s := range []Source{src.Blocks, src.Transactions} {
		if !s.IsZero() && (s.Format == FormatCSV || (s.Format == FormatAuto && formatFromName(s.Name) == FormatCSV)) {
			return &Error{File: s.Name, Err: fmt.Errorf("%w: bitcoin-etl exports are JSON lines", ErrUnsupportedFormat)}
		}
	}
	var blocks *tableIter[btcBlock]
	if !src.Blocks.IsZero() {
		rr, err := newRowReader(src.Blocks, btcBlocksSchema, opt.IgnoreUnknownColumns)
		if err != nil {
			return err
		}
		if rr.format != FormatJSON {
			return &Error{File: src.Blocks.Name, Err: fmt.Errorf("%w: bitcoin-etl exports are JSON lines", ErrUnsupportedFormat)}
		}
		blocks = newTableIter(rr, parseBtcBlock)
	}
	rr, err := newRowReader(src.Transactions, btcTxSchema, opt.IgnoreUnknownColumns)
	if err != nil {
		return err
	}
	if rr.format != FormatJSON {
		return &Error{File: src.Transactions.Name, Err: fmt.Errorf("%w: bitcoin-etl exports are JSON lines", ErrUnsupportedFormat)}
	}
	cache := addrCache{}
	txs := newTableIter(rr, func(r *rowReader) (btcTx, uint64, error) { return parseBtcTx(r, opt.IgnoreUnknownColumns, cache) })

	var (
		prev     btcBlock
		havePrev bool
		buf      []btcTx
	)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var blk btcBlock
		if blocks != nil {
			if err := blocks.peek(); err != nil {
				return err
			}
			if !blocks.has {
				break
			}
			blk = blocks.item
			blocks.has = false
			if err := blocks.peek(); err != nil {
				return err // the blocks table's own order is checked before its rows are joined
			}
		} else {
			if err := txs.peek(); err != nil {
				return err
			}
			if !txs.has {
				break
			}
			t := txs.item
			blk = btcBlock{p: t.p, number: txs.block, hash: t.blockHash, time: t.blockTime}
		}
		if havePrev && blk.number <= prev.number {
			sentinel := ErrOutOfOrder
			if blk.number == prev.number {
				sentinel = ErrDuplicate
			}
			return &Error{File: blk.p.file, Line: blk.p.line, Block: blk.number, HasBlock: true,
				Err: fmt.Errorf("%w: block %d after block %d", sentinel, blk.number, prev.number)}
		}
		if buf, err = txs.take(blk.number, buf[:0]); err != nil {
			return err
		}
		b, err := btcAssemble(blk, buf, opt)
		if err != nil {
			return withBlock(err, blk.number)
		}
		if havePrev && prev.number == blk.number-1 {
			// bitcoin-etl blocks carry no previous-block hash; inside one export the
			// block below is the parent (exports hold the main chain only).
			b.Parent = prev.hash
		}
		prev, havePrev = blk, true
		if err := fn(b); err != nil {
			return err
		}
	}
	return txs.finish()
}

func btcAssemble(blk btcBlock, txs []btcTx, opt *Options) (*graph.Block, error) {
	b := &graph.Block{Chain: graph.Bitcoin, Height: blk.number, Hash: blk.hash, Time: blk.time}
	if len(txs) == 0 {
		return nil, blk.p.errf(ErrIncomplete, "block %d has no transactions in the export (every block has a coinbase)", blk.number)
	}
	indexed := txs[0].hasIndex
	for i := range txs {
		t := &txs[i]
		if t.hasIndex != indexed {
			return nil, withTx(t.p.errf(ErrMissingColumn, "index given for some transactions of block %d and not for others", blk.number), t.tx.TxID)
		}
		if t.blockHash != blk.hash {
			return nil, withTx(t.p.errf(ErrInconsistent, "block_hash %s is not block %d's hash %s", t.blockHash, blk.number, blk.hash), t.tx.TxID)
		}
	}
	if indexed {
		slices.SortStableFunc(txs, func(a, c btcTx) int { return cmpU64(a.index, c.index) })
		for i := range txs {
			if txs[i].index != uint64(i) {
				if i > 0 && txs[i-1].index == txs[i].index {
					return nil, withTx(txs[i].p.errf(ErrDuplicate, "transaction index %d twice", txs[i].index), txs[i].tx.TxID)
				}
				return nil, withTx(txs[i].p.errf(ErrIncomplete, "transaction index %d is missing from the export", i), txs[i].tx.TxID)
			}
		}
	} else {
		// BigQuery's transactions table has no position column. Put the coinbase first and
		// every transaction after the ones of this block it spends (the only order that
		// matters to UTXO tracing); Index is then the position in that order.
		order, err := btcDependencyOrder(txs)
		if err != nil {
			return nil, err
		}
		txs = order
		opt.warn(Warning{File: txs[0].p.file, Line: txs[0].p.line, Block: blk.number,
			Msg: "transactions have no index column: in-block order reconstructed (coinbase first, spends after the outputs they spend)"})
	}
	if blk.hasTxCount && blk.txCount != uint64(len(txs)) {
		return nil, blk.p.errf(ErrIncomplete, "transaction_count is %d but the export holds %d transactions of block %d", blk.txCount, len(txs), blk.number)
	}
	seen := make(map[string]bool, len(txs))
	b.UTXOTxs = make([]graph.UTXOTx, len(txs))
	for i := range txs {
		t := &txs[i]
		if seen[t.tx.TxID] {
			return nil, withTx(t.p.errf(ErrDuplicate, "transaction twice in block %d", blk.number), t.tx.TxID)
		}
		seen[t.tx.TxID] = true
		if t.tx.Coinbase != (i == 0) {
			return nil, withTx(t.p.errf(ErrInconsistent, "the coinbase must be the block's first transaction and only it (position %d, is_coinbase %v)", i, t.tx.Coinbase), t.tx.TxID)
		}
		b.UTXOTxs[i] = t.tx
		b.UTXOTxs[i].Index = uint32(i)
	}
	// THORChain links (chains/bitcoin.DetectThorchain): an enriched export names the
	// addresses the inputs spend, which say who sent an inbound and which vault paid an
	// outbound; a raw export does not, and its memos are warnings.
	var memos []bitcoin.TxMemo
	for i := range txs {
		if txs[i].hasMemo {
			memos = append(memos, bitcoin.TxMemo{Tx: i, Output: txs[i].memoOut, Text: txs[i].memo})
		}
	}
	for _, w := range bitcoin.DetectThorchain(b, memos, nil) {
		t := &txs[0]
		for i := range txs {
			if txs[i].tx.TxID == w.Tx {
				t = &txs[i]
			}
		}
		msg := w.Err.Error()
		if w.Output >= 0 {
			msg = fmt.Sprintf("output %d: %s", w.Output, msg)
		}
		opt.warn(Warning{File: t.p.file, Line: t.p.line, Block: blk.number, Tx: w.Tx, Msg: msg})
	}
	return b, nil
}

func btcDependencyOrder(txs []btcTx) ([]btcTx, error) {
	pos := make(map[string]int, len(txs))
	for i := range txs {
		pos[txs[i].tx.TxID] = i
	}
	out := make([]btcTx, 0, len(txs))
	state := make([]uint8, len(txs)) // 0 new, 1 visiting, 2 done
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return withTx(txs[i].p.errf(ErrInconsistent, "transactions of one block spend each other in a cycle"), txs[i].tx.TxID)
		case 2:
			return nil
		}
		state[i] = 1
		for _, in := range txs[i].tx.Inputs {
			if j, ok := pos[in.Prev.TxID]; ok && j != i {
				if err := visit(j); err != nil {
					return err
				}
			}
		}
		state[i] = 2
		out = append(out, txs[i])
		return nil
	}
	for i := range txs {
		if txs[i].tx.Coinbase {
			if err := visit(i); err != nil {
				return nil, err
			}
		}
	}
	for i := range txs {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}
