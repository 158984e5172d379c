package regnode_test

import (
	"context"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/regnode"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/stretchr/testify/require"
)

// The case's chain, ingested through chaintrace's own Bitcoin RPC source into a store,
// holds what was sent: every transaction in its block in order, its payments as outputs
// (OP_RETURN memos unspendable, with no address), the hand-computed change, the fee, and
// coinbases paying the subsidy plus the block's fees.
func TestIngestOverRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard
	defer cancel()
	n := startNode(t)
	c := buildCase(t, n)

	rpc, err := bitcoin.DialRPC(ctx, n.RPCConfig())
	require.NoError(t, err)
	defer rpc.Close()
	st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true})
	require.NoError(t, err)
	defer st.Close()
	stats, err := bitcoin.Ingest(ctx, st, rpc, bitcoin.IngestOptions{})
	require.NoError(t, err)
	require.EqualValues(t, c.tip, stats.Tip)
	require.Equal(t, int(c.tip)+1, stats.Written) // genesis included

	byHeight := map[int32][]sentTx{}
	for _, s := range c.txs {
		byHeight[s.height] = append(byHeight[s.height], s)
	}
	for h := int32(0); h <= c.tip; h++ {
		b, err := st.Block(ctx, graph.Bitcoin, uint64(h))
		require.NoError(t, err)
		raw, err := n.RawBlock(h)
		require.NoError(t, err)
		want, err := bitcoin.DecodeBlock(raw, uint64(h), n.Params())
		require.NoError(t, err)
		require.Equal(t, want.Hash, b.Hash, "block %d", h)
		if h == 0 {
			continue
		}
		sent := byHeight[h]
		require.Len(t, b.UTXOTxs, 1+len(sent), "block %d", h)
		cb := b.UTXOTxs[0]
		require.True(t, cb.Coinbase)
		var fees int64
		for i, s := range sent {
			tx := b.UTXOTxs[1+i]
			require.Equal(t, s.txid, tx.TxID, "block %d tx %d (%s)", h, 1+i, s.name)
			fees += s.fee
			wantOuts := len(s.pays)
			if s.change > 0 {
				wantOuts++
			}
			require.Len(t, tx.Outputs, wantOuts, s.name)
			for j, p := range s.pays {
				o := tx.Outputs[j]
				require.Equal(t, uint64(p.Value), o.Value.Uint64(), "%s output %d", s.name, j)
				if p.Memo != nil {
					require.True(t, o.Unspendable, "%s output %d: OP_RETURN", s.name, j)
					require.Empty(t, o.Address, "%s output %d", s.name, j)
				} else {
					require.False(t, o.Unspendable, "%s output %d", s.name, j)
					require.Equal(t, graph.Address(p.To), o.Address, "%s output %d", s.name, j)
				}
			}
			if s.change > 0 {
				o := tx.Outputs[len(s.pays)]
				require.Equal(t, graph.Address(s.to), o.Address, "%s change", s.name)
				require.Equal(t, uint64(s.change), o.Value.Uint64(), "%s change", s.name)
			}
			fee, err := tx.Fee()
			require.NoError(t, err, s.name)
			require.Equal(t, uint64(s.fee), fee.Uint64(), "%s fee", s.name)
			for k, in := range tx.Inputs {
				require.True(t, in.Resolved, "%s input %d", s.name, k)
			}
		}
		subsidy := 50 * regnode.BTC >> (h / 150) // regtest halves every 150 blocks
		require.Equal(t, uint64(subsidy+fees), cb.Outputs[0].Value.Uint64(), "block %d coinbase", h)
	}

	// t4 spends one legacy and one segwit output; block 432's coinbase carries the witness
	// commitment (an OP_RETURN output of 0) after the payment to the exchange.
	b432, err := st.Block(ctx, graph.Bitcoin, regnode.SegwitHeight)
	require.NoError(t, err)
	t4 := b432.UTXOTxs[2]
	require.Len(t, t4.Inputs, 2)
	require.Equal(t, graph.Address(c.keys["lazarus"].P2PKH()), t4.Inputs[0].Address)
	require.Equal(t, graph.Address(c.keys["lazarus"].P2WPKH()), t4.Inputs[1].Address)
	cbOuts := b432.UTXOTxs[0].Outputs
	require.Len(t, cbOuts, 2)
	require.Equal(t, graph.Address(c.keys["exchange"].P2WPKH()), cbOuts[0].Address)
	require.True(t, cbOuts[1].Unspendable)

	// Block times are the case's.
	b102, err := st.Block(ctx, graph.Bitcoin, 102)
	require.NoError(t, err)
	require.Equal(t, caseStart.Add(101*10*time.Minute+3*time.Minute).Unix(), b102.Time)
	b1, err := st.Block(ctx, graph.Bitcoin, 1)
	require.NoError(t, err)
	require.Equal(t, caseStart.Unix(), b1.Time)
}

