package etl

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/graph"
)

// Column lists: ethereum-etl exporter fields (CSV header order), the extra fields of
// `ethereumetl stream` and of the public BigQuery tables (crypto_ethereum), so that any of
// those exports is accepted and anything else is reported as an unknown column.

func cols(extra []column, cs ...column) []column { return append(cs, extra...) }

func req(name string) column          { return column{name: name, required: true} }
func opt(name string) column          { return column{name: name} }
func list(name string, r bool) column { return column{name: name, required: r, kind: kList} }
func raw(name string) column          { return column{name: name, kind: kRaw} }

var ethBlocksSchema = newSchema("blocks", "block", cols(streamExtras,
	req("number"), req("hash"), opt("parent_hash"), opt("nonce"), opt("sha3_uncles"), opt("logs_bloom"),
	opt("transactions_root"), opt("state_root"), opt("receipts_root"), opt("miner"), opt("difficulty"),
	opt("total_difficulty"), opt("size"), opt("extra_data"), opt("gas_limit"), opt("gas_used"),
	req("timestamp"), opt("transaction_count"), opt("base_fee_per_gas"), opt("withdrawals_root"),
	raw("withdrawals"), opt("blob_gas_used"), opt("excess_blob_gas"))...)

var ethTxSchema = newSchema("transactions", "transaction", cols(streamExtras,
	req("hash"), opt("nonce"), opt("block_hash"), req("block_number"), req("transaction_index"),
	req("from_address"), req("to_address"), req("value"), opt("gas"), opt("gas_price"), opt("input"),
	opt("block_timestamp"), opt("max_fee_per_gas"), opt("max_priority_fee_per_gas"),
	opt("transaction_type"), opt("max_fee_per_blob_gas"), list("blob_versioned_hashes", false),
	// receipt fields merged into transactions by `ethereumetl stream` and in BigQuery
	opt("receipt_cumulative_gas_used"), opt("receipt_gas_used"), opt("receipt_contract_address"),
	opt("receipt_root"), opt("receipt_status"), opt("receipt_effective_gas_price"),
	opt("receipt_l1_fee"), opt("receipt_l1_gas_used"), opt("receipt_l1_gas_price"),
	opt("receipt_l1_fee_scalar"), opt("receipt_blob_gas_price"), opt("receipt_blob_gas_used"))...)

var ethReceiptSchema = newSchema("receipts", "receipt", cols(streamExtras,
	req("transaction_hash"), req("transaction_index"), opt("block_hash"), req("block_number"),
	opt("cumulative_gas_used"), req("gas_used"), opt("contract_address"), opt("root"), req("status"),
	opt("effective_gas_price"), opt("l1_fee"), opt("l1_gas_used"), opt("l1_gas_price"),
	opt("l1_fee_scalar"), opt("blob_gas_price"), opt("blob_gas_used"), opt("block_timestamp"))...)

var ethTraceSchema = newSchema("traces", "trace", cols(streamExtras,
	req("block_number"), opt("transaction_hash"), req("transaction_index"), req("from_address"),
	req("to_address"), req("value"), opt("input"), opt("output"), req("trace_type"), req("call_type"),
	opt("reward_type"), opt("gas"), opt("gas_used"), opt("subtraces"), list("trace_address", true),
	req("error"), opt("status"), opt("trace_id"), opt("trace_index"), opt("block_timestamp"),
	opt("block_hash"))...)

var ethTokenTransferSchema = newSchema("token_transfers", "token_transfer", cols(streamExtras,
	req("token_address"), req("from_address"), req("to_address"), req("value"),
	req("transaction_hash"), req("log_index"), req("block_number"), opt("block_timestamp"),
	opt("block_hash"))...)

var ethLogSchema = newSchema("logs", "log", cols(streamExtras,
	req("log_index"), req("transaction_hash"), opt("transaction_index"), opt("block_hash"),
	req("block_number"), req("address"), req("data"), list("topics", true), opt("block_timestamp"))...)

func fld(r *rowReader, c int) field {
	return field{p: r.pos(), name: r.sch.cols[c].name, s: r.row[c]}
}

// ---- blocks ----

type ethWithdrawal struct {
	index   uint64
	address graph.Address
	gwei    uint64
}

type ethBlock struct {
	p           pos
	number      uint64
	hash        string
	parent      string
	time        int64
	txCount     uint64
	hasTxCount  bool
	withdrawals []ethWithdrawal
}

