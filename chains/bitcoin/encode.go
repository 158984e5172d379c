package bitcoin

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/btcsuite/btcd/chaincfg"
)

// Allocation-free address encoders for the decoder's hot path. They write into the block's
// text buffer; the public ScriptAddress uses them too, so both paths give the same text.

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// appendBase58Check appends the base58check encoding of version‖payload (20 bytes).
func appendBase58Check(dst []byte, version byte, payload []byte) []byte {
	var buf [25]byte
	buf[0] = version
	copy(buf[1:21], payload)
	first := sha256.Sum256(buf[:21])
	second := sha256.Sum256(first[:])
	copy(buf[21:], second[:4])
	return appendBase58(dst, buf[:])
}

// appendBase58 appends the base58 encoding of in (at most 32 bytes). The number is
// converted in limbs of 58^5 fed three input bytes at a time, which keeps every product
// inside 64 bits: limb < 58^5 < 2^30, times 2^24, plus a carry below 2^54.
func appendBase58(dst []byte, in []byte) []byte {
	const limbBase = 58 * 58 * 58 * 58 * 58
	zeros := 0
	for zeros < len(in) && in[zeros] == 0 {
		zeros++
	}
	var limbs [10]uint64 // little-endian; 32 bytes need at most 9
	n := 0
	for i := zeros; i < len(in); {
		k := (len(in) - i) % 3
		if k == 0 {
			k = 3
		}
		var carry uint64
		for j := 0; j < k; j++ {
			carry = carry<<8 | uint64(in[i+j])
		}
		shift := uint(8 * k)
		for j := 0; j < n; j++ {
			carry += limbs[j] << shift
			limbs[j] = carry % limbBase
			carry /= limbBase
		}
		for carry > 0 {
			limbs[n] = carry % limbBase
			carry /= limbBase
			n++
		}
		i += k
	}
	var digits [50]byte
	nd := 0
	for j := 0; j < n; j++ {
		v := limbs[j]
		for d := 0; d < 5; d++ {
			digits[nd] = byte(v % 58)
			v /= 58
			nd++
		}
	}
	for nd > 0 && digits[nd-1] == 0 {
		nd--
	}
	for z := 0; z < zeros; z++ {
		dst = append(dst, '1')
	}
	for j := nd - 1; j >= 0; j-- {
		dst = append(dst, base58Alphabet[digits[j]])
	}
	return dst
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

var bech32Gen = [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}

// polymodTable[b] is the XOR of the generator terms selected by the five bits of b, so a
// BCH checksum step is a shift, an XOR and one lookup instead of five conditional XORs.
var polymodTable = func() (t [32]uint32) {
	for b := range t {
		for i := 0; i < 5; i++ {
			if (b>>i)&1 == 1 {
				t[b] ^= bech32Gen[i]
			}
		}
	}
	return t
}()

func polymodStep(chk uint32, v byte) uint32 {
	return (chk&0x1ffffff)<<5 ^ uint32(v) ^ polymodTable[chk>>25]
}

// appendSegWit appends the BIP 173 (version 0, bech32) or BIP 350 (version ≥ 1, bech32m)
// address of a witness program. hrp is lower case (chaincfg's Bech32HRPSegwit).
func appendSegWit(dst []byte, hrp string, version byte, program []byte) []byte {
	var data [1 + 64]byte // version + 5-bit groups of at most 40 bytes
	data[0] = version
	nd := 1
	var acc uint32
	bits := 0
	for _, b := range program {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			data[nd] = byte(acc>>uint(bits)) & 31
			nd++
		}
	}
	if bits > 0 {
		data[nd] = byte(acc<<uint(5-bits)) & 31
		nd++
	}
	chk := uint32(1)
	for i := 0; i < len(hrp); i++ {
		chk = polymodStep(chk, hrp[i]>>5)
	}
	chk = polymodStep(chk, 0)
	for i := 0; i < len(hrp); i++ {
		chk = polymodStep(chk, hrp[i]&31)
	}
	for i := 0; i < nd; i++ {
		chk = polymodStep(chk, data[i])
	}
	for i := 0; i < 6; i++ {
		chk = polymodStep(chk, 0)
	}
	if version == 0 {
		chk ^= 1
	} else {
		chk ^= 0x2bc830a3
	}
	dst = append(dst, hrp...)
	dst = append(dst, '1')
	for i := 0; i < nd; i++ {
		dst = append(dst, bech32Charset[data[i]])
	}
	for i := 0; i < 6; i++ {
		dst = append(dst, bech32Charset[(chk>>uint(5*(5-i)))&31])
	}
	return dst
}

// appendScriptAddress appends the canonical address of an output script (see
// ScriptAddress) to text and returns the string viewing it.
func appendScriptAddress(text []byte, script []byte, net *chaincfg.Params) ([]byte, string, bool) {
	text, _, s, unspendable := appendScriptAddressClass(text, script, net)
	return text, s, unspendable
}

func appendScriptAddressClass(text []byte, script []byte, net *chaincfg.Params) ([]byte, ScriptClass, string, bool) {
	class, data := ClassifyScript(script)
	start := len(text)
	switch class {
	case PubKey, PubKeyHash:
		text = appendBase58Check(text, net.PubKeyHashAddrID, data)
	case ScriptHash:
		text = appendBase58Check(text, net.ScriptHashAddrID, data)
	case WitnessV0PKH, WitnessV0SH, WitnessV1Taproot, WitnessUnknown:
		version := byte(0)
		if script[0] != op0 {
			version = script[0] - op1 + 1
		}
		text = appendSegWit(text, net.Bech32HRPSegwit, version, data)
	case NullData:
		return text, class, "", true
	default:
		sum := sha256.Sum256(script)
		text = append(text, "nonstandard"...)
		text = hex.AppendEncode(text, sum[:20])
	}
	return text, class, bytesString(text[start:]), false
}
