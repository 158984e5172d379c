package bitcoin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/chaintrace/chaintrace/graph"
)

// ScriptClass is the kind of an output script (scriptPubKey), with the names Bitcoin Core's
// decodescript uses.
type ScriptClass uint8

// Script classes. Bare multisig and everything unrecognized get a pseudo-address.
const (
	NonStandard      ScriptClass = iota // no address: pseudo-address "nonstandard" + hash
	PubKey                              // P2PK: shown as the P2PKH address of its key
	PubKeyHash                          // P2PKH
	ScriptHash                          // P2SH
	WitnessV0PKH                        // P2WPKH
	WitnessV0SH                         // P2WSH
	WitnessV1Taproot                    // P2TR
	WitnessUnknown                      // segwit v1..v16 program of another length or version
	MultiSig                            // bare multisig: pseudo-address like non-standard
	NullData                            // OP_RETURN (or over-long script): provably unspendable
)

var scriptClassNames = [...]string{
	NonStandard: "nonstandard", PubKey: "pubkey", PubKeyHash: "pubkeyhash", ScriptHash: "scripthash",
	WitnessV0PKH: "witness_v0_keyhash", WitnessV0SH: "witness_v0_scripthash",
	WitnessV1Taproot: "witness_v1_taproot", WitnessUnknown: "witness_unknown",
	MultiSig: "multisig", NullData: "nulldata",
}

func (c ScriptClass) String() string {
	if int(c) < len(scriptClassNames) {
		return scriptClassNames[c]
	}
	return fmt.Sprintf("ScriptClass(%d)", uint8(c))
}

// Opcodes the classifier matches.
const (
	op0             = 0x00
	op1             = 0x51
	op16            = 0x60
	opReturn        = 0x6a
	opDup           = 0x76
	opEqual         = 0x87
	opEqualVerify   = 0x88
	opHash160       = 0xa9
	opCheckSig      = 0xac
	opCheckMultiSig = 0xae
	// maxScriptSize is consensus MAX_SCRIPT_SIZE: a longer output script can never be spent.
	maxScriptSize = 10000
)

// NonStandardAddress is the pseudo-address of a script without an address: "nonstandard"
// followed by the first 20 bytes (40 hex digits) of SHA-256 of the script bytes. It is the rule
// of bitcoin-etl (btc_script_service.script_hex_to_non_standard_address), so the addresses
// agree with the public BigQuery datasets.
func NonStandardAddress(pkScript []byte) graph.Address {
	sum := sha256.Sum256(pkScript)
	var buf [len("nonstandard") + 40]byte
	copy(buf[:], "nonstandard")
	hex.Encode(buf[len("nonstandard"):], sum[:20])
	return graph.Address(buf[:])
}

// ClassifyScript returns the class of an output script and the bytes its address encodes:
// the 20-byte hash for P2PKH/P2SH/P2WPKH (and, hashed from the key, P2PK), the witness
// program for P2WSH/P2TR/other witness versions; nil otherwise.
func ClassifyScript(s []byte) (ScriptClass, []byte) {
	n := len(s)
	switch {
	case n == 25 && s[0] == opDup && s[1] == opHash160 && s[2] == 20 && s[23] == opEqualVerify && s[24] == opCheckSig:
		return PubKeyHash, s[3:23]
	case n == 23 && s[0] == opHash160 && s[1] == 20 && s[22] == opEqual:
		return ScriptHash, s[2:22]
	case n == 22 && s[0] == op0 && s[1] == 20:
		return WitnessV0PKH, s[2:]
	case n == 34 && s[0] == op0 && s[1] == 32:
		return WitnessV0SH, s[2:]
	case n == 34 && s[0] == op1 && s[1] == 32:
		return WitnessV1Taproot, s[2:]
	case n >= 4 && n <= 42 && s[0] >= op1 && s[0] <= op16 && int(s[1]) == n-2:
		return WitnessUnknown, s[2:]
	// P2PK as Bitcoin Core's Solver matches it: a push of a key whose length fits its
	// prefix byte (CPubKey::ValidSize), then OP_CHECKSIG. The key need not be on the curve.
	case n == 35 && s[0] == 33 && (s[1] == 2 || s[1] == 3) && s[34] == opCheckSig:
		return PubKey, btcutil.Hash160(s[1:34])
	case n == 67 && s[0] == 65 && (s[1] == 4 || s[1] == 6 || s[1] == 7) && s[66] == opCheckSig:
		return PubKey, btcutil.Hash160(s[1:66])
	case n > 0 && s[0] == opReturn, n > maxScriptSize:
		return NullData, nil
	case isBareMultiSig(s):
		return MultiSig, nil
	}
	return NonStandard, nil
}

// isBareMultiSig matches OP_m <key>… OP_n OP_CHECKMULTISIG with 1 ≤ m ≤ n ≤ 16 and
// 33- or 65-byte key pushes.
func isBareMultiSig(s []byte) bool {
	if len(s) < 3+34 || s[len(s)-1] != opCheckMultiSig {
		return false
	}
	m, n := s[0], s[len(s)-2]
	if m < op1 || m > op16 || n < m || n > op16 {
		return false
	}
	keys := 0
	for i := 1; i < len(s)-2; {
		l := int(s[i])
		if (l != 33 && l != 65) || i+1+l > len(s)-2 {
			return false
		}
		i += 1 + l
		keys++
	}
	return keys == int(n-op1+1)
}

// ScriptAddress returns the canonical address of an output script on net (see the package
// documentation for the rules), its class, and whether the output is provably unspendable.
// It never fails: a script without an address gets its pseudo-address, OP_RETURN the empty
// address.
func ScriptAddress(pkScript []byte, net *chaincfg.Params) (graph.Address, ScriptClass, bool) {
	_, class, s, unspendable := appendScriptAddressClass(nil, pkScript, net)
	return graph.Address(s), class, unspendable
}
