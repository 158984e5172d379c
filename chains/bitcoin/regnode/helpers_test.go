package regnode_test

import (
	"context"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/bitcoin/regnode"
	"github.com/stretchr/testify/require"
)

// sentTx is what a test sent and expects to find in the chain.
type sentTx struct {
	name   string
	txid   string
	height int32
	pays   []regnode.Payment
	fee    int64
	change int64  // change output after the payments; 0: none
	to     string // change address
}

// chainCase is a small laundering-shaped chain: legacy and segwit spends, a spend of a
// pending output in the same block, a transaction with both kinds of inputs, THORChain
// memos in OP_RETURN outputs, blocks at given times.
type chainCase struct {
	keys map[string]*regnode.Key
	txs  []sentTx
	tip  int32
}

// caseStart is the time of block 1 of the case.
var caseStart = time.Date(2025, 2, 21, 14, 0, 0, 0, time.UTC)

func startNode(t *testing.T) *regnode.Node {
	t.Helper()
	n, err := regnode.Start(context.Background(), regnode.Options{FirstBlockTime: caseStart})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.Close()) })
	return n
}

// buildCase plays the case on n:
//
//	blocks 1–101   coinbases to miner (P2PKH)
//	block 102      t1 miner → lazarus 30 BTC; t2 lazarus (t1's output, pending) → vault
//	               29.9 BTC + OP_RETURN "SWAP:ETH.ETH:0x…"
//	blocks 103–431 coinbases to miner; segwit becomes active for block 432
//	block 432      t3 miner → lazarus P2WPKH 5 BTC; t4 lazarus (P2PKH change of t2 and
//	               t3's P2WPKH output) → exchange 5.05 BTC; t5 vault → exchange P2WPKH
//	               10 BTC + OP_RETURN "OUT:<t2>"
//	block 433      empty, at a given time
func buildCase(t *testing.T, n *regnode.Node) *chainCase {
	t.Helper()
	ctx := context.Background()
	c := &chainCase{keys: map[string]*regnode.Key{}}
	for _, name := range []string{"miner", "lazarus", "vault", "exchange"} {
		c.keys[name] = regnode.NewKey(name)
	}
	miner, laz, vault, exch := c.keys["miner"], c.keys["lazarus"], c.keys["vault"], c.keys["exchange"]
	// change is the change output the test computes by hand from the coins the key holds
	// (Send spends oldest first).
	send := func(name string, from *regnode.Key, pays []regnode.Payment, fee, change int64) {
		t.Helper()
		txid, err := n.Send(ctx, from, pays, fee)
		require.NoError(t, err, name)
		c.txs = append(c.txs, sentTx{name: name, txid: txid, height: n.Height() + 1, pays: pays, fee: fee, change: change, to: from.P2PKH()})
	}
	_, err := n.Mine(ctx, 101, miner.P2PKH())
	require.NoError(t, err)

	// t1 spends block 1's coinbase (50 BTC).
	send("t1", miner, []regnode.Payment{{To: laz.P2PKH(), Value: 30 * regnode.BTC}}, 10_000, 19_99_990_000)
	send("t2", laz, []regnode.Payment{
		{To: vault.P2PKH(), Value: 29_90_000_000},
		{Memo: []byte("SWAP:ETH.ETH:0x1f9840a85d5af5bf1d1762f925bdaddc4201f984")},
	}, 5_000, 9_995_000)
	_, err = n.MineTxs(ctx, caseStart.Add(101*10*time.Minute+3*time.Minute))
	require.NoError(t, err)

	_, err = n.MineTo(ctx, regnode.SegwitHeight-1, miner.P2PKH())
	require.NoError(t, err)
	require.EqualValues(t, regnode.SegwitHeight-1, n.Height())

	// t3 spends block 2's coinbase; t4 spends t2's change (0.09995 BTC) and t3's 5 BTC.
	send("t3", miner, []regnode.Payment{{To: laz.P2WPKH(), Value: 5 * regnode.BTC}}, 1_000, 44_99_999_000)
	send("t4", laz, []regnode.Payment{{To: exch.P2PKH(), Value: 5_05_000_000}}, 2_000, 4_993_000)
	send("t5", vault, []regnode.Payment{
		{To: exch.P2WPKH(), Value: 10 * regnode.BTC},
		{Memo: []byte("OUT:" + c.txs[1].txid)},
	}, 3_000, 19_89_997_000)
	_, err = n.MineTxsTo(ctx, n.TipTime().Add(7*time.Minute), exch.P2WPKH())
	require.NoError(t, err)
	_, err = n.MineTxs(ctx, n.TipTime().Add(time.Hour))
	require.NoError(t, err)
	c.tip = n.Height()
	require.EqualValues(t, regnode.SegwitHeight+1, c.tip)
	return c
}
