package ethereum

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
)

// Topic0 of the events the link detectors read (keccak-256 of the event signature).
const (
	// TopicWETHDeposit is WETH9's Deposit(address indexed dst, uint wad).
	TopicWETHDeposit = "0xe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c"
	// TopicWETHWithdrawal is WETH9's Withdrawal(address indexed src, uint wad).
	TopicWETHWithdrawal = "0x7fcf532c15f0a6db0bd6d0e038bea71d30d808c7d98cb3bf7268a95bf5081b65"
	// TopicUniswapV2Swap is Uniswap V2's Swap(address indexed sender, uint amount0In,
	// uint amount1In, uint amount0Out, uint amount1Out, address indexed to).
	TopicUniswapV2Swap = "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"
	// TopicUniswapV3Swap is Uniswap V3's Swap(address indexed sender, address indexed
	// recipient, int256 amount0, int256 amount1, uint160 sqrtPriceX96, uint128 liquidity,
	// int24 tick).
	TopicUniswapV3Swap = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"
	// TopicTHORChainDeposit is THORChain's router Deposit(address indexed to, address
	// indexed asset, uint amount, string memo).
	TopicTHORChainDeposit = "0xef519b7eb82aaf6ac376a6df2d793843ebfd593de5f1a0601d3cc6ab49ebb395"
	// TopicTHORChainTransferOut is THORChain's router TransferOut(address indexed vault,
	// address indexed to, address asset, uint amount, string memo).
	TopicTHORChainTransferOut = "0xa9cd03aa3c1b4515114539cd53d22085129d495cb9e9f9af77864526240f1bf7"
	// TopicTHORChainTransferOutAndCall is THORChain's router TransferOutAndCall(address
	// indexed vault, address target, uint amount, address finalAsset, address to, uint256
	// amountOutMin, string memo).
	TopicTHORChainTransferOutAndCall = "0x8e5841bcd195b858d53b38bcf91b38d47f3bc800469b6812d35451ab619c6f6c"
)

// eventKind names which of the detectors' events a log is.
type eventKind uint8

const (
	evNone eventKind = iota
	evWETHDeposit
	evWETHWithdrawal
	evV2Swap
	evV3Swap
	evTCDeposit
	evTCTransferOut
	evTCTransferOutAndCall
)

func (k eventKind) String() string {
	switch k {
	case evWETHDeposit:
		return "WETH9 Deposit"
	case evWETHWithdrawal:
		return "WETH9 Withdrawal"
	case evV2Swap:
		return "Uniswap V2 Swap"
	case evV3Swap:
		return "Uniswap V3 Swap"
	case evTCDeposit:
		return "THORChain router Deposit"
	case evTCTransferOut:
		return "THORChain router TransferOut"
	case evTCTransferOutAndCall:
		return "THORChain router TransferOutAndCall"
	}
	return "unknown event"
}

// linkEventKind classifies a log by its topic0 (any case); evNone for every other log. It
// is called for every log of a block: no allocation for the common, lower-case topic.
func linkEventKind(topic0 string) eventKind {
	if len(topic0) != 66 {
		return evNone
	}
	t := strings.ToLower(topic0) // returns topic0 itself when it has no upper case
	switch t {
	case TopicWETHDeposit:
		return evWETHDeposit
	case TopicWETHWithdrawal:
		return evWETHWithdrawal
	case TopicUniswapV2Swap:
		return evV2Swap
	case TopicUniswapV3Swap:
		return evV3Swap
	case TopicTHORChainDeposit:
		return evTCDeposit
	case TopicTHORChainTransferOut:
		return evTCTransferOut
	case TopicTHORChainTransferOutAndCall:
		return evTCTransferOutAndCall
	}
	return evNone
}

// IsLinkEvent reports whether topic0 (any case) is the signature of an event a link
// detector reads: other readers of logs (chains/etl) keep those logs for DetectLinks.
func IsLinkEvent(topic0 string) bool { return linkEventKind(topic0) != evNone }

