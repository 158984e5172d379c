package bitcoin_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/thorchain"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/stretchr/testify/require"
)

// testAddr is a regtest P2PKH address named after a role.
func testAddr(t testing.TB, name string) (graph.Address, []byte) {
	t.Helper()
	a, err := btcutil.NewAddressPubKeyHash(btcutil.Hash160([]byte(name)), &chaincfg.RegressionNetParams)
	require.NoError(t, err)
	s, err := txscript.PayToAddrScript(a)
	require.NoError(t, err)
	return graph.Address(a.EncodeAddress()), s
}

// memoScript is OP_RETURN <memo>, as THORChain's clients write it.
func memoScript(t testing.TB, memo string) []byte {
	t.Helper()
	s, err := txscript.NullDataScript([]byte(memo))
	require.NoError(t, err)
	return s
}

const inboundHash = "8f6bd5d6e0d9ad3c5cf34a2d25d5e6a0aa07c3a8e62c4a3ae9e0f2b9c8d7e6f5"

// out is one output of a test transaction: a payment to a role or a raw script.
type out struct {
	to     string // role; empty: script
	value  int64
	script []byte
}

// thorBlock builds a block: coinbase, a funding transaction paying one output per input
// role (spending an outpoint from before the block), then the transaction under test
// spending those outputs. The inputs' addresses are thus known from the block itself.
func thorBlock(t *testing.T, inputs []string, outs []out) (*wire.MsgBlock, string) {
	t.Helper()
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), []byte{0x51, 0x51}, nil))
	_, minerScript := testAddr(t, "miner")
	cb.AddTxOut(wire.NewTxOut(5_000_000_000, minerScript))
	fund := wire.NewMsgTx(2)
	fund.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{1}, 0), nil, nil))
	for _, role := range inputs {
		_, s := testAddr(t, role)
		fund.AddTxOut(wire.NewTxOut(1_000_000_000, s))
	}
	fh := fund.TxHash()
	tx := wire.NewMsgTx(2)
	for i := range inputs {
		tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&fh, uint32(i)), nil, nil))
	}
	for _, o := range outs {
		s := o.script
		if o.to != "" {
			_, s = testAddr(t, o.to)
		}
		tx.AddTxOut(wire.NewTxOut(o.value, s))
	}
	msg := &wire.MsgBlock{Header: wire.BlockHeader{Version: 4, Bits: 0x207fffff}, Transactions: []*wire.MsgTx{cb, fund, tx}}
	var utxs []*btcutil.Tx
	for _, x := range msg.Transactions {
		utxs = append(utxs, btcutil.NewTx(x))
	}
	msg.Header.MerkleRoot = blockchain.CalcMerkleRoot(utxs, false)
	return msg, tx.TxHash().String()
}

// memoText is the memo of a case's outputs, as THORChain reads it.
func memoText(t *testing.T, outs []out) string {
	t.Helper()
	var scripts [][]byte
	for _, o := range outs {
		scripts = append(scripts, o.script)
	}
	text, _, ok := bitcoin.ThorchainMemo(scripts)
	require.True(t, ok)
	return text
}

// detectBoth runs the detector through the in-place decoder and through the wire path and
// checks that they agree.
func detectBoth(t *testing.T, msg *wire.MsgBlock) ([]graph.LinkPart, []bitcoin.Warning) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, msg.Serialize(&buf))
	d := bitcoin.NewDecoder(&chaincfg.RegressionNetParams)
	b, err := d.Decode(buf.Bytes(), 7)
	require.NoError(t, err)
	warns := d.Warnings()
	wb, wwarns, err := bitcoin.NormalizeBlockWarnings(msg, 7, &chaincfg.RegressionNetParams)
	require.NoError(t, err)
	require.Equal(t, b.Links, wb.Links, "decoder and wire path agree on links")
	require.Equal(t, len(warns), len(wwarns))
	for i := range warns {
		require.Equal(t, warns[i].Error(), wwarns[i].Error())
	}
	return b.Links, warns
}

