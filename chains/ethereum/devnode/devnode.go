package devnode

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/tracers"
	_ "github.com/ethereum/go-ethereum/eth/tracers/native" // registers callTracer
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
)

// Config configures a dev chain. The zero value gives 8 accounts of 1000 ETH each, an HTTP
// endpoint on a free loopback port and the debug API.
type Config struct {
	Accounts int      // number of pre-funded accounts; default 8
	Balance  *big.Int // balance of each account in wei; default 1000 ETH
	NoHTTP   bool     // serve JSON-RPC in-process only
	NoDebug  bool     // do not register the debug (tracer) API: a node like most public ones
	// FeeRecipient receives the priority fees of sealed blocks; default a fixed address that
	// is none of the accounts (so their balances are not disturbed by tips).
	FeeRecipient common.Address
	// BatchRequestLimit and BatchResponseMaxSize override the node's JSON-RPC batch limits
	// (geth's defaults: 1000 calls, 25 MB), to test clients against stricter providers.
	BatchRequestLimit    int
	BatchResponseMaxSize int
}

// Account is a pre-funded key.
type Account struct {
	Key     *ecdsa.PrivateKey
	Address common.Address
}

// Node is a running dev chain.
type Node struct {
	stack   *node.Node
	backend *eth.Ethereum
	beacon  *catalyst.SimulatedBeacon
	rpc     *rpc.Client
	client  *ethclient.Client
	chainID *big.Int
	signer  types.Signer

	accounts     []*Account
	feeRecipient common.Address
	noHTTP       bool

	mu       sync.Mutex // guards nonces and unsealed
	nonces   map[common.Address]uint64
	unsealed []common.Hash // sent since the last Commit
	sealMu   sync.Mutex    // the simulated beacon is not safe for concurrent sealing
}

// Ether returns n ETH in wei.
func Ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.Ether)) }

// Gwei returns n Gwei in wei.
func Gwei(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.GWei)) }

// DefaultFeeRecipient is the fee recipient when Config.FeeRecipient is zero.
var DefaultFeeRecipient = common.HexToAddress("0x00000000000000000000000000000000000fee00")

// Start builds the genesis, starts the node and the simulated beacon, and seals nothing yet:
// the chain is at block 0 until the first Commit.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Accounts <= 0 {
		cfg.Accounts = 8
	}
	if cfg.Balance == nil {
		cfg.Balance = Ether(1000)
	}
	if cfg.FeeRecipient == (common.Address{}) {
		cfg.FeeRecipient = DefaultFeeRecipient
	}
	n := &Node{feeRecipient: cfg.FeeRecipient, noHTTP: cfg.NoHTTP, nonces: map[common.Address]uint64{}}
	alloc := core.SystemContractAllocs()
	for i := 0; i < cfg.Accounts; i++ {
		// Deterministic keys, so addresses are stable across runs (handy in fixtures).
		key, err := crypto.ToECDSA(crypto.Keccak256([]byte(fmt.Sprintf("chaintrace devnode account %d", i))))
		if err != nil {
			return nil, fmt.Errorf("devnode: key %d: %w", i, err)
		}
		a := &Account{Key: key, Address: crypto.PubkeyToAddress(key.PublicKey)}
		n.accounts = append(n.accounts, a)
		alloc[a.Address] = types.Account{Balance: new(big.Int).Set(cfg.Balance)}
	}

	nodeConf := node.DefaultConfig
	nodeConf.DataDir = ""
	nodeConf.P2P = p2p.Config{NoDiscovery: true, MaxPeers: 0, ListenAddr: ""}
	nodeConf.IPCPath = ""
	nodeConf.WSHost = ""
	nodeConf.AuthPort = 0
	if cfg.NoHTTP {
		nodeConf.HTTPHost = ""
	} else {
		nodeConf.HTTPHost = "127.0.0.1"
		nodeConf.HTTPPort = 0 // any free port; see HTTPURL
		nodeConf.HTTPModules = []string{"eth", "net", "web3", "debug", "dev"}
		if cfg.NoDebug {
			nodeConf.HTTPModules = []string{"eth", "net", "web3", "dev"}
		}
	}
	if cfg.BatchRequestLimit > 0 {
		nodeConf.BatchRequestLimit = cfg.BatchRequestLimit
	}
	if cfg.BatchResponseMaxSize > 0 {
		nodeConf.BatchResponseMaxSize = cfg.BatchResponseMaxSize
	}
	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("devnode: node: %w", err)
	}
	genesis := &core.Genesis{
		Config:   params.AllDevChainProtocolChanges,
		GasLimit: ethconfig.Defaults.Miner.GasCeil,
		BaseFee:  big.NewInt(params.InitialBaseFee),
		Alloc:    maps.Clone(alloc),
	}
	ethConf := ethconfig.Defaults
	ethConf.Genesis = genesis
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.TxPool.NoLocals = true
	ethConf.Miner.PendingFeeRecipient = cfg.FeeRecipient
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnode: eth service: %w", err)
	}
	if !cfg.NoDebug {
		stack.RegisterAPIs(tracers.APIs(backend.APIBackend))
	}
	// A period of 0 would make the dev API seal a block on every new transaction; a huge
	// period and no Start keep sealing manual (Commit) while dev_addWithdrawal still works.
	beacon, err := catalyst.NewSimulatedBeacon(1<<32, cfg.FeeRecipient, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnode: simulated beacon: %w", err)
	}
	catalyst.RegisterSimulatedBeaconAPIs(stack, beacon)
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("devnode: start: %w", err)
	}
	n.stack, n.backend, n.beacon = stack, backend, beacon
	n.rpc = stack.Attach()
	n.client = ethclient.NewClient(n.rpc)
	n.chainID = genesis.Config.ChainID
	n.signer = types.LatestSignerForChainID(n.chainID)
	return n, nil
}