var (
	cBlkNumber  = ethBlocksSchema.col("number")
	cBlkHash    = ethBlocksSchema.col("hash")
	cBlkParent  = ethBlocksSchema.col("parent_hash")
	cBlkTime    = ethBlocksSchema.col("timestamp")
	cBlkTxCount = ethBlocksSchema.col("transaction_count")
	cBlkWithdr  = ethBlocksSchema.col("withdrawals")
)

func parseEthBlock(r *rowReader) (b ethBlock, n uint64, err error) {
	b.p = r.pos()
	if b.number, err = fld(r, cBlkNumber).uint64(); err != nil {
		return b, 0, err
	}
	if b.hash, err = fld(r, cBlkHash).ethHash(); err != nil {
		return b, 0, err
	}
	if b.parent, err = fld(r, cBlkParent).optEthHash(); err != nil {
		return b, 0, err
	}
	if b.time, err = fld(r, cBlkTime).optTimestamp(); err != nil {
		return b, 0, err
	}
	if b.txCount, b.hasTxCount, err = fld(r, cBlkTxCount).optUint64(); err != nil {
		return b, 0, err
	}
	if b.withdrawals, err = parseWithdrawals(fld(r, cBlkWithdr)); err != nil {
		return b, 0, err
	}
	return b, b.number, nil
}