func TestThorchainDetect(t *testing.T) {
	vault, _ := testAddr(t, "vault")
	user, _ := testAddr(t, "user")
	omni := append([]byte{0x6a, 0x14}, []byte("omni\x00\x00\x00\x00\x00\x00\x00\x1f\x00\x00\x00\x00\x05\xf5\xe1\x00")...)
	runes := []byte{0x6a, 0x5d, 0x04, 0x14, 0x01, 0x00, 0x00}
	twoPushes := []byte{0x6a, 0x03, 'O', 'U', 'T', 0x01, ':'}
	swap := "SWAP:ETH.ETH:0x1f9840a85d5af5bf1d1762f925bdaddc4201f984"
	cases := []struct {
		name   string
		inputs []string
		outs   []out
		// want: kind of part (in/out), its key and legs (output indexes), or warning
		in, outLegs []int
		key         string
		warn        error
		warnOutput  int
	}{
		{name: "inbound swap, vault first", inputs: []string{"user"},
			outs: []out{{to: "vault", value: 300_000_000}, {value: 0, script: memoScript(t, swap)}, {to: "user", value: 699_990_000}},
			in:   []int{0}, key: "self"},
		{name: "inbound short form, change first", inputs: []string{"user", "user"},
			outs: []out{{to: "user", value: 1_000_000_000}, {to: "vault", value: 999_990_000}, {value: 0, script: memoScript(t, "=:e:0x1f9840a85d5af5bf1d1762f925bdaddc4201f984")}},
			in:   []int{1}, key: "self"},
		{name: "inbound memo split over two OP_RETURNs", inputs: []string{"user"},
			outs: []out{{to: "vault", value: 500_000_000}, {value: 0, script: memoScript(t, "SWAP:ETH.ETH:")}, {value: 0, script: memoScript(t, "0x1f9840a85d5af5bf1d1762f925bdaddc4201f984")}},
			in:   []int{0}, key: "self"},
		{name: "inbound add liquidity", inputs: []string{"user"},
			outs: []out{{value: 0, script: memoScript(t, "ADD:BTC.BTC")}, {to: "vault", value: 999_990_000}},
			in:   []int{1}, key: "self"},
		{name: "outbound", inputs: []string{"vault", "vault"},
			outs:    []out{{to: "user", value: 1_500_000_000}, {to: "vault", value: 499_980_000}, {value: 0, script: memoScript(t, "OUT:"+strings.ToUpper(inboundHash))}},
			outLegs: []int{0}, key: thorchain.LinkKey(inboundHash)},
		{name: "refund", inputs: []string{"vault"},
			outs:    []out{{to: "user", value: 999_980_000}, {value: 0, script: memoScript(t, "REFUND:"+inboundHash)}},
			outLegs: []int{0}, key: thorchain.LinkKey(inboundHash)},
		{name: "outbound paying two", inputs: []string{"vault"},
			outs:    []out{{to: "user", value: 400_000_000}, {to: "other", value: 500_000_000}, {to: "vault", value: 99_980_000}, {value: 0, script: memoScript(t, "OUT:"+inboundHash)}},
			outLegs: []int{0, 1}, key: thorchain.LinkKey(inboundHash)},
		{name: "migrate", inputs: []string{"vault"},
			outs: []out{{to: "vault2", value: 999_980_000}, {value: 0, script: memoScript(t, "MIGRATE:1234")}}},
		{name: "plain text OP_RETURN", inputs: []string{"user"},
			outs: []out{{to: "shop", value: 999_980_000}, {value: 0, script: memoScript(t, "hello: world")}}},
		{name: "omni", inputs: []string{"user"},
			outs: []out{{to: "shop", value: 999_980_000}, {value: 0, script: omni}}},
		{name: "runes", inputs: []string{"user"},
			outs: []out{{to: "shop", value: 999_980_000}, {value: 0, script: runes}}},
		{name: "two pushes are no memo", inputs: []string{"vault"},
			outs: []out{{to: "user", value: 999_980_000}, {value: 0, script: twoPushes}}},
		{name: "a lone letter is no memo", inputs: []string{"user"},
			outs: []out{{to: "shop", value: 999_980_000}, {value: 0, script: memoScript(t, "a")}}},
		{name: "ADD without a pool", inputs: []string{"user"},
			outs: []out{{to: "vault", value: 999_980_000}, {value: 0, script: memoScript(t, "ADD")}},
			warn: thorchain.ErrMemo, warnOutput: 1},
		{name: "malformed OUT", inputs: []string{"vault"},
			outs: []out{{to: "user", value: 999_980_000}, {value: 0, script: memoScript(t, "OUT:xyz")}},
			warn: thorchain.ErrMemo, warnOutput: 1},
		{name: "swap without asset", inputs: []string{"user"},
			outs: []out{{to: "vault", value: 999_980_000}, {value: 0, script: memoScript(t, "swap")}},
			warn: thorchain.ErrMemo, warnOutput: 1},
		{name: "outbound from two addresses", inputs: []string{"vault", "user"},
			outs: []out{{to: "other", value: 1_999_980_000}, {value: 0, script: memoScript(t, "OUT:"+inboundHash)}},
			warn: bitcoin.ErrVaultInputs, warnOutput: -1},
		{name: "outbound paying only the vault", inputs: []string{"vault"},
			outs: []out{{to: "vault", value: 999_980_000}, {value: 0, script: memoScript(t, "OUT:"+inboundHash)}},
			warn: bitcoin.ErrNoPayee, warnOutput: -1},
		{name: "inbound with three valued outputs", inputs: []string{"user"},
			outs: []out{{to: "vault", value: 300_000_000}, {to: "a", value: 300_000_000}, {to: "b", value: 300_000_000}, {value: 0, script: memoScript(t, swap)}},
			warn: bitcoin.ErrNotObserved, warnOutput: -1},
		{name: "inbound paying only the sender", inputs: []string{"user"},
			outs: []out{{to: "user", value: 999_980_000}, {value: 0, script: memoScript(t, swap)}},
			warn: bitcoin.ErrNotObserved, warnOutput: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg, txid := thorBlock(t, c.inputs, c.outs)
			links, warns := detectBoth(t, msg)
			if c.warn != nil {
				require.Empty(t, links)
				require.Len(t, warns, 1)
				require.ErrorIs(t, warns[0], c.warn)
				require.Equal(t, txid, warns[0].Tx)
				require.Equal(t, c.warnOutput, warns[0].Output)
				require.EqualValues(t, 7, warns[0].Height)
				require.Contains(t, warns[0].Error(), txid)
				return
			}
			require.Empty(t, warns)
			if c.in == nil && c.outLegs == nil {
				require.Empty(t, links)
				return
			}
			require.Len(t, links, 1)
			p := links[0]
			key := c.key
			if key == "self" {
				key = thorchain.LinkKey(txid)
			}
			legs := func(idx []int) []graph.Leg {
				var ls []graph.Leg
				for _, i := range idx {
					ls = append(ls, graph.Leg{Chain: graph.Bitcoin, Ref: fmt.Sprintf("%s:%d", txid, i)})
				}
				return ls
			}
			require.Equal(t, key, p.Key)
			require.Equal(t, graph.LinkThorchain, p.Kind)
			require.Equal(t, graph.Bitcoin, p.Chain)
			require.Equal(t, legs(c.in), p.In)
			require.Equal(t, legs(c.outLegs), p.Out)
			require.Equal(t, []graph.Address{vault}, p.Venues)
			require.Contains(t, p.Evidence, "bitcoin tx "+txid+": THORChain ")
			switch {
			case c.in != nil:
				require.Contains(t, p.Evidence, fmt.Sprintf("inbound memo %q (output", memoText(t, c.outs)))
				require.Contains(t, p.Evidence, fmt.Sprintf("paid to vault %s (output %d)", vault, c.in[0]))
			case c.name == "refund":
				require.Contains(t, p.Evidence, "refund memo")
			default:
				require.Contains(t, p.Evidence, "outbound memo")
				require.Contains(t, p.Evidence, "paid by vault "+string(vault))
			}
			_ = user
		})
	}
}