// A window over the node (chaintrace's -from): the inputs of blocks at or above the window
// start that spend older outputs are resolved over RPC with getrawtransaction, as on btcd
// with --txindex, in JSON-RPC batches.
func TestWindowOverRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := startNode(t)
	c := buildCase(t, n)
	cfg := n.RPCConfig()
	cfg.WindowStart = 300
	rpc, err := bitcoin.DialRPC(ctx, cfg)
	require.NoError(t, err)
	defer rpc.Close()
	var got []*graph.Block
	require.NoError(t, rpc.Range(ctx, 300, uint64(c.tip), func(b *graph.Block) error {
		got = append(got, b)
		return nil
	}))
	require.Equal(t, bitcoin.PrevoutMethod("txindex"), rpc.PrevoutMethod())
	b432 := got[regnode.SegwitHeight-300]
	want := map[string][]uint64{ // spent values per transaction, by hand
		c.txs[2].txid: {50 * uint64(regnode.BTC)},   // t3: block 2's coinbase
		c.txs[3].txid: {9_995_000, 5 * 100_000_000}, // t4: t2's change (block 102), t3's output (same block)
		c.txs[4].txid: {29_90_000_000},              // t5: t2's payment to the vault
	}
	for _, tx := range b432.UTXOTxs[1:] {
		vals := want[tx.TxID]
		require.Len(t, tx.Inputs, len(vals), tx.TxID)
		for i, in := range tx.Inputs {
			if in.Prev.TxID == c.txs[2].txid { // inside the window: the store resolves it
				require.False(t, in.Resolved)
				continue
			}
			require.True(t, in.Resolved, "%s input %d", tx.TxID, i)
			require.Equal(t, vals[i], in.Value.Uint64(), "%s input %d", tx.TxID, i)
		}
	}
}

// The same calls give the same chain: keys, times and nonces are deterministic.
func TestDeterministic(t *testing.T) {
	a, b := startNode(t), startNode(t)
	buildCase(t, a)
	buildCase(t, b)
	ra, err := a.RawBlock(a.Height())
	require.NoError(t, err)
	rb, err := b.RawBlock(b.Height())
	require.NoError(t, err)
	require.Equal(t, ra, rb)
	require.Equal(t, "mwBdjsZqD6o9hzEoQ69EW91s51stqKKSif", regnode.NewKey("lazarus").P2PKH())
}