// Close stops the node.
func (n *Node) Close() error {
	if n.stack == nil {
		return nil
	}
	n.rpc.Close()
	err := n.beacon.Stop()
	err = errors.Join(err, n.stack.Close())
	n.stack = nil
	return err
}

// RPC returns an in-process JSON-RPC client (no network).
func (n *Node) RPC() *rpc.Client { return n.rpc }

// Client returns an ethclient on the in-process connection.
func (n *Node) Client() *ethclient.Client { return n.client }

// HTTPURL returns the loopback HTTP JSON-RPC endpoint ("" with Config.NoHTTP).
func (n *Node) HTTPURL() string {
	if n.noHTTP {
		return ""
	}
	return n.stack.HTTPEndpoint()
}

// ChainID returns the chain id (1337).
func (n *Node) ChainID() *big.Int { return new(big.Int).Set(n.chainID) }

// Account returns the i-th pre-funded account.
func (n *Node) Account(i int) *Account { return n.accounts[i] }

// Accounts returns all pre-funded accounts.
func (n *Node) Accounts() []*Account { return n.accounts }

// FeeRecipient returns the address that receives the blocks' priority fees.
func (n *Node) FeeRecipient() common.Address { return n.feeRecipient }

// Tx describes a transaction to send. To nil creates a contract from Data.
type Tx struct {
	To    *common.Address
	Value *big.Int
	Data  []byte
	// Gas is the gas limit; 0 estimates it. Set it to send a transaction that will fail
	// (estimation refuses those).
	Gas uint64
	// Tip is the priority fee per gas; default 1 Gwei.
	Tip *big.Int
}

// Send signs tx with from's key at from's next nonce and submits it to the pool. It is sealed
// by the next Commit.
func (n *Node) Send(ctx context.Context, from *Account, tx Tx) (*types.Transaction, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	nonce, ok := n.nonces[from.Address]
	if !ok {
		var err error
		if nonce, err = n.client.PendingNonceAt(ctx, from.Address); err != nil {
			return nil, fmt.Errorf("devnode: nonce of %s: %w", from.Address, err)
		}
	}
	value := tx.Value
	if value == nil {
		value = new(big.Int)
	}
	tip := tx.Tip
	if tip == nil {
		tip = big.NewInt(params.GWei)
	}
	head, err := n.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("devnode: head: %w", err)
	}
	// Twice the current base fee covers the largest possible rise over the next block.
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	gas := tx.Gas
	if gas == 0 {
		gas, err = n.client.EstimateGas(ctx, ethereum.CallMsg{
			From: from.Address, To: tx.To, Value: value, Data: tx.Data, GasFeeCap: feeCap, GasTipCap: tip,
		})
		if err != nil {
			return nil, fmt.Errorf("devnode: estimate gas of tx from %s (nonce %d): %w", from.Address, nonce, err)
		}
	}
	signed, err := types.SignNewTx(from.Key, n.signer, &types.DynamicFeeTx{
		ChainID: n.chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas,
		To: tx.To, Value: value, Data: tx.Data,
	})
	if err != nil {
		return nil, fmt.Errorf("devnode: sign: %w", err)
	}
	if err := n.client.SendTransaction(ctx, signed); err != nil {
		return nil, fmt.Errorf("devnode: send tx from %s (nonce %d): %w", from.Address, nonce, err)
	}
	n.nonces[from.Address] = nonce + 1
	n.unsealed = append(n.unsealed, signed.Hash())
	return signed, nil
}

