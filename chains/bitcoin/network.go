package bitcoin

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/chaincfg"
)

// ParseNetwork returns the parameters of a Bitcoin network by name: "mainnet" ("main",
// "bitcoin"), "testnet" ("testnet3"), "testnet4", "signet" (the default signet) or "regtest".
func ParseNetwork(name string) (*chaincfg.Params, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "mainnet", "main", "bitcoin":
		return &chaincfg.MainNetParams, nil
	case "testnet", "testnet3", "test":
		return &chaincfg.TestNet3Params, nil
	case "testnet4":
		return &chaincfg.TestNet4Params, nil
	case "signet":
		return &chaincfg.SigNetParams, nil
	case "regtest", "regression":
		return &chaincfg.RegressionNetParams, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownNetwork, name)
}

// magicBytes is the network magic as it appears on disk and on the wire (little-endian
// encoding of wire.BitcoinNet): f9beb4d9 on mainnet.
func magicBytes(net *chaincfg.Params) [4]byte {
	m := uint32(net.Net)
	return [4]byte{byte(m), byte(m >> 8), byte(m >> 16), byte(m >> 24)}
}
