// Package contracts holds the Solidity contracts chaintrace's Ethereum tests play on a dev
// chain, compiled once with solc-js and committed (build/*.bin, build/*.abi.json), so tests
// and CI need neither solc nor npm. See README.md for how the artifacts were built.
//
//   - Token: a minimal ERC-20 (owner mints, holders burn by a Transfer to 0x0, transfer,
//     approve/transferFrom).
//   - Forwarder (+ Relay, Child): forwards ETH through internal calls, through a relay, through
//     a relay call that reverts (its value and subtree are undone), and through CREATE/CREATE2
//     with value followed by SELFDESTRUCT.
//   - Pool: a Tornado-style fixed-denomination (1 ETH) pool whose withdrawal pays the
//     recipient and a relayer fee by two internal transfers.
//   - WETH9: the canonical wrapped ether (Deposit/Withdrawal logs, no Transfer on either).
//   - PairV2 (+ RouterV2): a Uniswap-V2-style constant-product pair with V2's swap and Swap
//     event; the router pulls the input into the first pair and each pair pays the next.
//   - PoolV3 (+ RouterV3): a simplified Uniswap-V3-style pool whose swap pays out, calls
//     back for the input and logs V3's Swap (signed amounts), in V3's order.
//   - THORChainRouter: THORChain's Ethereum router (v4.1): deposit/depositWithExpiry,
//     transferOut, transferOutAndCall with the real Deposit/TransferOut events.
//   - Impostor: emits Swap, Deposit, Withdrawal and TransferOut without moving anything.
//
// Load returns a contract's ABI and creation bytecode.
package contracts

import (
	"embed"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
)

//go:embed build/*.bin build/*.abi.json
var build embed.FS

// Names of the compiled contracts.
const (
	Token     = "Token"
	Forwarder = "Forwarder"
	Relay     = "Relay"
	Child     = "Child"
	Pool      = "Pool"

	WETH9           = "WETH9"
	PairV2          = "PairV2"
	RouterV2        = "RouterV2"
	PoolV3          = "PoolV3"
	RouterV3        = "RouterV3"
	THORChainRouter = "THORChainRouter"
	Impostor        = "Impostor"
)

// Contract is one compiled contract.
type Contract struct {
	Name     string
	ABI      abi.ABI
	Bytecode []byte // creation code, without constructor arguments
}

// Load returns the compiled contract called name.
func Load(name string) (*Contract, error) {
	bin, err := build.ReadFile("build/" + name + ".bin")
	if err != nil {
		return nil, fmt.Errorf("contracts: no compiled contract %q: %w", name, err)
	}
	code, err := hex.DecodeString(strings.TrimSpace(string(bin)))
	if err != nil {
		return nil, fmt.Errorf("contracts: %s.bin is not hex: %w", name, err)
	}
	abiJSON, err := build.ReadFile("build/" + name + ".abi.json")
	if err != nil {
		return nil, fmt.Errorf("contracts: no ABI for %q: %w", name, err)
	}
	parsed, err := abi.JSON(strings.NewReader(string(abiJSON)))
	if err != nil {
		return nil, fmt.Errorf("contracts: %s.abi.json: %w", name, err)
	}
	return &Contract{Name: name, ABI: parsed, Bytecode: code}, nil
}

// DeployData returns the creation code followed by the ABI-encoded constructor arguments.
func (c *Contract) DeployData(args ...any) ([]byte, error) {
	enc, err := c.ABI.Pack("", args...)
	if err != nil {
		return nil, fmt.Errorf("contracts: %s constructor arguments: %w", c.Name, err)
	}
	return append(append([]byte{}, c.Bytecode...), enc...), nil
}

// Call returns the calldata of method with args.
func (c *Contract) Call(method string, args ...any) ([]byte, error) {
	data, err := c.ABI.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("contracts: %s.%s: %w", c.Name, method, err)
	}
	return data, nil
}
