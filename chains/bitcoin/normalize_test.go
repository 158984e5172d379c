package bitcoin_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/stretchr/testify/require"
)

// crossCheck compares a normalized block with btcd's own decoding of the same bytes and with
// btcd's independent script classifier (txscript.ExtractPkScriptAddrs) output by output.
func crossCheck(t *testing.T, raw []byte, b *graph.Block, net *chaincfg.Params) {
	t.Helper()
	var msg wire.MsgBlock
	require.NoError(t, msg.Deserialize(bytes.NewReader(raw)))
	require.Equal(t, msg.BlockHash().String(), b.Hash)
	require.Len(t, b.UTXOTxs, len(msg.Transactions))
	classes := map[txscript.ScriptClass]int{}
	for i, mtx := range msg.Transactions {
		tx := b.UTXOTxs[i]
		require.Equal(t, mtx.TxHash().String(), tx.TxID)
		require.EqualValues(t, i, tx.Index)
		require.Equal(t, i == 0, tx.Coinbase)
		if i > 0 {
			require.Len(t, tx.Inputs, len(mtx.TxIn))
			for j, in := range mtx.TxIn {
				require.Equal(t, graph.Outpoint{TxID: in.PreviousOutPoint.Hash.String(), Index: in.PreviousOutPoint.Index}, tx.Inputs[j].Prev)
				require.False(t, tx.Inputs[j].Resolved)
			}
		}
		require.Len(t, tx.Outputs, len(mtx.TxOut))
		for j, out := range mtx.TxOut {
			got := tx.Outputs[j]
			require.Equal(t, graph.NewAmount(uint64(out.Value)), got.Value)
			class, addrs, _, _ := txscript.ExtractPkScriptAddrs(out.PkScript, net)
			classes[class]++
			switch class {
			case txscript.PubKeyHashTy, txscript.ScriptHashTy, txscript.WitnessV0PubKeyHashTy,
				txscript.WitnessV0ScriptHashTy, txscript.WitnessV1TaprootTy:
				require.Equal(t, graph.Address(addrs[0].EncodeAddress()), got.Address, "tx %s output %d", tx.TxID, j)
			case txscript.PubKeyTy:
				pk := addrs[0].(*btcutil.AddressPubKey)
				require.Equal(t, graph.Address(pk.AddressPubKeyHash().EncodeAddress()), got.Address, "tx %s output %d", tx.TxID, j)
			case txscript.NullDataTy:
				require.True(t, got.Unspendable)
				require.Empty(t, got.Address)
			default:
				if len(out.PkScript) > 0 && out.PkScript[0] == txscript.OP_RETURN {
					require.True(t, got.Unspendable)
					continue
				}
				require.Equal(t, bitcoin.NonStandardAddress(out.PkScript), got.Address, "tx %s output %d (%s)", tx.TxID, j, class)
			}
			require.Equal(t, class == txscript.NullDataTy, got.Unspendable && class == txscript.NullDataTy)
		}
	}
	t.Logf("block %s: %d txs, output classes %v", b.Hash, len(b.UTXOTxs), classes)
}

func TestDecodeRealBlocks(t *testing.T) {
	net := &chaincfg.MainNetParams
	cases := []struct {
		name   string
		raw    func(t *testing.T) []byte
		height uint64
		hash   string
		txs    int
	}{
		{"277647", func(t *testing.T) []byte { return splitFrames(t, readBz2(t, "277647.dat.bz2"), net)[0] },
			277647, "0000000000000000054a714e580b16c583701712ab91060e92dbde6eb1e052a8", 0},
		{"540107", func(t *testing.T) []byte {
			return readBz2(t, "block-00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab.blk.bz2")
		}, 540107, "00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab", 230},
		{"574200", func(t *testing.T) []byte {
			return readBz2(t, "block-0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2.blk.bz2")
		}, 574200, "0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2", 3315},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := c.raw(t)
			b, err := bitcoin.DecodeBlock(raw, c.height, net)
			require.NoError(t, err) // includes the merkle root check of every txid
			require.Equal(t, c.hash, b.Hash)
			require.EqualValues(t, c.height, b.Height)
			if c.txs > 0 {
				require.Len(t, b.UTXOTxs, c.txs)
			}
			crossCheck(t, raw, b, net)

			// Every truncation is an error, never a panic or a partial block.
			for _, n := range []int{0, 1, 79, 80, 81, len(raw) / 2, len(raw) - 1} {
				_, err := bitcoin.DecodeBlock(raw[:n], c.height, net)
				require.Error(t, err, "truncated to %d bytes", n)
			}
			_, err = bitcoin.DecodeBlock(append(append([]byte{}, raw...), 0), c.height, net)
			require.ErrorIs(t, err, bitcoin.ErrBadBlock)
		})
	}
}

