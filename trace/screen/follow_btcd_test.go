package screen_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/screen"
)

// btcSource adapts the Bitcoin adapter's RPC client to screen.BlockSource (and BlockHasher).
type btcSource struct{ r *bitcoin.RPC }

func (s btcSource) Tip(ctx context.Context) (uint64, error) { return s.r.BestHeight(ctx) }
func (s btcSource) Block(ctx context.Context, h uint64) (*graph.Block, error) {
	return s.r.Block(ctx, h)
}
func (s btcSource) BlockHash(ctx context.Context, h uint64) (string, error) {
	return s.r.BlockHash(ctx, h)
}

// startBtcd builds btcd from the module's pinned dependency (as chains/bitcoin's regtest
// test does) and runs it with --regtest on loopback, mining to miner.
func startBtcd(t *testing.T, miner btcutil.Address) *bitcoin.RPC {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "btcd")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/btcsuite/btcd").CombinedOutput(); err != nil {
		t.Fatalf("go build btcd: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(bin, "--regtest", "--datadir="+filepath.Join(dir, "data"), "--logdir="+filepath.Join(dir, "log"),
		"--rpcuser=chaintrace", "--rpcpass=chaintrace", "--rpclisten="+host, "--notls", "--nolisten",
		"--miningaddr="+miner.EncodeAddress(), "--debuglevel=warn")
	var logBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var r *bitcoin.RPC
	t.Cleanup(func() {
		if r != nil {
			r.Close()
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
	for {
		r, err = bitcoin.DialRPC(ctx, bitcoin.RPCConfig{Host: host, User: "chaintrace", Pass: "chaintrace",
			Net: &chaincfg.RegressionNetParams, Retries: 1, Backoff: 50 * time.Millisecond})
		if err == nil {
			return r
		}
		if ctx.Err() != nil {
			t.Fatalf("btcd did not answer on %s: %v\n%s", host, err, logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// regWallet is a P2PKH key this test controls.
type regWallet struct {
	priv   *btcec.PrivateKey
	addr   btcutil.Address
	script []byte
}

func newRegWallet(t *testing.T, name string) *regWallet {
	t.Helper()
	priv, pub := btcec.PrivKeyFromBytes(chainhash.HashB([]byte("chaintrace screen regtest key " + name)))
	addr, err := btcutil.NewAddressPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	return &regWallet{priv, addr, script}
}

func (w *regWallet) graphAddr() graph.Address { return graph.Address(w.addr.EncodeAddress()) }

type regCoin struct {
	op    wire.OutPoint
	value int64
	owner *regWallet
}

type regPay struct {
	to    *regWallet
	value int64
}

// regSpend signs a transaction spending coins into payments and sends it to the node.
func regSpend(t *testing.T, r *bitcoin.RPC, coins []regCoin, pays ...regPay) (string, []regCoin) {
	t.Helper()
	tx := wire.NewMsgTx(2)
	for _, c := range coins {
		tx.AddTxIn(wire.NewTxIn(&c.op, nil, nil))
	}
	for _, p := range pays {
		tx.AddTxOut(wire.NewTxOut(p.value, p.to.script))
	}
	for i, c := range coins {
		sig, err := txscript.SignatureScript(tx, i, c.owner.script, txscript.SigHashAll, c.owner.priv, true)
		if err != nil {
			t.Fatal(err)
		}
		tx.TxIn[i].SignatureScript = sig
	}
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	arg, _ := json.Marshal(hex.EncodeToString(buf.Bytes()))
	if _, err := r.Client().RawRequest("sendrawtransaction", []json.RawMessage{arg}); err != nil {
		t.Fatalf("sendrawtransaction: %v", err)
	}
	h := tx.TxHash()
	out := make([]regCoin, len(pays))
	for i, p := range pays {
		out[i] = regCoin{op: wire.OutPoint{Hash: h, Index: uint32(i)}, value: p.value, owner: p.to}
	}
	return h.String(), out
}

// The same story on a real btcd --regtest node, with signed transactions: a customer holds
// 10 clean BTC; a labelled thief address receives 20 BTC (a seed: fully tainted), pays a
// mule 15 BTC, the mule pays the customer 5 BTC. One confirmation later the follower takes
// the block and the customer's verdict goes from none to high (hop 2, 5/15), reported by the
// rescreen; the customer's deposit of the tainted coin at the exchange is high too.
func TestFollowerBtcdRegtestVerdictTurnsHigh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs btcd")
	}
	// Generous: building btcd and mining on a loaded 2-core CI machine can take minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	miner, thief, mule, customer, exchange := newRegWallet(t, "miner"), newRegWallet(t, "thief"), newRegWallet(t, "mule"), newRegWallet(t, "customer"), newRegWallet(t, "exchange")
	r := startBtcd(t, miner.addr)
	generate := func(n uint32) {
		t.Helper()
		if _, err := r.Client().Generate(n); err != nil {
			t.Fatal(err)
		}
	}
	generate(102) // the coinbases of blocks 1 and 2 mature
	coinbase := func(h uint64) regCoin {
		b, err := r.Block(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		hash, _ := chainhash.NewHashFromStr(b.UTXOTxs[0].TxID)
		return regCoin{op: wire.OutPoint{Hash: *hash}, value: int64(b.UTXOTxs[0].Outputs[0].Value.Uint64()), owner: miner}
	}
	cb1, cb2 := coinbase(1), coinbase(2)

	set := labels.NewSet()
	if err := set.Add(labels.Label{Chain: graph.Bitcoin, Address: thief.graphAddr(), Entity: "Lazarus Group (regtest fixture)", Category: labels.CategoryActor,
		Nexus: labels.NexusDPRK, Confidence: labels.ConfidenceAuthorityData, Incident: "lazarus-regtest",
		Listed: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Source: labels.Source{Document: "regtest test fixture"}}); err != nil {
		t.Fatal(err)
	}
	pol, err := screen.LoadPolicy("default-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := graph.OpenStore(ctx, graph.StoreOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := screen.New(screen.Options{Chain: graph.Bitcoin, Policy: pol, Labels: set})
	if err != nil {
		t.Fatal(err)
	}
	f, err := screen.Follow(ctx, screen.FollowOptions{Name: "regtest", Chain: graph.Bitcoin, Start: 1, Confirmations: 1,
		Config: trace.Config{Model: graph.UTXO, Method: trace.Haircut,
			Seeds:     []trace.Seed{{Address: thief.graphAddr(), Source: "lazarus-regtest"}},
			Exchanges: map[string][]graph.Address{"ExchReg": {exchange.graphAddr()}}, Params: trace.DefaultParams()},
		CheckpointEvery: 1, Store: st, Source: btcSource{r}, Screener: s})
	if err != nil {
		t.Fatal(err)
	}
	advance := func() screen.AdvanceReport {
		t.Helper()
		rep, err := f.Advance(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	check := func(w *regWallet) *screen.Verdict {
		t.Helper()
		v, err := s.CheckAddress(ctx, graph.Bitcoin, w.addr.EncodeAddress())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	regSpend(t, r, []regCoin{cb1}, regPay{customer, 1_000_000_000}, regPay{miner, 3_999_990_000})
	generate(2)
	advance()
	before := check(customer)
	if before.Risk != screen.RiskNone || !before.Known || before.Totals(graph.BTC).Received.Uint64() != 1_000_000_000 {
		t.Fatalf("customer after clean funding: %+v", before)
	}
	f.Watch(before)

	_, toThief := regSpend(t, r, []regCoin{cb2}, regPay{thief, 2_000_000_000}, regPay{miner, 2_999_990_000})
	_, toMule := regSpend(t, r, []regCoin{toThief[0]}, regPay{mule, 1_500_000_000}, regPay{thief, 499_990_000})
	_, toCustomer := regSpend(t, r, []regCoin{toMule[0]}, regPay{customer, 500_000_000}, regPay{mule, 999_990_000})
	generate(1)
	if rep := advance(); len(rep.Changes) != 0 {
		t.Fatalf("a block was taken before its confirmation: %+v", rep)
	}
	generate(1)
	rep := advance()
	if len(rep.Changes) != 1 {
		t.Fatalf("rescreen: %+v", rep)
	}
	after := rep.Changes[0].After
	if after.Risk != screen.RiskHigh || after.Rule != "indirect-share-10pct-4-hops" || after.Totals(graph.BTC).Share() != "1/3" || after.Exposures[0].Hop != 2 {
		t.Fatalf("customer after the tainted block: %+v", after)
	}
	if len(after.Evidence) != 1 || after.Evidence[0].Steps[0].Kind != "seed" || !after.Evidence[0].Complete {
		t.Fatalf("evidence %+v", after.Evidence)
	}
	if m := check(mule); m.Risk != screen.RiskSevere || m.Rule != "direct-sanctioned" {
		t.Fatalf("mule: %+v", m)
	}

	depTx, _ := regSpend(t, r, []regCoin{toCustomer[0]}, regPay{exchange, 499_990_000})
	generate(2)
	advance()
	dv, err := s.CheckDeposit(ctx, graph.Bitcoin, depTx+":0")
	if err != nil {
		t.Fatal(err)
	}
	if dv.Risk != screen.RiskHigh || dv.Exchange != "ExchReg" || dv.Exposures[0].Hop != 3 || dv.Totals(graph.BTC).Share() != "1" {
		t.Fatalf("deposit: %+v", dv)
	}
	if h, _, _ := f.Height(); h != 107 {
		t.Fatalf("follower at %d, want 107 (node tip 108, one confirmation)", h)
	}
}
