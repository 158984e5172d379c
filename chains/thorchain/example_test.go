package thorchain_test

import (
	"fmt"

	"github.com/chaintrace/chaintrace/chains/thorchain"
)

func ExampleParseMemo() {
	in, _ := thorchain.ParseMemo("=:BTC.BTC:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh")
	out, _ := thorchain.ParseMemo("OUT:9F2C6A3D1B0E4F5A6B7C8D9E0F1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C")
	fmt.Println(in.Kind, in.Action, in.Asset)
	fmt.Println(out.Kind, thorchain.LinkKey(out.InboundHash))
	// Output:
	// inbound SWAP BTC.BTC
	// outbound thorchain:9f2c6a3d1b0e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c
}