// Log is one event log of a transaction as the link detectors read it: the emitting
// contract, the topics (0x + 64 hex digits each, any case) and the data.
type Log struct {
	Index   uint64
	Address graph.Address
	Topics  []string
	Data    []byte
}

// linkEvent is a decoded detector event. Which fields are set depends on kind:
//
//	WETH9 Deposit/Withdrawal   who (dst/src), amount (wad)
//	Uniswap V2 Swap            who (to), in0, in1, out0, out1
//	Uniswap V3 Swap            who (recipient), in0/out0 from amount0's sign, in1/out1 from amount1's
//	THORChain Deposit          vault (to), asset (0x0 = ETH), amount, memo
//	THORChain TransferOut      vault, who (to), asset, amount, memo
//	THORChain TransferOutAndCall vault, target, who (to), amount (ETH), memo
type linkEvent struct {
	kind                 eventKind
	log                  uint64
	contract             graph.Address
	who, vault, target   graph.Address
	asset                graph.Address
	amount               graph.Amount
	in0, in1, out0, out1 graph.Amount
	memo                 string
}

// eventTopics is the number of topics of each event (signature + indexed parameters).
var eventTopics = [...]int{evWETHDeposit: 2, evWETHWithdrawal: 2, evV2Swap: 3, evV3Swap: 3,
	evTCDeposit: 3, evTCTransferOut: 3, evTCTransferOutAndCall: 2}

// maxEventMemo bounds the memo a THORChain event may carry. THORChain's own memos are
// far shorter (thorchain.MaxMemoLen); a longer string is read and reported, not parsed.
const maxEventMemo = 4096

