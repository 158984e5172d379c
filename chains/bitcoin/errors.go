package bitcoin

import "errors"

// Sentinel errors. Every error of this package wraps one of them (inspect with errors.Is) and
// names the file, offset, block or transaction that was wrong.
var (
	// ErrBadMagic: a blk file frame does not start with the network's magic bytes.
	ErrBadMagic = errors.New("bad block file magic")
	// ErrTruncated: a blk file or a serialized block ends inside a frame or a block.
	ErrTruncated = errors.New("truncated block data")
	// ErrBadBlock: a block does not decode, its merkle root does not match its
	// transactions, or a value is out of range.
	ErrBadBlock = errors.New("malformed block")
	// ErrBadXORKey: blocks/xor.dat is not 8 bytes.
	ErrBadXORKey = errors.New("bad xor.dat obfuscation key")
	// ErrNoChain: the block files hold no block that can be placed at a height (no genesis
	// and no parent at a known height).
	ErrNoChain = errors.New("no chain in block files")
	// ErrUnknownNetwork: a network name ParseNetwork does not know.
	ErrUnknownNetwork = errors.New("unknown bitcoin network")
	// ErrNotContiguous: a block source delivered a block that does not follow the previous
	// one (height or parent hash).
	ErrNotContiguous = errors.New("blocks not contiguous")
	// ErrRPC: the node answered with an error or the connection failed after all retries.
	ErrRPC = errors.New("bitcoin rpc")
	// ErrReorgTooDeep: the node's chain and the store disagree even at the lowest height.
	ErrReorgTooDeep = errors.New("store and node share no block")
	// ErrBadUndo: undo data (rev*.dat) does not decode, or a record does not fit the block
	// it belongs to (transaction or input counts).
	ErrBadUndo = errors.New("malformed undo data")
	// ErrNoPrevouts: the node cannot give the outputs a window's inputs spend (neither
	// getblock <hash> 3 with prevouts nor a transaction index).
	ErrNoPrevouts = errors.New("the node gives no prevouts")
)