// Deploy sends a contract-creation transaction with code (creation bytecode followed by
// the encoded constructor arguments) and returns the address the contract will have.
func (n *Node) Deploy(ctx context.Context, from *Account, code []byte, value *big.Int) (common.Address, *types.Transaction, error) {
	tx, err := n.Send(ctx, from, Tx{Data: code, Value: value})
	if err != nil {
		return common.Address{}, nil, err
	}
	return crypto.CreateAddress(from.Address, tx.Nonce()), tx, nil
}

// Commit seals one block holding every pending transaction and returns it.
func (n *Node) Commit(ctx context.Context) (*types.Block, error) {
	hash, want, err := n.seal(ctx, 1)
	if err != nil {
		return nil, err
	}
	b, err := n.client.BlockByHash(ctx, hash)
	if err != nil {
		return nil, fmt.Errorf("devnode: sealed block %s: %w", hash, err)
	}
	in := make(map[common.Hash]bool, len(b.Transactions()))
	for _, tx := range b.Transactions() {
		in[tx.Hash()] = true
	}
	for _, h := range want {
		if !in[h] {
			return nil, fmt.Errorf("devnode: sealed block %d (%s) lacks transaction %s, which was pending", b.NumberU64(), hash, h)
		}
	}
	return b, nil
}

// seal seals count blocks and returns the last one's hash and the transactions sent since
// the previous seal, which those blocks were built to hold.
//
// The pool queues a submitted transaction and promotes it to pending in the background.
// Sealing forces a pool reset, and a reset that runs while a promotion is still queued
// leaves the transaction queued for good (the reset's nonces come from the state, not from
// the pending transactions): the block then lacks it (seen under load: 2 of 5 in). So:
// wait until every transaction sent since the last seal is pending, without forcing a
// reset, then seal, then let the new head's reset finish before returning, so that the
// next Send does not race it either.
func (n *Node) seal(ctx context.Context, count int) (common.Hash, []common.Hash, error) {
	n.sealMu.Lock()
	defer n.sealMu.Unlock()
	n.mu.Lock()
	want := n.unsealed
	n.mu.Unlock()
	if err := n.awaitPending(ctx, want); err != nil {
		return common.Hash{}, nil, err
	}
	var hash common.Hash
	for i := 0; i < count; i++ {
		hash = n.beacon.Commit()
	}
	if err := n.backend.TxPool().Sync(); err != nil {
		return common.Hash{}, nil, fmt.Errorf("devnode: sync the pool: %w", err)
	}
	n.mu.Lock()
	n.unsealed = n.unsealed[len(want):]
	n.mu.Unlock()
	return hash, want, nil
}

// awaitPending waits (up to 10 s) until every transaction of hashes is pending in the pool.
func (n *Node) awaitPending(ctx context.Context, hashes []common.Hash) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		missing := 0
		for _, h := range hashes {
			if n.backend.TxPool().Status(h) != txpool.TxStatusPending {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devnode: %d of %d sent transactions are still not pending after 10 s", missing, len(hashes))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Mine seals count empty (or pending-transaction) blocks and returns the head number.
func (n *Node) Mine(ctx context.Context, count int) (uint64, error) {
	if _, _, err := n.seal(ctx, count); err != nil {
		return 0, err
	}
	return n.client.BlockNumber(ctx)
}

// Receipt returns the receipt of a sealed transaction.
func (n *Node) Receipt(ctx context.Context, hash common.Hash) (*types.Receipt, error) {
	r, err := n.client.TransactionReceipt(ctx, hash)
	if err != nil {
		return nil, fmt.Errorf("devnode: receipt of %s: %w", hash, err)
	}
	return r, nil
}

// AddWithdrawal queues a beacon-chain withdrawal of gwei Gwei to addr; the next Commit
// includes it (at most 10 per block).
func (n *Node) AddWithdrawal(ctx context.Context, index, validator uint64, addr common.Address, gwei uint64) error {
	w := &types.Withdrawal{Index: index, Validator: validator, Address: addr, Amount: gwei}
	if err := n.rpc.CallContext(ctx, nil, "dev_addWithdrawal", w); err != nil {
		return fmt.Errorf("devnode: add withdrawal: %w", err)
	}
	return nil
}

// Fork makes block parent the head, so the next Commit builds a competing branch on it. The
// pool must be empty. Nonces of all accounts are re-read from the new head.
func (n *Node) Fork(parent common.Hash) error {
	n.sealMu.Lock()
	defer n.sealMu.Unlock()
	if err := n.beacon.Fork(parent); err != nil {
		return fmt.Errorf("devnode: fork at %s: %w", parent, err)
	}
	n.mu.Lock()
	clear(n.nonces)
	n.unsealed = nil
	n.mu.Unlock()
	return nil
}
