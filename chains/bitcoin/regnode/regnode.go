package regnode

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/database"
	_ "github.com/btcsuite/btcd/database/ffldb" // registers the "ffldb" driver
	"github.com/chaintrace/chaintrace/chains/bitcoin"
)

// BTC is one bitcoin in satoshi.
const BTC int64 = 100_000_000

// SegwitHeight is the first regtest height whose block may spend segwit outputs: BIP 9
// signalling starts in the first window of 144 blocks, locks in after the second and the
// rules are active from the fourth window's first block.
const SegwitHeight = 3 * 144

// ErrNode wraps every error of this package: a block btcd rejected, a Send the key's
// outputs cannot pay, a time that breaks the block time rules.
var ErrNode = errors.New("regnode")

// DefaultFirstBlockTime is the default time of block 1: a fixed date, so that a chain
// built without times is the same in every run.
var DefaultFirstBlockTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configures a Node. The zero value is a chain whose block 1 is at
// DefaultFirstBlockTime and the next ones ten minutes apart, with an RPC server on a free
// loopback port and a generated user and password.
type Options struct {
	// FirstBlockTime is the default time of block 1 (default DefaultFirstBlockTime). The
	// regtest genesis block is from 2011, before BIP 16 (P2SH) took effect on 1 April
	// 2012; segwit spends need a block time after that.
	FirstBlockTime time.Time
	// BlockInterval separates a block at the default time from the previous one
	// (default 10 minutes).
	BlockInterval time.Duration
	// Miner receives the coinbases of MineTxs blocks (default MinerKey().P2PKH()).
	Miner string
	// Listen is the RPC server's address (default 127.0.0.1:0, a free loopback port).
	Listen string
	// User and Pass are the RPC credentials (default "regnode" and a random password).
	User, Pass string
	// TempDir is where the block database's temporary directory is made (default
	// os.TempDir()); Close removes it.
	TempDir string
}

// Node is a running in-process regtest chain with its RPC server.
type Node struct {
	params   *chaincfg.Params
	dir      string
	db       database.DB
	chain    *blockchain.BlockChain
	clock    blockchain.MedianTimeSource // the chain's time source (no peers: the wall clock)
	interval time.Duration
	first    time.Time
	miner    []byte // coinbase script of MineTxs

	user, pass string
	authSHA    [32]byte
	ln         net.Listener
	srv        *http.Server
	srvDone    chan struct{}

	mu      sync.Mutex // serializes Send and mining; guards the wallet state and tipTime
	wallet  wallet
	tipTime time.Time
	closed  bool
	closeMu sync.Once

	idxMu      sync.RWMutex
	txIdx      map[chainhash.Hash]txLoc       // every transaction of the chain (a --txindex)
	pendingIdx map[chainhash.Hash]*btcutil.Tx // the transactions waiting for the next block
}

// txLoc is where a transaction is: its block's height and its index there.
type txLoc struct {
	height int32
	index  int
}

// MinerKey is the default coinbase key of MineTxs.
func MinerKey() *Key { return NewKey("regnode miner") }

// Start opens a regtest chain at its genesis block and starts the RPC server. Close
// releases both.
func Start(ctx context.Context, opts Options) (*Node, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := &Node{params: regtestParams(), interval: opts.BlockInterval, first: opts.FirstBlockTime,
		txIdx: map[chainhash.Hash]txLoc{}, pendingIdx: map[chainhash.Hash]*btcutil.Tx{}, wallet: newWallet()}
	if n.interval <= 0 {
		n.interval = 10 * time.Minute
	}
	if n.interval%time.Second != 0 {
		return nil, fmt.Errorf("%w: BlockInterval %s: block times are whole seconds", ErrNode, n.interval)
	}
	if n.first.IsZero() {
		n.first = DefaultFirstBlockTime
	}
	n.first = time.Unix(n.first.Unix(), 0)
	if genesis := n.params.GenesisBlock.Header.Timestamp; !n.first.After(genesis) {
		return nil, fmt.Errorf("%w: FirstBlockTime %s is not after the regtest genesis block (%s)",
			ErrNode, n.first.UTC().Format(time.RFC3339), genesis.UTC().Format(time.RFC3339))
	}
	miner := opts.Miner
	if miner == "" {
		miner = MinerKey().P2PKH()
	}
	var err error
	if n.miner, err = n.payScript(miner); err != nil {
		return nil, fmt.Errorf("%w: Options.Miner: %w", ErrNode, err)
	}
	n.user, n.pass = opts.User, opts.Pass
	if n.user == "" {
		n.user = "regnode"
	}
	if n.pass == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("%w: password: %w", ErrNode, err)
		}
		n.pass = hex.EncodeToString(b[:])
	}
	n.authSHA = sha256.Sum256([]byte("Basic " + base64.StdEncoding.EncodeToString([]byte(n.user+":"+n.pass))))

	if n.dir, err = os.MkdirTemp(opts.TempDir, "regnode-"); err != nil {
		return nil, fmt.Errorf("%w: block database directory: %w", ErrNode, err)
	}
	if n.db, err = database.Create("ffldb", n.dir, n.params.Net); err != nil {
		os.RemoveAll(n.dir)
		return nil, fmt.Errorf("%w: block database in %s: %w", ErrNode, n.dir, err)
	}
	n.clock = blockchain.NewMedianTime()
	n.chain, err = blockchain.New(&blockchain.Config{
		DB:               n.db,
		ChainParams:      n.params,
		TimeSource:       n.clock,
		UtxoCacheMaxSize: 16 << 20,
	})
	if err != nil {
		n.db.Close()
		os.RemoveAll(n.dir)
		return nil, fmt.Errorf("%w: blockchain: %w", ErrNode, err)
	}
	n.tipTime = n.params.GenesisBlock.Header.Timestamp

	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	if n.ln, err = (&net.ListenConfig{}).Listen(ctx, "tcp", listen); err != nil {
		n.db.Close()
		os.RemoveAll(n.dir)
		return nil, fmt.Errorf("%w: RPC listener: %w", ErrNode, err)
	}
	n.srv = &http.Server{Handler: n, ReadHeaderTimeout: 10 * time.Second}
	n.srvDone = make(chan struct{})
	go func() {
		defer close(n.srvDone)
		_ = n.srv.Serve(n.ln) // returns http.ErrServerClosed on Close
	}()
	return n, nil
}