// parseWithdrawals reads the withdrawals list: a JSON array in JSON exports, the same
// objects joined by commas without brackets in ethereum-etl CSV.
func parseWithdrawals(f field) ([]ethWithdrawal, error) {
	s := strings.TrimSpace(f.s)
	if s == "" || s == "[]" {
		return nil, nil
	}
	if s[0] != '[' {
		s = "[" + s + "]"
	}
	var items []map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&items); err != nil || dec.More() {
		return nil, f.err("withdrawals are not a list of objects: %v", err)
	}
	out := make([]ethWithdrawal, 0, len(items))
	for i, it := range items {
		var w ethWithdrawal
		vals := map[string]string{}
		for k, v := range it {
			switch k {
			case "index", "validator_index", "address", "amount":
			default:
				return nil, &Error{File: f.p.file, Line: f.p.line, Column: f.name + "." + k,
					Err: fmt.Errorf("%w: %q is not a withdrawal field", ErrUnknownColumn, k)}
			}
			t, err := jsonText(v, kScalar)
			if err != nil {
				return nil, &Error{File: f.p.file, Line: f.p.line, Column: f.name + "." + k, Err: err}
			}
			vals[k] = t
		}
		sub := func(k string) field {
			return field{p: f.p, name: fmt.Sprintf("%s[%d].%s", f.name, i, k), s: vals[k]}
		}
		var err error
		if w.index, err = sub("index").uint64(); err != nil {
			return nil, err
		}
		if w.address, err = sub("address").ethAddress(); err != nil {
			return nil, err
		}
		if w.gwei, err = sub("amount").uint64(); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// ---- transactions (with receipt fields when merged) ----

type ethReceipt struct {
	p            pos
	txHash       string
	txIndex      uint64
	blockHash    string
	gasUsed      uint64
	status       int8 // 1, 0, or -1 when the receipt has none (before Byzantium)
	effPrice     graph.Amount
	hasEffPrice  bool
	contract     graph.Address
	blobGasUsed  graph.Amount
	blobGasPrice graph.Amount
	hasBlob      bool
	l1Fee        graph.Amount
	hasL1Fee     bool
}

type ethTx struct {
	p           pos
	hash        string
	blockHash   string
	index       uint64
	from, to    graph.Address
	value       graph.Amount
	gasPrice    graph.Amount
	hasGasPrice bool
	rcpt        *ethReceipt // merged receipt_* columns, nil when absent
}

var (
	cTxHash      = ethTxSchema.col("hash")
	cTxBlockHash = ethTxSchema.col("block_hash")
	cTxBlock     = ethTxSchema.col("block_number")
	cTxIndex     = ethTxSchema.col("transaction_index")
	cTxFrom      = ethTxSchema.col("from_address")
	cTxTo        = ethTxSchema.col("to_address")
	cTxValue     = ethTxSchema.col("value")
	cTxGasPrice  = ethTxSchema.col("gas_price")
	cTxRGasUsed  = ethTxSchema.col("receipt_gas_used")
	cTxRContract = ethTxSchema.col("receipt_contract_address")
	cTxRStatus   = ethTxSchema.col("receipt_status")
	cTxREff      = ethTxSchema.col("receipt_effective_gas_price")
	cTxRL1Fee    = ethTxSchema.col("receipt_l1_fee")
	cTxRBlobUsed = ethTxSchema.col("receipt_blob_gas_used")
	cTxRBlobPric = ethTxSchema.col("receipt_blob_gas_price")
)

func parseEthTx(r *rowReader) (t ethTx, n uint64, err error) {
	t.p = r.pos()
	if t.hash, err = fld(r, cTxHash).ethHash(); err != nil {
		return t, 0, err
	}
	if n, err = fld(r, cTxBlock).uint64(); err != nil {
		return t, 0, withTx(err, t.hash)
	}
	if t.blockHash, err = fld(r, cTxBlockHash).optEthHash(); err != nil {
		return t, 0, withTx(err, t.hash)
	}
	if t.index, err = fld(r, cTxIndex).uint64(); err != nil {
		return t, 0, withTx(err, t.hash)
	}
	if t.from, err = fld(r, cTxFrom).ethAddress(); err != nil {
		return t, 0, withTx(err, t.hash)
	}
	if t.to, err = fld(r, cTxTo).optEthAddress(); err != nil {
		return t, 0, withTx(err, t.hash)
	}
	if t.value, err = fld(r, cTxValue).amount(); err != nil {
		return t, 0, withTx(err, t.hash)
	}
	if t.gasPrice, t.hasGasPrice, err = fld(r, cTxGasPrice).optAmount(); err != nil {
		return t, 0, withTx(err, t.hash)
	}
	if r.row[cTxRGasUsed] != "" {
		rc := &ethReceipt{p: t.p, txHash: t.hash, txIndex: t.index, blockHash: t.blockHash}
		err = parseReceiptFields(rc, fld(r, cTxRGasUsed), fld(r, cTxRStatus), fld(r, cTxREff),
			fld(r, cTxRContract), fld(r, cTxRBlobUsed), fld(r, cTxRBlobPric), fld(r, cTxRL1Fee))
		if err != nil {
			return t, 0, withTx(err, t.hash)
		}
		t.rcpt = rc
	}
	return t, n, nil
}

func parseReceiptFields(rc *ethReceipt, gasUsed, status, eff, contract, blobUsed, blobPrice, l1 field) (err error) {
	if rc.gasUsed, err = gasUsed.uint64(); err != nil {
		return err
	}
	rc.status = -1
	if st, ok, err := status.optUint64(); err != nil {
		return err
	} else if ok {
		if st > 1 {
			return status.err("status %d is neither 0 nor 1", st)
		}
		rc.status = int8(st)
	}
	if rc.effPrice, rc.hasEffPrice, err = eff.optAmount(); err != nil {
		return err
	}
	if rc.contract, err = contract.optEthAddress(); err != nil {
		return err
	}
	var okU, okP bool
	if rc.blobGasUsed, okU, err = blobUsed.optAmount(); err != nil {
		return err
	}
	if rc.blobGasPrice, okP, err = blobPrice.optAmount(); err != nil {
		return err
	}
	if okU != okP && !(okU && rc.blobGasUsed.IsZero()) && !(okP && rc.blobGasPrice.IsZero()) {
		f := blobPrice
		if okP {
			f = blobUsed
		}
		return f.err("blob gas used and blob gas price must both be given")
	}
	rc.hasBlob = okU && okP
	if rc.l1Fee, rc.hasL1Fee, err = l1.optAmount(); err != nil {
		return err
	}
	return nil
}

// ---- receipts ----

var (
	cRcTx       = ethReceiptSchema.col("transaction_hash")
	cRcIndex    = ethReceiptSchema.col("transaction_index")
	cRcBlock    = ethReceiptSchema.col("block_number")
	cRcBlkHash  = ethReceiptSchema.col("block_hash")
	cRcGasUsed  = ethReceiptSchema.col("gas_used")
	cRcContract = ethReceiptSchema.col("contract_address")
	cRcStatus   = ethReceiptSchema.col("status")
	cRcEff      = ethReceiptSchema.col("effective_gas_price")
	cRcL1Fee    = ethReceiptSchema.col("l1_fee")
	cRcBlobUsed = ethReceiptSchema.col("blob_gas_used")
	cRcBlobPric = ethReceiptSchema.col("blob_gas_price")
)

func parseEthReceipt(r *rowReader) (rc ethReceipt, n uint64, err error) {
	rc.p = r.pos()
	if rc.txHash, err = fld(r, cRcTx).ethHash(); err != nil {
		return rc, 0, err
	}
	if n, err = fld(r, cRcBlock).uint64(); err != nil {
		return rc, 0, withTx(err, rc.txHash)
	}
	if rc.txIndex, err = fld(r, cRcIndex).uint64(); err != nil {
		return rc, 0, withTx(err, rc.txHash)
	}
	if rc.blockHash, err = fld(r, cRcBlkHash).optEthHash(); err != nil {
		return rc, 0, withTx(err, rc.txHash)
	}
	err = parseReceiptFields(&rc, fld(r, cRcGasUsed), fld(r, cRcStatus), fld(r, cRcEff),
		fld(r, cRcContract), fld(r, cRcBlobUsed), fld(r, cRcBlobPric), fld(r, cRcL1Fee))
	return rc, n, withTx(err, rc.txHash)
}

// ---- traces ----

type ethTrace struct {
	p          pos
	txHash     string
	txIndex    int64 // -1 for block-scoped traces (reward, genesis, daofork)
	from, to   graph.Address
	value      graph.Amount
	hasValue   bool
	traceType  string
	callType   string
	addr       []uint32
	failed     bool // error set or status 0 (parity sets status 0 under a failed parent too)
	errText    string
	traceID    string
	traceIndex int64 // -1 when absent
}

var (
	cTrBlock   = ethTraceSchema.col("block_number")
	cTrTx      = ethTraceSchema.col("transaction_hash")
	cTrTxIndex = ethTraceSchema.col("transaction_index")
	cTrFrom    = ethTraceSchema.col("from_address")
	cTrTo      = ethTraceSchema.col("to_address")
	cTrValue   = ethTraceSchema.col("value")
	cTrType    = ethTraceSchema.col("trace_type")
	cTrCall    = ethTraceSchema.col("call_type")
	cTrAddr    = ethTraceSchema.col("trace_address")
	cTrError   = ethTraceSchema.col("error")
	cTrStatus  = ethTraceSchema.col("status")
	cTrID      = ethTraceSchema.col("trace_id")
	cTrIndex   = ethTraceSchema.col("trace_index")
)

func parseEthTrace(r *rowReader) (t ethTrace, n uint64, err error) {
	t.p = r.pos()
	if n, err = fld(r, cTrBlock).uint64(); err != nil {
		return t, 0, err
	}
	if t.txHash, err = fld(r, cTrTx).optEthHash(); err != nil {
		return t, 0, err
	}
	t.txIndex = -1
	if i, ok, err := fld(r, cTrTxIndex).optUint64(); err != nil {
		return t, 0, withTx(err, t.txHash)
	} else if ok {
		if i > 1<<32 {
			return t, 0, withTx(fld(r, cTrTxIndex).err("transaction index %d out of range", i), t.txHash)
		}
		t.txIndex = int64(i)
	}
	if t.from, err = fld(r, cTrFrom).optEthAddress(); err != nil {
		return t, 0, withTx(err, t.txHash)
	}
	if t.to, err = fld(r, cTrTo).optEthAddress(); err != nil {
		return t, 0, withTx(err, t.txHash)
	}
	if t.value, t.hasValue, err = fld(r, cTrValue).optAmount(); err != nil {
		return t, 0, withTx(err, t.txHash)
	}
	t.traceType = r.row[cTrType]
	switch t.traceType {
	case "call", "create", "suicide":
		if t.txIndex < 0 {
			return t, 0, withTx(fld(r, cTrTxIndex).err("a %s trace needs a transaction index", t.traceType), t.txHash)
		}
	case "reward", "genesis", "daofork":
		if t.txIndex >= 0 || t.txHash != "" {
			return t, 0, fld(r, cTrType).err("a %s trace belongs to no transaction", t.traceType)
		}
	default:
		return t, 0, withTx(fld(r, cTrType).err("unknown trace type %q", clip(t.traceType)), t.txHash)
	}
	t.callType = r.row[cTrCall]
	switch t.callType {
	case "", "call", "callcode", "delegatecall", "staticcall":
	default:
		return t, 0, withTx(fld(r, cTrCall).err("unknown call type %q", clip(t.callType)), t.txHash)
	}
	if t.addr, err = parseTraceAddress(fld(r, cTrAddr)); err != nil {
		return t, 0, withTx(err, t.txHash)
	}
	t.errText = r.row[cTrError]
	t.failed = t.errText != ""
	if st, ok, err := fld(r, cTrStatus).optUint64(); err != nil {
		return t, 0, withTx(err, t.txHash)
	} else if ok {
		if st > 1 {
			return t, 0, withTx(fld(r, cTrStatus).err("status %d is neither 0 nor 1", st), t.txHash)
		}
		t.failed = t.failed || st == 0
	}
	t.traceID = r.row[cTrID]
	t.traceIndex = -1
	if i, ok, err := fld(r, cTrIndex).optUint64(); err != nil {
		return t, 0, withTx(err, t.txHash)
	} else if ok {
		if i >= 1<<62 {
			return t, 0, withTx(fld(r, cTrIndex).err("trace index %d out of range", i), t.txHash)
		}
		t.traceIndex = int64(i)
	}
	return t, n, nil
}

func parseTraceAddress(f field) ([]uint32, error) {
	s := strings.TrimSpace(f.s)
	s = strings.TrimPrefix(strings.TrimSuffix(s, "]"), "[") // tolerate "[0, 1]" in CSV
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]uint32, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(strings.TrimSpace(p), 10, 32)
		if err != nil {
			return nil, f.err("%q is not a list of call indexes", clip(f.s))
		}
		out[i] = uint32(v)
	}
	return out, nil
}

