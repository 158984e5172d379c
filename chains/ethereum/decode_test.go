package ethereum_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/chaintrace/chaintrace/chains/ethereum"
	"github.com/chaintrace/chaintrace/graph"
)

// Hand-written JSON-RPC results for the edge cases a real dev chain does not produce (old
// receipts, blob fees, ERC-721 logs, malformed and inconsistent responses).

const (
	hBlock  = "0x1111111111111111111111111111111111111111111111111111111111111111"
	hParent = "0x2222222222222222222222222222222222222222222222222222222222222222"
	hTx     = "0x3333333333333333333333333333333333333333333333333333333333333333"
	aFrom   = "0x00000000000000000000000000000000000000a1"
	aTo     = "0x00000000000000000000000000000000000000b2"
	aToken  = "0x00000000000000000000000000000000000000c3"
	aNew    = "0x00000000000000000000000000000000000000d4"
)

type obj = map[string]any

func topic(a string) string { return "0x000000000000000000000000" + a[2:] }

func baseCase() (block, receipt, trace obj) {
	block = obj{"number": "0x10", "hash": hBlock, "parentHash": hParent, "timestamp": "0x64",
		"transactions": []any{obj{"hash": hTx, "transactionIndex": "0x0", "from": aFrom, "to": aTo, "value": "0x5", "gasPrice": "0x9"}}}
	receipt = obj{"transactionHash": hTx, "transactionIndex": "0x0", "blockHash": hBlock, "status": "0x1",
		"gasUsed": "0x5208", "effectiveGasPrice": "0x7", "logs": []any{}}
	trace = obj{"txHash": hTx, "result": obj{"type": "CALL", "from": aFrom, "to": aTo, "value": "0x5"}}
	return
}

func decode(t *testing.T, block, receipt, trace obj) (*ethereum.Decoded, error) {
	t.Helper()
	b, _ := json.Marshal(block)
	var rs, ts []byte
	if receipt != nil {
		rs, _ = json.Marshal([]any{receipt})
	} else {
		rs = []byte("[]")
	}
	if trace != nil {
		ts, _ = json.Marshal([]any{trace})
	}
	return ethereum.DecodeBlock(b, rs, ts)
}

