package graph

import (
	"errors"
	"fmt"

	"github.com/holiman/uint256"
)

// Amount is an exact count of base units (satoshi, wei, token units). It is a 256-bit
// unsigned integer: wide enough for every ERC-20 supply, and a plain value (no heap
// allocation), which keeps the replay hot path allocation-free.
type Amount = uint256.Int

// ErrBadAmount is wrapped by every amount parsing error.
var ErrBadAmount = errors.New("malformed amount")

// ParseAmount parses a non-negative decimal integer such as "1000000000". Signs, fractions,
// exponents, hex, spaces and values of 2^256 or more are errors wrapping ErrBadAmount.
func ParseAmount(s string) (Amount, error) {
	var a Amount
	if s == "" {
		return a, fmt.Errorf("%w: empty", ErrBadAmount)
	}
	if len(s) > 78 { // 2^256 has 78 decimal digits
		return a, fmt.Errorf("%w: %.20q… is out of range", ErrBadAmount, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return a, fmt.Errorf("%w: %q is not a decimal integer of base units", ErrBadAmount, s)
		}
	}
	if err := a.SetFromDecimal(s); err != nil {
		return a, fmt.Errorf("%w: %q: %v", ErrBadAmount, s, err)
	}
	return a, nil
}

// MustAmount is ParseAmount for constants in tests and examples; it panics on bad input.
func MustAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// NewAmount returns the amount n.
func NewAmount(n uint64) Amount {
	var a Amount
	a.SetUint64(n)
	return a
}