// ---- token transfers ----

type ethTokenTransfer struct {
	p        pos
	token    graph.Address
	from, to graph.Address
	value    graph.Amount
	txHash   string
	logIndex uint64
}

var (
	cTtToken = ethTokenTransferSchema.col("token_address")
	cTtFrom  = ethTokenTransferSchema.col("from_address")
	cTtTo    = ethTokenTransferSchema.col("to_address")
	cTtValue = ethTokenTransferSchema.col("value")
	cTtTx    = ethTokenTransferSchema.col("transaction_hash")
	cTtLog   = ethTokenTransferSchema.col("log_index")
	cTtBlock = ethTokenTransferSchema.col("block_number")
)

func parseEthTokenTransfer(r *rowReader) (t ethTokenTransfer, n uint64, err error) {
	t.p = r.pos()
	if t.txHash, err = fld(r, cTtTx).ethHash(); err != nil {
		return t, 0, err
	}
	if n, err = fld(r, cTtBlock).uint64(); err != nil {
		return t, 0, withTx(err, t.txHash)
	}
	if t.token, err = fld(r, cTtToken).ethAddress(); err != nil {
		return t, 0, withTx(err, t.txHash)
	}
	if t.from, err = fld(r, cTtFrom).ethAddress(); err != nil {
		return t, 0, withTx(err, t.txHash)
	}
	if t.to, err = fld(r, cTtTo).ethAddress(); err != nil {
		return t, 0, withTx(err, t.txHash)
	}
	if t.value, err = fld(r, cTtValue).amount(); err != nil {
		return t, 0, withTx(err, t.txHash)
	}
	if t.logIndex, err = fld(r, cTtLog).uint64(); err != nil {
		return t, 0, withTx(err, t.txHash)
	}
	return t, n, nil
}