func TestDecodeCases(t *testing.T) {
	transferLog := func(idx string, topics ...string) obj {
		return obj{"address": aToken, "topics": topics, "data": "0x" + strings.Repeat("0", 62) + "2a", "logIndex": idx}
	}
	cases := []struct {
		name    string
		edit    func(b, r, tr obj)
		noTrace bool
		check   func(t *testing.T, d *ethereum.Decoded)
		err     error // wanted sentinel
		errHas  string
	}{
		{name: "plain call: fee from effectiveGasPrice", check: func(t *testing.T, d *ethereum.Decoded) {
			tx := d.Block.AccountTxs[0]
			if tx.Fee.Uint64() != 21000*7 || !tx.Success || len(tx.Transfers) != 1 || tx.Transfers[0].ID != hTx+".0" || tx.Transfers[0].Amount.Uint64() != 5 {
				t.Errorf("%+v", tx)
			}
			if d.Block.Height != 16 || d.Block.Time != 100 || d.Block.Parent != hParent {
				t.Errorf("%+v", d.Block)
			}
		}},
		{name: "no effectiveGasPrice: gasPrice", edit: func(b, r, tr obj) { delete(r, "effectiveGasPrice") }, check: func(t *testing.T, d *ethereum.Decoded) {
			if d.Block.AccountTxs[0].Fee.Uint64() != 21000*9 {
				t.Errorf("fee %s", d.Block.AccountTxs[0].Fee.Dec())
			}
		}},
		{name: "blob fee added", edit: func(b, r, tr obj) { r["blobGasUsed"], r["blobGasPrice"] = "0x20000", "0x3" }, check: func(t *testing.T, d *ethereum.Decoded) {
			if d.Block.AccountTxs[0].Fee.Uint64() != 21000*7+0x20000*3 {
				t.Errorf("fee %s", d.Block.AccountTxs[0].Fee.Dec())
			}
		}},
		{name: "failed: fee only", edit: func(b, r, tr obj) {
			r["status"] = "0x0"
			tr["result"].(obj)["error"] = "execution reverted"
		}, check: func(t *testing.T, d *ethereum.Decoded) {
			tx := d.Block.AccountTxs[0]
			if tx.Success || len(tx.Transfers) != 0 || tx.Fee.IsZero() {
				t.Errorf("%+v", tx)
			}
		}},
		{name: "pre-Byzantium failure from the trace", edit: func(b, r, tr obj) {
			delete(r, "status")
			tr["result"].(obj)["error"] = "out of gas"
		}, check: func(t *testing.T, d *ethereum.Decoded) {
			if d.Block.AccountTxs[0].Success || len(d.Warnings) != 0 {
				t.Errorf("%+v %v", d.Block.AccountTxs[0], d.Warnings)
			}
		}},
		{name: "pre-Byzantium without trace: assumed success, warned", noTrace: true, edit: func(b, r, tr obj) { delete(r, "status") },
			check: func(t *testing.T, d *ethereum.Decoded) {
				if !d.Block.AccountTxs[0].Success || !hasWarning(d, ethereum.ErrStatusUnknown) || !hasWarning(d, ethereum.ErrNoTraces) {
					t.Errorf("%+v %v", d.Block.AccountTxs[0], d.Warnings)
				}
			}},
		{name: "trace failed for the tx: warned", edit: func(b, r, tr obj) { delete(tr, "result"); tr["error"] = "execution timeout" },
			check: func(t *testing.T, d *ethereum.Decoded) {
				if !hasWarning(d, ethereum.ErrTraceFailed) || len(d.Block.AccountTxs[0].Transfers) != 1 {
					t.Errorf("%+v %v", d.Block.AccountTxs[0], d.Warnings)
				}
			}},
		{name: "contract creation with value", edit: func(b, r, tr obj) {
			delete(b["transactions"].([]any)[0].(obj), "to")
			r["contractAddress"] = aNew
		}, check: func(t *testing.T, d *ethereum.Decoded) {
			x := d.Block.AccountTxs[0].Transfers[0]
			if d.Block.AccountTxs[0].To != "" || x.To != aNew || x.Kind != graph.KindCreate {
				t.Errorf("%+v", d.Block.AccountTxs[0])
			}
		}},
		{name: "ERC-20 kept, ERC-721 and other events skipped", edit: func(b, r, tr obj) {
			r["logs"] = []any{
				transferLog("0x3", ethereum.TransferTopic, topic(aFrom), topic(aTo)),
				transferLog("0x4", ethereum.TransferTopic, topic(aFrom), topic(aTo), topic(aNew)), // ERC-721
				transferLog("0x5", "0x"+strings.Repeat("e", 64), topic(aFrom), topic(aTo)),
				transferLog("0x6", strings.ToUpper(ethereum.TransferTopic[:2])+ethereum.TransferTopic[2:], topic(aTo), topic(aNew)),
			}
		}, check: func(t *testing.T, d *ethereum.Decoded) {
			ts := d.Block.AccountTxs[0].Transfers
			if len(ts) != 3 || ts[1].ID != hTx+".log3" || ts[1].Asset != aToken || ts[1].Amount.Uint64() != 42 || ts[2].ID != hTx+".log6" {
				t.Errorf("%+v", ts)
			}
		}},
		{name: "internal frames: delegatecall value ignored, reverted subtree marked", edit: func(b, r, tr obj) {
			tr["result"].(obj)["calls"] = []any{
				obj{"type": "DELEGATECALL", "from": aTo, "to": aNew, "value": "0x5"},
				obj{"type": "CALL", "from": aTo, "to": aNew, "value": "0x2", "error": "execution reverted",
					"calls": []any{obj{"type": "CALL", "from": aNew, "to": aFrom, "value": "0x1"}}},
				obj{"type": "CREATE2", "from": aTo, "to": aNew, "value": "0x3"},
			}
		}, check: func(t *testing.T, d *ethereum.Decoded) {
			ts := d.Block.AccountTxs[0].Transfers
			if len(ts) != 4 || ts[1].ID != hTx+".t1" || !ts[1].Reverted || ts[2].ID != hTx+".t1_0" || !ts[2].Reverted ||
				ts[3].ID != hTx+".t2" || ts[3].Reverted || ts[3].Kind != graph.KindCreate {
				t.Errorf("%+v", ts)
			}
		}},
		{name: "withdrawals in Gwei become wei mints after the txs", edit: func(b, r, tr obj) {
			b["withdrawals"] = []any{obj{"index": "0x1", "validatorIndex": "0x2", "address": aTo, "amount": "0x3"},
				obj{"index": "0x2", "validatorIndex": "0x2", "address": aTo, "amount": "0x0"}}
		}, check: func(t *testing.T, d *ethereum.Decoded) {
			w := d.Block.AccountTxs[1]
			if w.Hash != hBlock+".withdrawals" || w.Index != 1 || len(w.Transfers) != 1 || w.Transfers[0].Amount.Uint64() != 3e9 ||
				w.Transfers[0].From != graph.ZeroAddress || w.Transfers[0].Kind != graph.KindWithdrawal || w.Transfers[0].ID != hBlock+".w0" {
				t.Errorf("%+v", w)
			}
		}},
		{name: "proof-of-work block: rewards warned", edit: func(b, r, tr obj) { b["difficulty"] = "0x1" }, check: func(t *testing.T, d *ethereum.Decoded) {
			if !hasWarning(d, ethereum.ErrRewardsOmitted) {
				t.Errorf("%v", d.Warnings)
			}
		}},
		{name: "mixed-case hashes and addresses are canonicalized", edit: func(b, r, tr obj) {
			b["hash"] = strings.ToUpper(hBlock[:2]) + "AB" + hBlock[4:]
			r["blockHash"] = b["hash"]
		}, check: func(t *testing.T, d *ethereum.Decoded) {
			if d.Block.Hash != "0xab"+hBlock[4:] {
				t.Errorf("%s", d.Block.Hash)
			}
		}},
		{name: "receipt of another tx", edit: func(b, r, tr obj) { r["transactionHash"] = hParent }, err: ethereum.ErrInconsistent, errHas: "receipt is for transaction"},
		{name: "receipt from another block", edit: func(b, r, tr obj) { r["blockHash"] = hParent }, err: ethereum.ErrInconsistent, errHas: "reorg"},
		{name: "status 1 but trace error", edit: func(b, r, tr obj) { tr["result"].(obj)["error"] = "boom" }, err: ethereum.ErrInconsistent},
		{name: "missing receipts", edit: func(b, r, tr obj) {}, err: ethereum.ErrInconsistent, errHas: "1 transactions but 0 receipts"},
		{name: "bad value", edit: func(b, r, tr obj) { b["transactions"].([]any)[0].(obj)["value"] = "12" }, err: ethereum.ErrMalformed},
		{name: "value over 256 bits", edit: func(b, r, tr obj) { b["transactions"].([]any)[0].(obj)["value"] = "0x1" + strings.Repeat("0", 64) }, err: ethereum.ErrMalformed},
		{name: "bad from address", edit: func(b, r, tr obj) { b["transactions"].([]any)[0].(obj)["from"] = "0x12" }, err: ethereum.ErrMalformed, errHas: "from"},
		{name: "bad checksum", edit: func(b, r, tr obj) {
			b["transactions"].([]any)[0].(obj)["to"] = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD" // one letter's case flipped
		}, err: ethereum.ErrMalformed},
		{name: "unknown frame type", edit: func(b, r, tr obj) { tr["result"].(obj)["calls"] = []any{obj{"type": "TELEPORT", "value": "0x1"}} }, err: ethereum.ErrMalformed, errHas: "TELEPORT"},
		{name: "no gasUsed", edit: func(b, r, tr obj) { delete(r, "gasUsed") }, err: ethereum.ErrMalformed, errHas: "gasUsed"},
		{name: "fee overflow", edit: func(b, r, tr obj) {
			r["gasUsed"], r["effectiveGasPrice"] = "0x"+strings.Repeat("f", 40), "0x"+strings.Repeat("f", 40)
		}, err: ethereum.ErrOverflow},
		{name: "null block", edit: func(b, r, tr obj) { delete(b, "number") }, err: ethereum.ErrMalformed, errHas: "no number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, r, tr := baseCase()
			if c.edit != nil {
				c.edit(b, r, tr)
			}
			if c.name == "missing receipts" {
				r = nil
			}
			if c.noTrace {
				tr = nil
			}
			d, err := decode(t, b, r, tr)
			if c.err != nil {
				if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("error %v, want %v containing %q", err, c.err, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, d)
		})
	}
}

func hasWarning(d *ethereum.Decoded, kind error) bool {
	for _, w := range d.Warnings {
		if errors.Is(w, kind) {
			return true
		}
	}
	return false
}
