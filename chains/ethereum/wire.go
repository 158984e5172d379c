package ethereum

import (
	"encoding/hex"
	"fmt"

	"github.com/chaintrace/chaintrace/graph"
)

// The JSON-RPC shapes this package reads. Only the fields normalization needs are decoded, so
// unknown transaction types (blobs, set-code, L2 deposits) and fields added by future forks
// pass through. Quantities are parsed strictly (0x-prefixed hex, no sign, at most 256 bits):
// a malformed number is an error, never a silently wrong amount.

type wireBlock struct {
	Number       *quantity        `json:"number"`
	Hash         string           `json:"hash"`
	ParentHash   string           `json:"parentHash"`
	Timestamp    *quantity        `json:"timestamp"`
	Difficulty   *hexAmount       `json:"difficulty"`
	Transactions []wireTx         `json:"transactions"`
	Withdrawals  []wireWithdrawal `json:"withdrawals"`
}

type wireTx struct {
	Hash             string     `json:"hash"`
	TransactionIndex *quantity  `json:"transactionIndex"`
	From             string     `json:"from"`
	To               *string    `json:"to"`
	Value            *hexAmount `json:"value"`
	GasPrice         *hexAmount `json:"gasPrice"`
}

type wireReceipt struct {
	TransactionHash   string     `json:"transactionHash"`
	TransactionIndex  *quantity  `json:"transactionIndex"`
	BlockHash         string     `json:"blockHash"`
	Status            *quantity  `json:"status"`
	GasUsed           *hexAmount `json:"gasUsed"`
	EffectiveGasPrice *hexAmount `json:"effectiveGasPrice"`
	BlobGasUsed       *hexAmount `json:"blobGasUsed"`
	BlobGasPrice      *hexAmount `json:"blobGasPrice"`
	ContractAddress   *string    `json:"contractAddress"`
	Logs              []wireLog  `json:"logs"`
}

type wireLog struct {
	Address  string    `json:"address"`
	Topics   []string  `json:"topics"`
	Data     string    `json:"data"`
	LogIndex *quantity `json:"logIndex"`
	Removed  bool      `json:"removed"`
}

type wireWithdrawal struct {
	Index          *quantity  `json:"index"`
	ValidatorIndex *quantity  `json:"validatorIndex"`
	Address        string     `json:"address"`
	Amount         *hexAmount `json:"amount"` // Gwei
}

// wireFrame is one frame of geth's callTracer output.
type wireFrame struct {
	Type  string      `json:"type"`
	From  string      `json:"from"`
	To    string      `json:"to"`
	Value *hexAmount  `json:"value"`
	Error string      `json:"error"`
	Calls []wireFrame `json:"calls"`
}

// wireTraceResult is one element of debug_traceBlockByNumber's result. Old geth versions
// omit txHash; the elements are then matched to transactions by position.
type wireTraceResult struct {
	TxHash string     `json:"txHash"`
	Result *wireFrame `json:"result"`
	Error  string     `json:"error"`
}

// quantity is a JSON-RPC QUANTITY that fits in 64 bits.
type quantity uint64

func (q *quantity) UnmarshalJSON(b []byte) error {
	digits, err := hexDigits(b)
	if err != nil {
		return err
	}
	if len(digits) > 16 {
		return fmt.Errorf("%w: quantity %s does not fit in 64 bits", ErrMalformed, b)
	}
	var v uint64
	for _, c := range digits {
		v = v<<4 | uint64(hexNibble(c))
	}
	*q = quantity(v)
	return nil
}

// hexAmount is a JSON-RPC QUANTITY of up to 256 bits (wei, gas, token units).
type hexAmount graph.Amount

func (a *hexAmount) UnmarshalJSON(b []byte) error {
	digits, err := hexDigits(b)
	if err != nil {
		return err
	}
	if len(digits) > 64 {
		return fmt.Errorf("%w: quantity %.80s exceeds 256 bits", ErrMalformed, b)
	}
	var words [4]uint64
	for i := 0; i < len(digits); i++ {
		pos := len(digits) - 1 - i // nibble position from the least significant end
		words[pos/16] |= uint64(hexNibble(digits[i])) << (4 * (pos % 16))
	}
	*a = hexAmount(words)
	return nil
}

func (a *hexAmount) amount() graph.Amount {
	if a == nil {
		return graph.Amount{}
	}
	return graph.Amount(*a)
}

// hexDigits strips the quotes, the 0x prefix and leading zeros of a JSON hex quantity and
// checks that what is left is hex digits.
func hexDigits(b []byte) ([]byte, error) {
	if len(b) < 4 || b[0] != '"' || b[len(b)-1] != '"' || b[1] != '0' || (b[2] != 'x' && b[2] != 'X') {
		return nil, fmt.Errorf("%w: %.80s is not a 0x-prefixed hex quantity", ErrMalformed, b)
	}
	d := b[3 : len(b)-1]
	if len(d) == 0 {
		return nil, fmt.Errorf("%w: %s has no digits", ErrMalformed, b)
	}
	for _, c := range d {
		if hexNibble(c) == 0xff {
			return nil, fmt.Errorf("%w: %.80s is not a 0x-prefixed hex quantity", ErrMalformed, b)
		}
	}
	for len(d) > 1 && d[0] == '0' {
		d = d[1:]
	}
	if len(d) == 1 && d[0] == '0' {
		return d[:0], nil
	}
	return d, nil
}

func hexNibble(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// parseHash returns a 32-byte hash in canonical form (0x + 64 lower-case hex digits).
func parseHash(what, s string) (string, error) {
	if len(s) != 66 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return "", fmt.Errorf("%w: %s %q is not a 32-byte 0x-hex hash", ErrMalformed, what, s)
	}
	out := make([]byte, 66)
	out[0], out[1] = '0', 'x'
	for i := 2; i < 66; i++ {
		c := s[i]
		if hexNibble(c) == 0xff {
			return "", fmt.Errorf("%w: %s %q is not a 32-byte 0x-hex hash", ErrMalformed, what, s)
		}
		if c >= 'A' && c <= 'F' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out), nil
}

// parseAddr returns the canonical form of an address field.
func parseAddr(what, s string) (graph.Address, error) {
	a, err := graph.ParseAddress(graph.Ethereum, s)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
	}
	return a, nil
}

// topicAddress decodes an address from a 32-byte indexed topic; ok is false when the topic
// is not a left-padded 20-byte address.
func topicAddress(topic string) (graph.Address, bool) {
	if len(topic) != 66 || topic[:2] != "0x" {
		return "", false
	}
	for i := 2; i < 26; i++ {
		if topic[i] != '0' {
			return "", false
		}
	}
	a, err := graph.ParseAddress(graph.Ethereum, "0x"+topic[26:])
	if err != nil {
		return "", false
	}
	return a, true
}

// word32 decodes a log's data field when it is exactly one 32-byte word.
func word32(data string) (graph.Amount, bool) {
	var a graph.Amount
	if len(data) != 66 || (data[:2] != "0x" && data[:2] != "0X") {
		return a, false
	}
	var buf [32]byte
	if _, err := hex.Decode(buf[:], []byte(data[2:])); err != nil {
		return a, false
	}
	a.SetBytes32(buf[:])
	return a, true
}