func TestDecodeMegaTx(t *testing.T) {
	raw := readBz2(t, "megatx.bin.bz2")
	require.Len(t, raw, 999_657)
	tx, err := bitcoin.DecodeTx(raw, &chaincfg.MainNetParams)
	require.NoError(t, err)
	require.Equal(t, "bb41a757f405890fb0f5856228e23b715702d714d59bf2b1feb70d8b2b4e3e08", tx.TxID)
	var msg wire.MsgTx
	require.NoError(t, msg.Deserialize(bytes.NewReader(raw)))
	require.Len(t, tx.Inputs, len(msg.TxIn))
	require.Len(t, tx.Outputs, len(msg.TxOut))
	var sum graph.Amount
	var want int64
	for i, o := range tx.Outputs {
		sum.Add(&sum, &o.Value)
		want += msg.TxOut[i].Value
	}
	require.Equal(t, graph.NewAmount(uint64(want)), sum)
	t.Logf("megatx: %d inputs, %d outputs, %s sat out", len(tx.Inputs), len(tx.Outputs), sum.Dec())
	_, err = bitcoin.DecodeTx(raw[:len(raw)-1], &chaincfg.MainNetParams)
	require.ErrorIs(t, err, bitcoin.ErrTruncated)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestScriptAddress(t *testing.T) {
	main, test, reg := &chaincfg.MainNetParams, &chaincfg.TestNet3Params, &chaincfg.RegressionNetParams
	key33 := "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" // secp256k1 G
	key65 := "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"
	cases := []struct {
		name   string
		net    *chaincfg.Params
		script string
		class  bitcoin.ScriptClass
		addr   string
		unsp   bool
	}{
		// Genesis coinbase key's P2PKH (the genesis output is P2PK of the same key).
		{"p2pkh", main, "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac", bitcoin.PubKeyHash, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", false},
		{"p2pk uncompressed genesis", main, "4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac", bitcoin.PubKey, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", false},
		{"p2pk compressed G", main, "21" + key33 + "ac", bitcoin.PubKey, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", false},
		{"p2pk uncompressed G", main, "41" + key65 + "ac", bitcoin.PubKey, "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm", false},
		// BIP 173 / BIP 350 test vectors.
		{"p2wpkh", main, "0014751e76e8199196d454941c45d1b3a323f1433bd6", bitcoin.WitnessV0PKH, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", false},
		{"p2wpkh testnet", test, "0014751e76e8199196d454941c45d1b3a323f1433bd6", bitcoin.WitnessV0PKH, "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", false},
		{"p2wsh", main, "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262", bitcoin.WitnessV0SH, "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", false},
		{"p2tr", main, "5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c", bitcoin.WitnessV1Taproot, "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr", false},
		{"witness v16", main, "6002751e", bitcoin.WitnessUnknown, "bc1sw50qgdz25j", false},
		{"p2pkh regtest", reg, "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac", bitcoin.PubKeyHash, "mpXwg4jMtRhuSpVq4xS3HFHmCmWp9NyGKt", false},
		// bitcoin-etl's own test vectors for its nonstandard rule.
		{"nonstandard etl vector", main, "204e0000c93ad870ee0ca407cdc17ddc61c71b12906ad1fa476a9b56", bitcoin.NonStandard, "nonstandard0cbd12ed8f1b1d8979f7f50d5083e9f21b7f5f78", false},
		{"empty script", main, "", bitcoin.NonStandard, "nonstandarde3b0c44298fc1c149afbf4c8996fb92427ae41e4", false},
		{"bare multisig 1-of-2", main, "5121" + key33 + "21" + key33 + "52ae", bitcoin.MultiSig, "", false},
		{"op_return", main, "6a04deadbeef", bitcoin.NullData, "", true},
		{"bare op_return", main, "6a", bitcoin.NullData, "", true},
		{"p2pk bad prefix", main, "21" + "05" + key33[2:] + "ac", bitcoin.NonStandard, "", false},
		{"v0 program of 21 bytes", main, "0015751e76e8199196d454941c45d1b3a323f1433bd6ff", bitcoin.NonStandard, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			script := mustHex(c.script)
			addr, class, unsp := bitcoin.ScriptAddress(script, c.net)
			require.Equal(t, c.class, class)
			require.Equal(t, c.unsp, unsp)
			want := c.addr
			if want == "" && !c.unsp {
				want = string(bitcoin.NonStandardAddress(script))
			}
			require.Equal(t, graph.Address(want), addr)
			// Every address, witness versions 2..16 included, must already be in graph's
			// canonical form.
			if !c.unsp {
				canon, err := graph.ParseAddress(graph.Bitcoin, string(addr))
				require.NoError(t, err)
				require.Equal(t, addr, canon, "the address is in graph's canonical form")
			}
		})
	}
	// P2SH against btcutil's encoder.
	h := mustHex("b472a266d0bd89c13706a4132ccfb16f7c3b9fcb")
	a, err := btcutil.NewAddressScriptHashFromHash(h, main)
	require.NoError(t, err)
	addr, class, _ := bitcoin.ScriptAddress(append(append([]byte{0xa9, 0x14}, h...), 0x87), main)
	require.Equal(t, bitcoin.ScriptHash, class)
	require.Equal(t, graph.Address(a.EncodeAddress()), addr)
}

// The bitcoin-etl fixtures: bitcoind getblock <hash> 2 responses of real mainnet blocks and
// bitcoin-etl's expected exports of them. The block bytes are rebuilt from the header
// fields and each transaction's "hex" (the hash must come out right), normalized, and
// compared with the export: txids, coinbase flags, input and output counts, spent
// outpoints, output values and addresses; with the spent transactions of the stream case
// (getrawtransaction responses) the input values and fees as well.
func TestBitcoinETLFixtures(t *testing.T) {
	net := &chaincfg.MainNetParams
	dirs, err := filepath.Glob(filepath.Join(testdataDir, "etl", "*"))
	require.NoError(t, err)
	require.Len(t, dirs, 5)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			blocks := map[string]*graph.Block{}
			files, _ := filepath.Glob(filepath.Join(dir, "rpc_response_getblock_*_2.json"))
			require.NotEmpty(t, files)
			for _, f := range files {
				raw, height, hash := rebuildBlock(t, f)
				b, err := bitcoin.DecodeBlock(raw, height, net)
				require.NoError(t, err)
				require.Equal(t, hash, b.Hash)
				blocks[b.Hash] = b
			}
			// Spent outputs known from getrawtransaction responses.
			prevouts := map[graph.Outpoint]graph.TxOut{}
			raws, _ := filepath.Glob(filepath.Join(dir, "rpc_response_getrawtransaction_*.json"))
			for _, f := range raws {
				var resp struct {
					Hex string `json:"hex"`
				}
				readJSON(t, f, &resp)
				tx, err := bitcoin.DecodeTx(mustHex(resp.Hex), net)
				require.NoError(t, err)
				for i, o := range tx.Outputs {
					prevouts[graph.Outpoint{TxID: tx.TxID, Index: uint32(i)}] = o
				}
			}
			checkETLBlocks(t, filepath.Join(dir, "expected_blocks.json"), blocks)
			n := checkETLTransactions(t, filepath.Join(dir, "expected_transactions.json"), blocks, prevouts)
			require.Positive(t, n)
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, v), path)
}

// rebuildBlock serializes the block of a getblock verbosity-2 response.
func rebuildBlock(t *testing.T, path string) ([]byte, uint64, string) {
	t.Helper()
	var r struct {
		Hash, PreviousBlockHash, MerkleRoot, Bits string
		Version                                   int32
		Time                                      int64
		Nonce                                     uint32
		Height                                    uint64
		Tx                                        []struct{ Hex string }
	}
	readJSON(t, path, &r)
	var msg wire.MsgBlock
	msg.Header.Version = r.Version
	if r.PreviousBlockHash != "" {
		prev, err := chainhash.NewHashFromStr(r.PreviousBlockHash)
		require.NoError(t, err)
		msg.Header.PrevBlock = *prev
	}
	mr, err := chainhash.NewHashFromStr(r.MerkleRoot)
	require.NoError(t, err)
	msg.Header.MerkleRoot = *mr
	msg.Header.Timestamp = timeUnix(r.Time)
	bits, err := strconv.ParseUint(r.Bits, 16, 32)
	require.NoError(t, err)
	msg.Header.Bits = uint32(bits)
	msg.Header.Nonce = r.Nonce
	for _, tx := range r.Tx {
		var mtx wire.MsgTx
		require.NoError(t, mtx.Deserialize(bytes.NewReader(mustHex(tx.Hex))))
		require.NoError(t, msg.AddTransaction(&mtx))
	}
	require.Equal(t, r.Hash, msg.BlockHash().String(), "rebuilt header of %s", path)
	var buf bytes.Buffer
	require.NoError(t, msg.Serialize(&buf))
	return buf.Bytes(), r.Height, r.Hash
}

func checkETLBlocks(t *testing.T, path string, blocks map[string]*graph.Block) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e struct {
			Hash             string
			Number           uint64
			Timestamp        int64
			TransactionCount int `json:"transaction_count"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		b := blocks[e.Hash]
		require.NotNil(t, b, "block %s", e.Hash)
		require.Equal(t, e.Number, b.Height)
		require.Equal(t, e.Timestamp, b.Time)
		require.Len(t, b.UTXOTxs, e.TransactionCount)
	}
}

func checkETLTransactions(t *testing.T, path string, blocks map[string]*graph.Block, prevouts map[graph.Outpoint]graph.TxOut) int {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e struct {
			Hash        string
			BlockHash   string `json:"block_hash"`
			Index       uint32
			IsCoinbase  bool    `json:"is_coinbase"`
			InputCount  int     `json:"input_count"`
			OutputCount int     `json:"output_count"`
			InputValue  *uint64 `json:"input_value"`
			OutputValue uint64  `json:"output_value"`
			Fee         *int64
			Inputs      []struct {
				SpentTxHash string  `json:"spent_transaction_hash"`
				SpentIndex  uint32  `json:"spent_output_index"`
				Value       *uint64 `json:"value"`
				Addresses   []string
			}
			Outputs []struct {
				Type      string
				Addresses []string
				Value     uint64
			}
		}
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		b := blocks[e.BlockHash]
		require.NotNil(t, b)
		tx := b.UTXOTxs[e.Index]
		require.Equal(t, e.Hash, tx.TxID)
		require.Equal(t, e.IsCoinbase, tx.Coinbase)
		require.Len(t, tx.Inputs, e.InputCount)
		require.Len(t, tx.Outputs, e.OutputCount)
		var outSum graph.Amount
		for i, o := range e.Outputs {
			got := tx.Outputs[i]
			require.Equal(t, graph.NewAmount(o.Value), got.Value)
			outSum.Add(&outSum, &got.Value)
			switch o.Type {
			case "nulldata": // bitcoin-etl gives OP_RETURN a pseudo-address; here it is unspendable
				require.True(t, got.Unspendable)
			default:
				require.Len(t, o.Addresses, 1)
				require.Equal(t, graph.Address(o.Addresses[0]), got.Address, "tx %s output %d (%s)", e.Hash, i, o.Type)
			}
		}
		require.Equal(t, graph.NewAmount(e.OutputValue), outSum)
		resolved := true
		for i, in := range e.Inputs {
			require.Equal(t, graph.Outpoint{TxID: in.SpentTxHash, Index: in.SpentIndex}, tx.Inputs[i].Prev)
			if po, ok := prevouts[tx.Inputs[i].Prev]; ok {
				// Resolve as the store would, and compare with the enriched export.
				tx.Inputs[i].Address, tx.Inputs[i].Value, tx.Inputs[i].Resolved = po.Address, po.Value, true
				require.NotNil(t, in.Value)
				require.Equal(t, graph.NewAmount(*in.Value), po.Value)
				require.Equal(t, []string{string(po.Address)}, in.Addresses)
			} else {
				resolved = false
			}
		}
		if resolved && !e.IsCoinbase && e.InputValue != nil && *e.InputValue > 0 {
			fee, err := tx.Fee()
			require.NoError(t, err)
			require.Equal(t, graph.NewAmount(uint64(*e.Fee)), fee)
		}
		n++
	}
	return n
}