// ---- logs ----

// transferTopic is keccak256("Transfer(address,address,uint256)"), shared by ERC-20 and ERC-721.
const transferTopic = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

var (
	cLgIndex = ethLogSchema.col("log_index")
	cLgTx    = ethLogSchema.col("transaction_hash")
	cLgBlock = ethLogSchema.col("block_number")
	cLgAddr  = ethLogSchema.col("address")
	cLgData  = ethLogSchema.col("data")
	cLgTopic = ethLogSchema.col("topics")
)

// ethLog keeps only what token transfers need: logs that are not Transfer events, and
// ERC-721 Transfer events (four topics: the token id is indexed), are dropped on reading;
// nft records that a Transfer log was dropped as non-fungible.
type ethLog struct {
	transfer ethTokenTransfer
	isToken  bool
	// event is set for a log the link detectors read (ethereum.IsLinkEvent).
	event *ethereum.Log
}

func parseEthLog(r *rowReader) (l ethLog, n uint64, err error) {
	p := r.pos()
	l.transfer.p = p
	txHash, err := fld(r, cLgTx).ethHash()
	if err != nil {
		return l, 0, err
	}
	if n, err = fld(r, cLgBlock).uint64(); err != nil {
		return l, 0, withTx(err, txHash)
	}
	if l.transfer.logIndex, err = fld(r, cLgIndex).uint64(); err != nil {
		return l, 0, withTx(err, txHash)
	}
	addr, err := fld(r, cLgAddr).ethAddress()
	if err != nil {
		return l, 0, withTx(err, txHash)
	}
	topicsF, dataF := fld(r, cLgTopic), fld(r, cLgData)
	var topics []string
	if topicsF.s != "" {
		topics = strings.Split(topicsF.s, ",")
	}
	for i, t := range topics {
		t = strings.ToLower(strings.TrimSpace(t))
		if len(t) != 66 || t[:2] != "0x" || !isHex(t[2:]) {
			return l, 0, withTx(topicsF.err("topic %q is not 0x followed by 64 hex digits", clip(t)), txHash)
		}
		topics[i] = t
	}
	data := strings.ToLower(dataF.s)
	if !strings.HasPrefix(data, "0x") || !isHex(data[2:]) || len(data)%2 != 0 {
		return l, 0, withTx(dataF.err("%q is not 0x-prefixed hex", clip(data)), txHash)
	}
	l.transfer.txHash = txHash
	if len(topics) > 0 && ethereum.IsLinkEvent(topics[0]) {
		b := make([]byte, (len(data)-2)/2)
		if _, err := hexDecode(b, data[2:]); err != nil {
			return l, 0, withTx(dataF.err("%v", err), txHash)
		}
		l.transfer.token = addr
		l.event = &ethereum.Log{Index: l.transfer.logIndex, Address: addr, Topics: topics, Data: b}
		return l, n, nil
	}
	// An ERC-20 Transfer has three topics (signature, from, to) and the amount as its one
	// 32-byte data word. ERC-721 indexes the token id too (four topics): not a fungible
	// amount, skipped. Other encodings (unindexed parameters) are skipped as well. This is
	// exactly the RPC adapter's rule (chains/ethereum), so both give the same Blocks.
	if len(topics) != 3 || topics[0] != transferTopic || len(data) != 2+64 {
		return l, n, nil
	}
	from, to := topics[1][2:], topics[2][2:]
	if strings.Trim(from[:24], "0") != "" || strings.Trim(to[:24], "0") != "" {
		return l, n, nil // "addresses" with dirty high bytes: not a standard Transfer
	}
	l.transfer.token = addr
	l.transfer.from = graph.Address("0x" + from[24:])
	l.transfer.to = graph.Address("0x" + to[24:])
	var v graph.Amount
	b := make([]byte, 32)
	if _, err := hexDecode(b, data[2:]); err != nil {
		return l, 0, withTx(dataF.err("bad value word: %v", err), txHash)
	}
	v.SetBytes32(b)
	l.transfer.value = v
	l.isToken = true
	return l, n, nil
}

