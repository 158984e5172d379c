package bitcoin_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/blockgen"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/stretchr/testify/require"
)

// Real mainnet hashes (any block explorer; also btcd's netsync/testdata headers).
const (
	hashBlock1   = "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048"
	hashBlock9   = "000000008d9dc510f23c2657fc4f67bea30078cc05a90eb89e84cc475c080805"
	hashBlock170 = "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee"
	// The first person-to-person transaction: Satoshi pays Hal Finney 10 BTC out of the
	// 50 BTC coinbase of block 9.
	txid170      = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
	coinbase9    = "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"
	satoshi9Addr = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S" // P2PK output of block 9, shown as P2PKH
	halAddr      = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
)

func collect(t *testing.T, src bitcoin.Source) []*graph.Block {
	t.Helper()
	var blocks []*graph.Block
	require.NoError(t, bitcoin.Stream(context.Background(), src, func(b *graph.Block) error {
		blocks = append(blocks, b)
		return nil
	}))
	return blocks
}

func TestBlockFilesMainnet1to255(t *testing.T) {
	ctx := context.Background()
	bf, err := bitcoin.OpenBlockFiles(ctx, mainnet1to255(t), bitcoin.BlockFilesOptions{Net: &chaincfg.MainNetParams})
	require.NoError(t, err)
	defer bf.Close()
	require.EqualValues(t, 1, bf.FirstHeight())
	require.EqualValues(t, 255, bf.TipHeight())

	blocks := collect(t, bf)
	require.Len(t, blocks, 255)
	require.Equal(t, hashBlock1, blocks[0].Hash)
	require.Equal(t, chaincfg.MainNetParams.GenesisHash.String(), blocks[0].Parent)
	require.Equal(t, hashBlock9, blocks[8].Hash)
	require.Equal(t, hashBlock170, blocks[169].Hash)
	require.EqualValues(t, 1231469665, blocks[0].Time) // 2009-01-09 02:54:25 UTC

	cb := blocks[8].UTXOTxs[0]
	require.Equal(t, coinbase9, cb.TxID)
	require.True(t, cb.Coinbase)
	require.Empty(t, cb.Inputs)
	require.Equal(t, []graph.TxOut{{Address: satoshi9Addr, Value: graph.NewAmount(50e8)}}, cb.Outputs)

	b170 := blocks[169]
	require.Len(t, b170.UTXOTxs, 2)
	tx := b170.UTXOTxs[1]
	require.Equal(t, txid170, tx.TxID)
	require.EqualValues(t, 1, tx.Index)
	require.Equal(t, []graph.TxIn{{Prev: graph.Outpoint{TxID: coinbase9, Index: 0}}}, tx.Inputs)
	require.Equal(t, []graph.TxOut{
		{Address: halAddr, Value: graph.NewAmount(10e8)},
		{Address: satoshi9Addr, Value: graph.NewAmount(40e8)},
	}, tx.Outputs)

	// Every block's record agrees with btcd's own decoding of the same bytes: hash, parent,
	// txids, output counts and values.
	for _, b := range blocks {
		raw, err := bf.ReadRaw(b.Height)
		require.NoError(t, err)
		var msg wire.MsgBlock
		require.NoError(t, msg.Deserialize(bytes.NewReader(raw)))
		require.Equal(t, msg.BlockHash().String(), b.Hash)
		require.Equal(t, msg.Header.PrevBlock.String(), b.Parent)
		require.Len(t, b.UTXOTxs, len(msg.Transactions))
		for i, mtx := range msg.Transactions {
			require.Equal(t, mtx.TxHash().String(), b.UTXOTxs[i].TxID)
			require.Len(t, b.UTXOTxs[i].Outputs, len(mtx.TxOut))
			for j, out := range mtx.TxOut {
				require.Equal(t, graph.NewAmount(uint64(out.Value)), b.UTXOTxs[i].Outputs[j].Value)
			}
		}
	}
}

// Bitcoin Core stores blocks in arrival order, across several files, obfuscated (≥ 28), with
// stale blocks and zero-padded tails: the reader must still give the best chain in order.
func TestBlockFilesShuffledObfuscatedWithStaleBlock(t *testing.T) {
	ctx := context.Background()
	net := &chaincfg.MainNetParams
	raws := splitFrames(t, readBz2(t, "blocks1-256.bz2"), net)
	require.Len(t, raws, 255)

	// A stale sibling of block 101: same parent and transactions, another nonce.
	var stale wire.MsgBlock
	require.NoError(t, stale.Deserialize(bytes.NewReader(raws[100])))
	stale.Header.Nonce++
	var staleBuf bytes.Buffer
	require.NoError(t, stale.Serialize(&staleBuf))
	staleRaw := staleBuf.Bytes()

	var frames [][]byte
	for i := len(raws) - 1; i >= 0; i-- { // reverse arrival order
		frames = append(frames, frame(net, raws[i]))
	}
	dir := t.TempDir()
	key := [8]byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "xor.dat"), key[:], 0o644))
	writeBlk(t, dir, "blk00000.dat", key, 4096, frames[:100]...)
	writeBlk(t, dir, "blk00001.dat", key, 0, append(append([][]byte{}, frames[100:200]...), frame(net, staleRaw))...)
	writeBlk(t, dir, "blk00002.dat", key, 333, frames[200:]...)

	bf, err := bitcoin.OpenBlockFiles(ctx, dir, bitcoin.BlockFilesOptions{Net: net, Workers: 3})
	require.NoError(t, err)
	defer bf.Close()
	got := collect(t, bf)

	want := collect(t, mustOpen(t, mainnet1to255(t), net))
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, want[i], got[i], "block %d", i)
	}
}

