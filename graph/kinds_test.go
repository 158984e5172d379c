package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Stored records name a transfer's kind by its position in kindCodes: the positions of the
// kinds older records use must never change, and the wrapper kinds get codes of their own.
func TestTransferKindCodesAreStable(t *testing.T) {
	for code, k := range map[byte]TransferKind{
		1: KindCall, 2: KindInternal, 3: KindCreate, 4: KindSelfDestruct, 5: KindERC20,
		6: KindReward, 7: KindWithdrawal, 8: KindWrap, 9: KindUnwrap,
	} {
		require.Equal(t, code, kindCode(k), "kind %s", k)
		require.Equal(t, k, kindCodes[code])
	}
	require.Equal(t, byte(kindOther), kindCode("bridge-mint"))
	require.False(t, KindWrap.IsMint(), "a wrap moves the wrapper's token: From says whether it is a mint")

	b := Block{Chain: Ethereum, Height: 5, Hash: "0xb", AccountTxs: []AccountTx{{Hash: "0xaa", Success: true, Transfers: []Transfer{
		{ID: "0xaa.log1.mint", Asset: "0xweth", From: ZeroAddress, To: "0xweth", Amount: NewAmount(7), Kind: KindWrap},
		{ID: "0xaa.log1", Asset: "0xweth", From: "0xweth", To: "0xdst", Amount: NewAmount(7), Kind: KindWrap},
		{ID: "0xaa.log2", Asset: "0xweth", From: "0xdst", To: "0xweth", Amount: NewAmount(3), Kind: KindUnwrap},
		{ID: "0xaa.log3", Asset: "0xweth", From: "0xdst", To: "0xweth", Amount: NewAmount(3), Kind: "bridge-mint"},
	}}}}
	got := Block{Chain: Ethereum, Height: 5}
	require.NoError(t, decodeBlock(encodeBlock(nil, &b), &got))
	require.Equal(t, b, got)
}