func hexDecode(dst []byte, s string) (int, error) {
	if len(s) != 2*len(dst) {
		return 0, fmt.Errorf("want %d hex digits, have %d", 2*len(dst), len(s))
	}
	for i := range dst {
		hi, lo := unhex(s[2*i]), unhex(s[2*i+1])
		if hi > 15 || lo > 15 {
			return 0, fmt.Errorf("not hex")
		}
		dst[i] = hi<<4 | lo
	}
	return len(dst), nil
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}

// ---- contracts ----

var ethContractSchema = newSchema("contracts", "contract", cols(streamExtras,
	req("address"), opt("bytecode"), list("function_sighashes", false), opt("is_erc20"), req("is_erc721"),
	opt("block_number"), opt("block_timestamp"), opt("block_hash"))...)

var (
	cCtAddr   = ethContractSchema.col("address")
	cCtERC721 = ethContractSchema.col("is_erc721")
)

// ReadNonFungibleTokens reads an ethereum-etl contracts table (or BigQuery's
// crypto_ethereum.contracts) and returns the contracts flagged is_erc721: the
// Options.NonFungibleTokens to use when token transfers come from token_transfers.
// The table may be in any order.
func ReadNonFungibleTokens(ctx context.Context, src Source, opt Options) (map[graph.Address]bool, error) {
	rr, err := newRowReader(src, ethContractSchema, opt.IgnoreUnknownColumns)
	if err != nil {
		return nil, err
	}
	out := map[graph.Address]bool{}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		ok, err := rr.next()
		if err != nil || !ok {
			return out, err
		}
		is, _, err := fld(rr, cCtERC721).optBool()
		if err != nil {
			return nil, err
		}
		if !is {
			continue
		}
		a, err := fld(rr, cCtAddr).ethAddress()
		if err != nil {
			return nil, err
		}
		out[a] = true
	}
}
