package bitcoin_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/chains/bitcoin"
	"github.com/chaintrace/chaintrace/chains/bitcoin/internal/btcdtest"
	"github.com/chaintrace/chaintrace/graph"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	code := m.Run()
	btcdtest.Cleanup()
	os.Exit(code)
}

// btcdBinary is btcd built from the module's pinned dependency (chains/bitcoin/internal/btcdtest).
func btcdBinary(t *testing.T) string { return btcdtest.Binary(t) }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// regtestNode is a btcd --regtest process on loopback, mining to miningAddr.
type regtestNode struct {
	rpc  *bitcoin.RPC
	cmd  *exec.Cmd
	host string
	net  *chaincfg.Params
}

// startBtcd starts btcd with extra command-line options (e.g. --txindex).
func startBtcd(t *testing.T, miningAddr btcutil.Address, extra ...string) *regtestNode {
	t.Helper()
	bin := btcdBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	host := "127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{"--regtest", "--datadir=" + filepath.Join(dir, "data"), "--logdir=" + filepath.Join(dir, "log"),
		"--rpcuser=chaintrace", "--rpcpass=chaintrace", "--rpclisten=" + host, "--notls", "--nolisten",
		"--miningaddr=" + miningAddr.EncodeAddress(), "--debuglevel=warn"}, extra...)
	cmd := exec.Command(bin, args...)
	var logBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	require.NoError(t, cmd.Start())
	n := &regtestNode{cmd: cmd, host: host, net: &chaincfg.RegressionNetParams}
	t.Cleanup(func() {
		if n.rpc != nil {
			n.rpc.Close()
		}
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard
	defer cancel()
	var err error
	for {
		n.rpc, err = bitcoin.DialRPC(ctx, bitcoin.RPCConfig{Host: host, User: "chaintrace", Pass: "chaintrace",
			Net: &chaincfg.RegressionNetParams, Retries: 1, Backoff: 50 * time.Millisecond})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("btcd did not answer on %s: %v\n%s", host, err, logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n
}

func (n *regtestNode) generate(t *testing.T, blocks uint32) {
	t.Helper()
	_, err := n.rpc.Client().Generate(blocks)
	require.NoError(t, err)
}

func (n *regtestNode) send(t *testing.T, tx *wire.MsgTx) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, tx.Serialize(&buf))
	res, err := n.rpc.Client().RawRequest("sendrawtransaction", []json.RawMessage{jsonString(hex.EncodeToString(buf.Bytes()))})
	require.NoError(t, err, "sendrawtransaction %s", tx.TxHash())
	return string(res)
}

// wallet is a key this test controls, with its regtest address (P2PKH or P2WPKH).
type wallet struct {
	name    string
	priv    *btcec.PrivateKey
	addr    btcutil.Address
	script  []byte
	segwit  bool
	netAddr graph.Address
}

func newWallet(t *testing.T, name string, segwit bool) *wallet {
	t.Helper()
	seed := chainhash.HashB([]byte("chaintrace regtest key " + name))
	priv, pub := btcec.PrivKeyFromBytes(seed)
	var addr btcutil.Address
	var err error
	h := btcutil.Hash160(pub.SerializeCompressed())
	if segwit {
		addr, err = btcutil.NewAddressWitnessPubKeyHash(h, &chaincfg.RegressionNetParams)
	} else {
		addr, err = btcutil.NewAddressPubKeyHash(h, &chaincfg.RegressionNetParams)
	}
	require.NoError(t, err)
	script, err := txscript.PayToAddrScript(addr)
	require.NoError(t, err)
	return &wallet{name: name, priv: priv, addr: addr, script: script, segwit: segwit, netAddr: graph.Address(addr.EncodeAddress())}
}

// coin is an output a wallet can spend.
type coin struct {
	op    wire.OutPoint
	value int64
	owner *wallet
}

type payment struct {
	to    *wallet
	value int64
}

// spend builds and signs a transaction spending coins into payments (in this order).
func spend(t *testing.T, coins []coin, pays ...payment) (*wire.MsgTx, []coin) {
	t.Helper()
	tx := wire.NewMsgTx(2)
	prev := txscript.NewMultiPrevOutFetcher(nil)
	for _, c := range coins {
		tx.AddTxIn(wire.NewTxIn(&c.op, nil, nil))
		prev.AddPrevOut(c.op, wire.NewTxOut(c.value, c.owner.script))
	}
	for _, p := range pays {
		tx.AddTxOut(wire.NewTxOut(p.value, p.to.script))
	}
	hashes := txscript.NewTxSigHashes(tx, prev)
	for i, c := range coins {
		if c.owner.segwit {
			w, err := txscript.WitnessSignature(tx, hashes, i, c.value, c.owner.script, txscript.SigHashAll, c.owner.priv, true)
			require.NoError(t, err)
			tx.TxIn[i].Witness = w
		} else {
			sig, err := txscript.SignatureScript(tx, i, c.owner.script, txscript.SigHashAll, c.owner.priv, true)
			require.NoError(t, err)
			tx.TxIn[i].SignatureScript = sig
		}
	}
	// Check every signature with the script engine before the node does.
	for i, c := range coins {
		vm, err := txscript.NewEngine(c.owner.script, tx, i, txscript.StandardVerifyFlags, nil, hashes, c.value, prev)
		require.NoError(t, err)
		require.NoError(t, vm.Execute(), "input %d", i)
	}
	h := tx.TxHash()
	out := make([]coin, len(pays))
	for i, p := range pays {
		out[i] = coin{op: wire.OutPoint{Hash: h, Index: uint32(i)}, value: p.value, owner: p.to}
	}
	return tx, out
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