// Without the addresses the inputs spend, no link is guessed: a warning says so.
func TestThorchainInputsUnknown(t *testing.T) {
	msg, txid := thorBlock(t, []string{"vault"}, []out{{to: "user", value: 999_980_000}, {value: 0, script: memoScript(t, "OUT:"+inboundHash)}})
	b, err := bitcoin.NormalizeBlock(msg, 7, &chaincfg.RegressionNetParams)
	require.NoError(t, err)
	b.Links = nil
	// Detect on the transaction alone: its funding transaction is not in the block.
	b.UTXOTxs = []graph.UTXOTx{b.UTXOTxs[0], b.UTXOTxs[2]}
	text, output, ok := bitcoin.ThorchainMemo([][]byte{nil, memoScript(t, "OUT:"+inboundHash)})
	require.True(t, ok)
	memos := []bitcoin.TxMemo{{Tx: 1, Output: output, Text: text}}
	warns := bitcoin.DetectThorchain(b, memos, nil)
	require.Len(t, warns, 1)
	require.ErrorIs(t, warns[0], bitcoin.ErrInputsUnknown)
	require.Equal(t, txid, warns[0].Tx)
	require.Empty(t, b.Links)

	// With a lookup that knows the funding output, the part is made.
	vault, _ := testAddr(t, "vault")
	warns = bitcoin.DetectThorchain(b, memos, func(op graph.Outpoint) (graph.Address, bool) {
		return vault, op.TxID == msg.Transactions[1].TxHash().String() && op.Index == 0
	})
	require.Empty(t, warns)
	require.Len(t, b.Links, 1)
	require.Equal(t, []graph.Leg{{Chain: graph.Bitcoin, Ref: txid + ":0"}}, b.Links[0].Out)
}