// regtestParams is a copy of chaincfg.RegressionNetParams with deployment clocks of its
// own: blockchain.New binds each deployment's starter and ender to its chain, and the
// package variable's would be shared (and raced on) by every Node of the process.
func regtestParams() *chaincfg.Params {
	p := chaincfg.RegressionNetParams
	for i := range p.Deployments {
		d := &p.Deployments[i]
		if s, ok := d.DeploymentStarter.(*chaincfg.MedianTimeDeploymentStarter); ok {
			d.DeploymentStarter = chaincfg.NewMedianTimeDeploymentStarter(s.StartTime())
		}
		if e, ok := d.DeploymentEnder.(*chaincfg.MedianTimeDeploymentEnder); ok {
			d.DeploymentEnder = chaincfg.NewMedianTimeDeploymentEnder(e.EndTime())
		}
	}
	return &p
}

// Close stops the RPC server and removes the chain. It is safe to call more than once.
func (n *Node) Close() error {
	var err error
	n.closeMu.Do(func() {
		n.mu.Lock()
		n.closed = true
		n.mu.Unlock()
		_ = n.srv.Close()
		<-n.srvDone
		err = n.db.Close()
		if rmErr := os.RemoveAll(n.dir); err == nil {
			err = rmErr
		}
	})
	return err
}

// Params are the chain's network parameters (regtest).
func (n *Node) Params() *chaincfg.Params { return n.params }

// Host is the RPC server's host:port.
func (n *Node) Host() string { return n.ln.Addr().String() }

// User and Pass are the RPC credentials.
func (n *Node) User() string { return n.user }

// Pass is the RPC password.
func (n *Node) Pass() string { return n.pass }

// URL is the RPC endpoint with its credentials, http://user:pass@127.0.0.1:port, the form
// examples/trace's -btc-rpc takes (with -btc-net regtest).
func (n *Node) URL() string {
	u := url.URL{Scheme: "http", User: url.UserPassword(n.user, n.pass), Host: n.Host()}
	return u.String()
}

// RPCConfig is a bitcoin.RPCConfig for this node, for bitcoin.DialRPC.
func (n *Node) RPCConfig() bitcoin.RPCConfig {
	return bitcoin.RPCConfig{Host: n.Host(), User: n.user, Pass: n.pass, Net: n.params}
}

// Height is the height of the chain's tip.
func (n *Node) Height() int32 { return n.chain.BestSnapshot().Height }

// TipTime is the time of the tip block.
func (n *Node) TipTime() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.tipTime
}

// RawBlock is the serialized block at height of the chain.
func (n *Node) RawBlock(height int32) ([]byte, error) {
	hash, err := n.chain.BlockHashByHeight(height)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNode, err)
	}
	return n.rawBlock(hash)
}

func (n *Node) rawBlock(hash *chainhash.Hash) ([]byte, error) {
	var raw []byte
	err := n.db.View(func(tx database.Tx) error {
		b, err := tx.FetchBlock(hash)
		raw = b
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: block %s: %w", ErrNode, hash, err)
	}
	return raw, nil
}

// payScript is the output script paying to a regtest address.
func (n *Node) payScript(addr string) ([]byte, error) {
	a, err := btcutil.DecodeAddress(addr, n.params)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", addr, err)
	}
	if !a.IsForNet(n.params) {
		return nil, fmt.Errorf("address %q is not a regtest address", addr)
	}
	return payToAddrScript(a)
}