// decodeLinkEvent decodes a log of one of the detectors' events (kind from linkEventKind).
// A log of the right topic0 but the wrong shape (topic count, data length, an indexed
// address with dirty high bytes, a string offset out of range) is an error saying what is
// wrong; it never panics, whatever the bytes.
func decodeLinkEvent(kind eventKind, lg *Log) (linkEvent, error) {
	ev := linkEvent{kind: kind, log: lg.Index, contract: lg.Address}
	topics, data := lg.Topics, lg.Data
	if kind <= evNone || int(kind) >= len(eventTopics) {
		return ev, fmt.Errorf("not a link event")
	}
	if wantTopics := eventTopics[kind]; len(topics) != wantTopics {
		return ev, fmt.Errorf("%d topics, want %d", len(topics), wantTopics)
	}
	topic := func(i int) (graph.Address, error) {
		a, ok := topicAddress(strings.ToLower(topics[i]))
		if !ok {
			return "", fmt.Errorf("topic %d %.70q is not an address", i, topics[i])
		}
		return a, nil
	}
	var err error
	switch kind {
	case evWETHDeposit, evWETHWithdrawal:
		if len(data) != 32 {
			return ev, fmt.Errorf("data of %d bytes, want 32", len(data))
		}
		if ev.who, err = topic(1); err != nil {
			return ev, err
		}
		ev.amount.SetBytes32(data)
	case evV2Swap:
		if len(data) != 4*32 {
			return ev, fmt.Errorf("data of %d bytes, want 128", len(data))
		}
		if ev.who, err = topic(2); err != nil {
			return ev, err
		}
		ev.in0.SetBytes32(data[0:32])
		ev.in1.SetBytes32(data[32:64])
		ev.out0.SetBytes32(data[64:96])
		ev.out1.SetBytes32(data[96:128])
	case evV3Swap:
		if len(data) != 5*32 {
			return ev, fmt.Errorf("data of %d bytes, want 160", len(data))
		}
		if ev.who, err = topic(2); err != nil {
			return ev, err
		}
		signed(data[0:32], &ev.in0, &ev.out0)
		signed(data[32:64], &ev.in1, &ev.out1)
	case evTCDeposit:
		if ev.vault, err = topic(1); err != nil {
			return ev, err
		}
		if ev.asset, err = topic(2); err != nil {
			return ev, err
		}
		if len(data) < 32 {
			return ev, fmt.Errorf("data of %d bytes, want at least 96", len(data))
		}
		ev.amount.SetBytes32(data[0:32])
		if ev.memo, err = abiString(data, 1); err != nil {
			return ev, err
		}
	case evTCTransferOut:
		if ev.vault, err = topic(1); err != nil {
			return ev, err
		}
		if ev.who, err = topic(2); err != nil {
			return ev, err
		}
		if len(data) < 64 {
			return ev, fmt.Errorf("data of %d bytes, want at least 128", len(data))
		}
		if ev.asset, err = wordAddress(data, 0); err != nil {
			return ev, err
		}
		ev.amount.SetBytes32(data[32:64])
		if ev.memo, err = abiString(data, 2); err != nil {
			return ev, err
		}
	case evTCTransferOutAndCall:
		if ev.vault, err = topic(1); err != nil {
			return ev, err
		}
		if len(data) < 6*32 {
			return ev, fmt.Errorf("data of %d bytes, want at least 256", len(data))
		}
		if ev.target, err = wordAddress(data, 0); err != nil {
			return ev, err
		}
		ev.amount.SetBytes32(data[32:64])
		if ev.asset, err = wordAddress(data, 2); err != nil { // the final asset: informative
			return ev, err
		}
		if ev.who, err = wordAddress(data, 3); err != nil {
			return ev, err
		}
		if ev.memo, err = abiString(data, 5); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// signed splits an int256 word into its positive part (into the pool) and the magnitude
// of its negative part (out of it); the other is zero.
func signed(word []byte, pos, neg *graph.Amount) {
	var v graph.Amount
	v.SetBytes32(word)
	if word[0]&0x80 == 0 {
		*pos = v
		return
	}
	neg.Neg(&v) // two's complement magnitude; -2^255 gives 2^255
}

// wordAddress decodes the i-th 32-byte word of data as an address (12 zero bytes, then 20).
func wordAddress(data []byte, i int) (graph.Address, error) {
	w := data[32*i : 32*i+32]
	for _, b := range w[:12] {
		if b != 0 {
			return "", fmt.Errorf("data word %d is not an address", i)
		}
	}
	return graph.Address("0x" + hex.EncodeToString(w[12:])), nil
}

// abiString decodes the dynamic string whose offset is the head word at index i of data:
// the offset must point inside data at a length word, and the string must fit.
func abiString(data []byte, i int) (string, error) {
	if len(data) < 32*(i+1) {
		return "", fmt.Errorf("data of %d bytes has no string offset at word %d", len(data), i)
	}
	var w graph.Amount
	w.SetBytes32(data[32*i : 32*i+32])
	if !w.IsUint64() || w.Uint64() > uint64(len(data)) || w.Uint64()%32 != 0 || w.Uint64()+32 > uint64(len(data)) {
		return "", fmt.Errorf("string offset %s out of the %d bytes of data", w.Dec(), len(data))
	}
	off := int(w.Uint64())
	w.SetBytes32(data[off : off+32])
	if !w.IsUint64() || w.Uint64() > maxEventMemo || int(w.Uint64()) > len(data)-off-32 {
		return "", fmt.Errorf("string length %s does not fit the %d bytes of data after offset %d", w.Dec(), len(data)-off-32, off)
	}
	return string(data[off+32 : off+32+int(w.Uint64())]), nil
}

// decodeHexData decodes a log's data field (0x-prefixed hex).
func decodeHexData(s string) ([]byte, error) {
	if len(s) < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || len(s)%2 != 0 {
		return nil, fmt.Errorf("data %.40q is not 0x-prefixed hex of whole bytes", s)
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return nil, fmt.Errorf("data is not hex: %w", err)
	}
	return b, nil
}