func TestOPReturnData(t *testing.T) {
	long := bytes.Repeat([]byte{'a'}, 100)
	cases := []struct {
		script []byte
		want   []byte
		ok     bool
	}{
		{[]byte{0x6a, 0x03, 'a', 'b', 'c'}, []byte("abc"), true},
		{append([]byte{0x6a, 0x4c, 100}, long...), long, true},
		{append([]byte{0x6a, 0x4d, 100, 0}, long...), long, true},
		{append([]byte{0x6a, 0x4e, 100, 0, 0, 0}, long...), long, true},
		{[]byte{0x6a}, nil, false},
		{[]byte{0x6a, 0x00}, nil, false},                // OP_0: no data push
		{[]byte{0x6a, 0x5d, 0x01}, nil, false},          // OP_13 (runes)
		{[]byte{0x6a, 0x03, 'a', 'b'}, nil, false},      // push past the end
		{[]byte{0x6a, 0x02, 'a', 'b', 'c'}, nil, false}, // a byte after the push
		{[]byte{0x6a, 0x4e, 0xff, 0xff, 0xff, 0xff}, nil, false},
		{[]byte{0x76, 0x03, 'a', 'b', 'c'}, nil, false}, // not OP_RETURN
		{nil, nil, false},
	}
	for i, c := range cases {
		got, ok := bitcoin.OPReturnData(c.script)
		require.Equal(t, c.ok, ok, "case %d", i)
		require.Equal(t, c.want, got, "case %d", i)
	}
}

// Every action spelling the detector takes for THORChain's is one thorchain.ParseMemo knows.
func TestThorchainActionsKnown(t *testing.T) {
	for _, a := range bitcoin.ThorchainActions() {
		_, err := thorchain.ParseMemo(a)
		if err != nil {
			require.NotContains(t, err.Error(), "unknown action", a)
		}
		_, _, ok := bitcoin.ThorchainMemo([][]byte{memoScript(t, strings.ToLower(a)+":x")})
		require.True(t, ok, a)
	}
	_, err := thorchain.ParseMemo("NOSUCH:x")
	require.True(t, errors.Is(err, thorchain.ErrMemo) && strings.Contains(err.Error(), "unknown action"),
		"the check above can fail: ParseMemo still names unknown actions")
}