func mustOpen(t *testing.T, dir string, net *chaincfg.Params) *bitcoin.BlockFiles {
	t.Helper()
	bf, err := bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: net})
	require.NoError(t, err)
	t.Cleanup(func() { bf.Close() })
	return bf
}

// Every network's magic and genesis: a generated chain for each is read back whole.
func TestBlockFilesNetworks(t *testing.T) {
	for _, name := range []string{"mainnet", "testnet", "testnet4", "signet", "regtest"} {
		t.Run(name, func(t *testing.T) {
			net, err := bitcoin.ParseNetwork(name)
			require.NoError(t, err)
			dir := t.TempDir()
			sum, err := blockgen.Generate(context.Background(), dir, blockgen.Options{
				Net: net, Seed: 7, Txs: 300, TxsPerBlock: 40, MaxFileSize: 20_000,
				XORKey: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}})
			require.NoError(t, err)
			require.Greater(t, sum.Files, 1)
			bf := mustOpen(t, dir, net)
			blocks := collect(t, bf)
			require.Len(t, blocks, sum.Blocks)
			txs, outs := 0, 0
			for _, b := range blocks {
				txs += len(b.UTXOTxs)
				for _, tx := range b.UTXOTxs {
					outs += len(tx.Outputs)
					for _, o := range tx.Outputs {
						_, err := graph.ParseAddress(graph.Bitcoin, string(o.Address))
						require.NoError(t, err, "output address %q", o.Address)
					}
				}
			}
			require.Equal(t, sum.Txs, txs)
			require.Equal(t, sum.Outputs, outs)
			require.Equal(t, sum.TipHash, blocks[len(blocks)-1].Hash)
			require.Equal(t, net.GenesisHash.String(), blocks[0].Parent)
			// Another network's magic is rejected with a clear error.
			other := &chaincfg.MainNetParams
			if name == "mainnet" {
				other = &chaincfg.RegressionNetParams
			}
			_, err = bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: other})
			require.ErrorIs(t, err, bitcoin.ErrBadMagic)
		})
	}
}

func TestBlockFilesErrors(t *testing.T) {
	net := &chaincfg.MainNetParams
	raws := splitFrames(t, readBz2(t, "blocks1-256.bz2"), net)
	good := frame(net, raws[0])
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"truncated frame", good[:len(good)-10], bitcoin.ErrTruncated},
		{"truncated header", append(append([]byte{}, good...), good[:5]...), bitcoin.ErrTruncated},
		{"bad magic", append([]byte{1, 2, 3, 4}, good[4:]...), bitcoin.ErrBadMagic},
		{"garbage after padding", append(append(append([]byte{}, good...), make([]byte, 100)...), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), bitcoin.ErrBadMagic},
		{"size too small", append([]byte{0xf9, 0xbe, 0xb4, 0xd9, 10, 0, 0, 0}, make([]byte, 10)...), bitcoin.ErrBadBlock},
		{"only padding", make([]byte, 100), bitcoin.ErrNoChain},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "blk00000.dat"), c.data, 0o644))
			_, err := bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: net})
			require.ErrorIs(t, err, c.want)
			if c.want != bitcoin.ErrNoChain {
				require.Contains(t, err.Error(), "blk00000.dat")
			}
		})
	}
	t.Run("bad xor key", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "xor.dat"), []byte{1, 2, 3}, 0o644))
		_, err := bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: net})
		require.ErrorIs(t, err, bitcoin.ErrBadXORKey)
	})
	t.Run("corrupt transaction", func(t *testing.T) {
		// Flip a byte inside block 170's second transaction: the header still indexes, the
		// merkle root no longer matches.
		dir := t.TempDir()
		bad := append([]byte(nil), raws[169]...)
		bad[len(bad)-30] ^= 0xff
		var frames [][]byte
		for i, r := range raws {
			if i == 169 {
				r = bad
			}
			frames = append(frames, frame(net, r))
		}
		writeBlk(t, dir, "blk00000.dat", [8]byte{}, 0, frames...)
		bf := mustOpen(t, dir, net)
		err := bitcoin.Stream(context.Background(), bf, func(*graph.Block) error { return nil })
		require.ErrorIs(t, err, bitcoin.ErrBadBlock)
		require.Contains(t, err.Error(), "height 170")
	})
	t.Run("no placeable block", func(t *testing.T) {
		dir := t.TempDir()
		writeBlk(t, dir, "blk00000.dat", [8]byte{}, 0, frame(net, raws[10]))
		_, err := bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: net})
		require.ErrorIs(t, err, bitcoin.ErrNoChain)
		bf, err := bitcoin.OpenBlockFiles(context.Background(), dir, bitcoin.BlockFilesOptions{Net: net, StartHeight: 11})
		require.NoError(t, err)
		defer bf.Close()
		h, err := bf.BlockHash(context.Background(), 11)
		require.NoError(t, err)
		var msg wire.MsgBlock
		require.NoError(t, msg.Deserialize(bytes.NewReader(raws[10])))
		require.Equal(t, msg.BlockHash().String(), h)
	})
}
