package graph

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/chaincfg"
	"golang.org/x/crypto/sha3"
)

// Chain names a blockchain. Test networks are the same chain with other parameters.
type Chain string

// The chains chaintrace knows.
const (
	Bitcoin  Chain = "bitcoin"
	Ethereum Chain = "ethereum"
)

// ParseChain accepts a chain name (case-insensitive; "btc" and "eth" are accepted too).
func ParseChain(s string) (Chain, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "bitcoin", "btc", "xbt":
		return Bitcoin, nil
	case "ethereum", "eth":
		return Ethereum, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownChain, s)
}

// Model is the accounting model of a chain.
type Model string

// The two accounting models.
const (
	UTXO    Model = "utxo"
	Account Model = "account"
)

// Model returns the chain's accounting model.
func (c Chain) Model() Model {
	if c == Bitcoin {
		return UTXO
	}
	return Account
}

// NativeAsset returns the chain's native asset.
func (c Chain) NativeAsset() Asset {
	if c == Bitcoin {
		return BTC
	}
	return ETH
}

// Address is an address in canonical text form (see ParseAddress). Scenario files may use
// free-form names ("H", "EX_A1") as addresses: the model treats an Address as opaque text.
type Address string

// ZeroAddress is Ethereum's 0x0…0: transfers from it are mints, transfers to it are burns.
const ZeroAddress Address = "0x0000000000000000000000000000000000000000"

// Asset names what an amount counts: BTC, ETH, or an ERC-20 token (its contract address in
// canonical form; scenario files may use a symbol such as "USDT").
type Asset string

// Native assets.
const (
	BTC Asset = "BTC"
	ETH Asset = "ETH"
)

// Errors wrapped by ParseAddress and ParseChain.
var (
	ErrBadAddress   = errors.New("malformed address")
	ErrBadChecksum  = errors.New("address checksum mismatch")
	ErrUnknownChain = errors.New("unknown chain")
)

// ParseAddress validates s as an address of chain c and returns its canonical form:
//
//   - Ethereum: 0x + 40 hex digits, returned in lower case. A mixed-case address must carry a
//     valid EIP-55 checksum (a wrong one is ErrBadChecksum): a typo is caught, not traced.
//   - Bitcoin: any address of mainnet, testnet, signet or regtest (base58check or
//     bech32/bech32m), re-encoded canonically (bech32 in lower case). Pseudo-addresses for
//     non-standard scripts ("nonstandard" + hex) are accepted as they are.
func ParseAddress(c Chain, s string) (Address, error) {
	s = strings.TrimSpace(s)
	switch c {
	case Ethereum:
		return parseEthereumAddress(s)
	case Bitcoin:
		return parseBitcoinAddress(s)
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownChain, c)
}

func parseEthereumAddress(s string) (Address, error) {
	if len(s) != 42 || (s[:2] != "0x" && s[:2] != "0X") {
		return "", fmt.Errorf("%w: %q is not 0x followed by 40 hex digits", ErrBadAddress, s)
	}
	body := s[2:]
	if _, err := hex.DecodeString(body); err != nil {
		return "", fmt.Errorf("%w: %q is not 0x followed by 40 hex digits", ErrBadAddress, s)
	}
	lower := strings.ToLower(body)
	if body != lower && body != strings.ToUpper(body) {
		if want := checksumEthereum(lower); want != "0x"+body {
			return "", fmt.Errorf("%w: %q (EIP-55 form is %s)", ErrBadChecksum, s, want)
		}
	}
	return Address("0x" + lower), nil
}

// ChecksumAddress returns the EIP-55 mixed-case display form of a canonical Ethereum
// address; other addresses are returned unchanged.
func ChecksumAddress(a Address) string {
	s := string(a)
	if len(s) != 42 || s[:2] != "0x" {
		return s
	}
	if _, err := hex.DecodeString(s[2:]); err != nil {
		return s
	}
	return checksumEthereum(strings.ToLower(s[2:]))
}

func checksumEthereum(lowerHex string) string {
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(lowerHex))
	sum := h.Sum(nil)
	out := []byte(lowerHex)
	for i := range out {
		if out[i] < 'a' {
			continue
		}
		nibble := sum[i/2]
		if i%2 == 0 {
			nibble >>= 4
		}
		if nibble&0xf >= 8 {
			out[i] -= 'a' - 'A'
		}
	}
	return "0x" + string(out)
}

var bitcoinNets = []*chaincfg.Params{
	&chaincfg.MainNetParams, &chaincfg.TestNet3Params, &chaincfg.SigNetParams, &chaincfg.RegressionNetParams,
}

// futureSegWit returns the canonical (lower-case) form of s if it is a segwit address of
// witness version 2–16 on one of the known networks.
func futureSegWit(s string) (Address, bool) {
	hrp, data, ver, err := bech32.DecodeGeneric(s)
	if err != nil || ver != bech32.VersionM || len(data) < 1 || data[0] < 2 || data[0] > 16 {
		return "", false
	}
	known := false
	for _, p := range bitcoinNets {
		known = known || hrp == p.Bech32HRPSegwit
	}
	prog, err := bech32.ConvertBits(data[1:], 5, 8, false)
	if !known || err != nil || len(prog) < 2 || len(prog) > 40 {
		return "", false
	}
	return Address(strings.ToLower(s)), true
}

func parseBitcoinAddress(s string) (Address, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrBadAddress)
	}
	if strings.HasPrefix(s, "nonstandard") {
		if _, err := hex.DecodeString(strings.TrimPrefix(s, "nonstandard")); err == nil {
			return Address(s), nil
		}
	}
	var firstErr error
	for _, p := range bitcoinNets {
		a, err := btcutil.DecodeAddress(s, p)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if !a.IsForNet(p) {
			continue
		}
		return Address(a.EncodeAddress()), nil
	}
	// btcutil knows witness versions 0 and 1 only; versions 2–16 (BIP 350: bech32m, a
	// program of 2–40 bytes) are valid addresses that chains/bitcoin emits for such outputs.
	if a, ok := futureSegWit(s); ok {
		return a, nil
	}
	if firstErr != nil && strings.Contains(firstErr.Error(), "checksum") {
		return "", fmt.Errorf("%w: %q: %v", ErrBadChecksum, s, firstErr)
	}
	return "", fmt.Errorf("%w: %q is not a Bitcoin address: %v", ErrBadAddress, s, firstErr)
}