// FuzzThorchainMemo: any output scripts give a memo or none, never a panic, and a memo is
// detected (link or warning) without a panic whatever the block.
func FuzzThorchainMemo(f *testing.F) {
	f.Add([]byte{0x6a, 0x04, 'O', 'U', 'T', ':'}, []byte{0x6a, 0x02, 'a', 'b'}, int64(1000))
	f.Add([]byte("\x6a\x4c\x44OUT:8f6bd5d6e0d9ad3c5cf34a2d25d5e6a0aa07c3a8e62c4a3ae9e0f2b9c8d7e6f5"), []byte{}, int64(0))
	f.Add([]byte("\x6a\x0bSWAP:BTC.BT"), []byte("\x6a\x01C"), int64(5))
	f.Add([]byte{0x6a, 0x4e, 0xff, 0xff, 0xff}, []byte{0x6a}, int64(-1))
	f.Fuzz(func(t *testing.T, s1, s2 []byte, value int64) {
		if _, ok := bitcoin.OPReturnData(s1); ok && len(s1) < 2 {
			t.Fatal("data from a script without a push")
		}
		text, output, ok := bitcoin.ThorchainMemo([][]byte{s1, s2})
		if !ok {
			return
		}
		if output < 0 || output > 1 || text == "" {
			t.Fatalf("memo %q at output %d", text, output)
		}
		if value < 0 || value > btcutil.MaxSatoshi {
			value = 1
		}
		vault, _ := testAddr(t, "vault")
		b := &graph.Block{Chain: graph.Bitcoin, Height: 1, UTXOTxs: []graph.UTXOTx{{TxID: "aa", Index: 0,
			Inputs:  []graph.TxIn{{Prev: graph.Outpoint{TxID: "bb", Index: 0}, Address: vault, Resolved: true}},
			Outputs: []graph.TxOut{{Address: "x", Value: graph.NewAmount(uint64(value))}, {Unspendable: true}, {Unspendable: true}}}}}
		warns := bitcoin.DetectThorchain(b, []bitcoin.TxMemo{{Tx: 0, Output: output, Text: text}}, nil)
		if len(warns)+len(b.Links) > 1 {
			t.Fatalf("one memo gave %d warnings and %d parts", len(warns), len(b.Links))
		}
		for _, w := range warns {
			if !strings.Contains(w.Error(), "aa") {
				t.Fatalf("warning %v does not name the transaction", w)
			}
		}
	})
}

// BenchmarkDecodeThorchainBlock: a block of 1,000 THORChain transactions (inbound swaps
// and outbounds spending outputs of the block) through Decoder.Decode, detection included.
func BenchmarkDecodeThorchainBlock(b *testing.B) {
	_, vaultScript := testAddr(b, "vault")
	_, userScript := testAddr(b, "user")
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), []byte{0x51, 0x51}, nil))
	cb.AddTxOut(wire.NewTxOut(5_000_000_000, userScript))
	fund := wire.NewMsgTx(2)
	fund.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{1}, 0), nil, nil))
	const n = 500
	for i := 0; i < n; i++ {
		fund.AddTxOut(wire.NewTxOut(1_000_000, userScript))
		fund.AddTxOut(wire.NewTxOut(1_000_000, vaultScript))
	}
	fh := fund.TxHash()
	txs := []*wire.MsgTx{cb, fund}
	swap := memoScript(b, "=:ETH.ETH:0x1f9840a85d5af5bf1d1762f925bdaddc4201f984")
	for i := 0; i < n; i++ {
		in := wire.NewMsgTx(2)
		in.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&fh, uint32(2*i)), nil, nil))
		in.AddTxOut(wire.NewTxOut(900_000, vaultScript))
		in.AddTxOut(wire.NewTxOut(0, swap))
		in.AddTxOut(wire.NewTxOut(90_000, userScript))
		out := wire.NewMsgTx(2)
		out.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&fh, uint32(2*i+1)), nil, nil))
		out.AddTxOut(wire.NewTxOut(500_000, userScript))
		out.AddTxOut(wire.NewTxOut(490_000, vaultScript))
		out.AddTxOut(wire.NewTxOut(0, memoScript(b, fmt.Sprintf("OUT:%064x", i))))
		txs = append(txs, in, out)
	}
	msg := &wire.MsgBlock{Header: wire.BlockHeader{Version: 4}, Transactions: txs}
	var utxs []*btcutil.Tx
	for _, x := range txs {
		utxs = append(utxs, btcutil.NewTx(x))
	}
	msg.Header.MerkleRoot = blockchain.CalcMerkleRoot(utxs, false)
	var buf bytes.Buffer
	if err := msg.Serialize(&buf); err != nil {
		b.Fatal(err)
	}
	raw := buf.Bytes()
	d := bitcoin.NewDecoder(&chaincfg.RegressionNetParams)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		blk, err := d.Decode(raw, 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(blk.Links) != 2*n || len(d.Warnings()) != 0 {
			b.Fatalf("%d parts", len(blk.Links))
		}
	}
}