// Send and mining refuse what a node would refuse, saying why.
func TestSendAndMineErrors(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	miner, alice := regnode.NewKey("miner"), regnode.NewKey("alice")
	_, err := n.Mine(ctx, 100, miner.P2PKH())
	require.NoError(t, err)
	pay := []regnode.Payment{{To: alice.P2PKH(), Value: regnode.BTC}}

	// Block 1's coinbase is spendable in block 101, not in block 100.
	n2 := startNode(t)
	_, err = n2.Mine(ctx, 99, miner.P2PKH())
	require.NoError(t, err)
	_, err = n2.Send(ctx, miner, pay, 0)
	require.ErrorIs(t, err, regnode.ErrNode)
	require.ErrorContains(t, err, "has 0 spendable; 495000000000 sat in coinbases younger than 100 blocks")

	cases := []struct {
		name string
		from *regnode.Key
		pays []regnode.Payment
		fee  int64
		want string
	}{
		{"no funds", alice, pay, 0, "send from alice: needs 100000000 sat (payments and fee), has 0 spendable"},
		{"too much", miner, []regnode.Payment{{To: alice.P2PKH(), Value: 60 * regnode.BTC}}, 0, "needs 6000000000 sat"},
		{"mainnet address", miner, []regnode.Payment{{To: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", Value: 1}}, 0, "payment 0: address"},
		{"bad address", miner, []regnode.Payment{{To: "bcrt1qnotanaddress", Value: 1}}, 0, "payment 0: address \"bcrt1qnotanaddress\""},
		{"memo and address", miner, []regnode.Payment{{To: alice.P2PKH(), Memo: []byte("x")}}, 0, "both an address"},
		{"memo too long", miner, []regnode.Payment{{Memo: make([]byte, 81)}}, 0, "memo of 81 bytes"},
		{"empty payment", miner, []regnode.Payment{{}}, 0, "no address and no memo"},
		{"no payments", miner, nil, 0, "no payments"},
		{"negative value", miner, []regnode.Payment{{To: alice.P2PKH(), Value: -1}}, 0, "value -1 out of range"},
		{"negative fee", miner, pay, -1, "negative fee"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := n.Send(ctx, tc.from, tc.pays, tc.fee)
			require.ErrorIs(t, err, regnode.ErrNode)
			require.ErrorContains(t, err, tc.want)
		})
	}
	require.Zero(t, n.Pending())

	// Block times: after the median of the last 11, at most two hours ahead of the clock.
	_, err = n.MineTxs(ctx, n.TipTime().Add(-time.Hour))
	require.ErrorIs(t, err, regnode.ErrNode)
	require.ErrorContains(t, err, "is not after the median time")
	_, err = n.MineTxs(ctx, time.Now().Add(3*time.Hour))
	require.ErrorIs(t, err, regnode.ErrNode)
	require.ErrorContains(t, err, "too far in the future")
	// The pending transactions stay for a block at a right time.
	_, err = n.Send(ctx, miner, pay, 100)
	require.NoError(t, err)
	_, err = n.MineTxs(ctx, time.Now().Add(3*time.Hour))
	require.ErrorContains(t, err, "too far in the future")
	require.Equal(t, 1, n.Pending())
	// A block may be dated before its predecessor (after the median time); the default
	// time of the next one is then still valid.
	for i := 0; i < 6; i++ {
		_, err = n.MineTxs(ctx, n.TipTime().Add(time.Second))
		require.NoError(t, err)
	}
	back := n.TipTime().Add(-3 * time.Second)
	_, err = n.MineTxs(ctx, back)
	require.NoError(t, err)
	_, err = n.MineTxsTo(ctx, time.Time{}, "")
	require.ErrorContains(t, err, "mine: coinbase: address \"\"")
	h := n.Height()
	_, err = n.MineTxs(ctx, time.Time{})
	require.NoError(t, err)
	require.Equal(t, h+1, n.Height())
	require.Zero(t, n.Pending())
	bal, err := n.Balance(alice)
	require.NoError(t, err)
	require.Equal(t, regnode.BTC, bal)

	_, err = regnode.Start(ctx, regnode.Options{FirstBlockTime: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.ErrorContains(t, err, "is not after the regtest genesis block")
	_, err = regnode.Start(ctx, regnode.Options{Miner: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"})
	require.ErrorContains(t, err, "Options.Miner")
}

// Mining, sending and RPC reads at the same time (run with -race): an ingest that follows
// the growing chain ends with every block the node mined.
func TestConcurrentUse(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n := startNode(t)
	miner, bob := regnode.NewKey("miner"), regnode.NewKey("bob")
	_, err := n.Mine(ctx, 100, miner.P2PKH())
	require.NoError(t, err)
	rpc, err := bitcoin.DialRPC(ctx, n.RPCConfig())
	require.NoError(t, err)
	defer rpc.Close()
	st, err := graph.OpenStore(ctx, graph.StoreOptions{InMemory: true})
	require.NoError(t, err)
	defer st.Close()

	done := make(chan error, 1)
	go func() {
		for i := 0; i < 30; i++ {
			if _, err := n.Send(ctx, miner, []regnode.Payment{{To: bob.P2PKH(), Value: regnode.BTC}}, 1_000); err != nil {
				done <- err
				return
			}
			if _, err := n.MineTxs(ctx, time.Time{}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var mineErr error
	for finished := false; !finished; {
		select {
		case mineErr = <-done:
			finished = true
		default:
		}
		_, err := bitcoin.Ingest(ctx, st, rpc, bitcoin.IngestOptions{})
		require.NoError(t, err)
		_ = n.TipTime()
		_ = n.Pending()
	}
	require.NoError(t, mineErr)
	stats, err := bitcoin.Ingest(ctx, st, rpc, bitcoin.IngestOptions{})
	require.NoError(t, err)
	require.EqualValues(t, 130, stats.Tip)
	bal, err := n.Balance(bob)
	require.NoError(t, err)
	require.Equal(t, 30*regnode.BTC, bal)
}

// A block btcd rejects is an error naming the block; its pending transactions are
// dropped and the wallet is rebuilt from the chain, so the same payment can be sent
// again. Here the rejection is real consensus: segwit spends in a block dated before
// BIP 16 (P2SH, 1 April 2012) took effect.
func TestRejectedBlockDropsPending(t *testing.T) {
	ctx := context.Background()
	n, err := regnode.Start(ctx, regnode.Options{FirstBlockTime: time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	defer n.Close()
	miner, alice, bob := regnode.NewKey("miner"), regnode.NewKey("alice"), regnode.NewKey("bob")
	_, err = n.Mine(ctx, 101, miner.P2PKH())
	require.NoError(t, err)
	_, err = n.Send(ctx, miner, []regnode.Payment{{To: alice.P2WPKH(), Value: 2 * regnode.BTC}}, 1_000)
	require.NoError(t, err)
	_, err = n.MineTo(ctx, regnode.SegwitHeight-1, miner.P2PKH())
	require.NoError(t, err)
	before, err := n.Balance(miner)
	require.NoError(t, err)

	pay := []regnode.Payment{{To: bob.P2PKH(), Value: regnode.BTC}}
	_, err = n.Send(ctx, alice, pay, 1_000)
	require.NoError(t, err)
	_, err = n.Send(ctx, miner, pay, 1_000) // a legacy spend in the same block
	require.NoError(t, err)
	_, err = n.MineTxs(ctx, time.Time{}) // 2012-01-04
	require.ErrorIs(t, err, regnode.ErrNode)
	require.ErrorContains(t, err, "block 432 with 2 pending transactions rejected (they are dropped)")
	require.ErrorContains(t, err, "P2SH must be enabled")
	require.EqualValues(t, regnode.SegwitHeight-1, n.Height())
	require.Zero(t, n.Pending())
	after, err := n.Balance(miner)
	require.NoError(t, err)
	require.Equal(t, before, after)
	bal, err := n.Balance(bob)
	require.NoError(t, err)
	require.Zero(t, bal)

	_, err = n.Send(ctx, alice, pay, 1_000)
	require.NoError(t, err)
	_, err = n.MineTxs(ctx, time.Date(2012, 4, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	bal, err = n.Balance(bob)
	require.NoError(t, err)
	require.Equal(t, regnode.BTC, bal)
}
