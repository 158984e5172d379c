package bitcoin

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/chaintrace/chaintrace/graph"
)

// XORKey is Bitcoin Core's block file obfuscation key (blocks/xor.dat, Bitcoin Core ≥ 28):
// byte i of a file is stored XORed with key[i mod 8]. The zero key means no obfuscation.
type XORKey [8]byte

// ReadXORKey reads dir/xor.dat. A missing file is the zero key (Bitcoin Core < 28).
func ReadXORKey(dir string) (XORKey, error) {
	var k XORKey
	data, err := os.ReadFile(filepath.Join(dir, "xor.dat"))
	if errors.Is(err, os.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return k, fmt.Errorf("bitcoin: read xor key: %w", err)
	}
	if len(data) != len(k) {
		return k, fmt.Errorf("%w: %s has %d bytes, want %d", ErrBadXORKey, filepath.Join(dir, "xor.dat"), len(data), len(k))
	}
	copy(k[:], data)
	return k, nil
}

// apply XORs buf, read from file offset off, with the key (obfuscation is its own inverse).
func (k *XORKey) apply(buf []byte, off int64) {
	if *k == (XORKey{}) {
		return
	}
	// Rotate the key to the buffer's start, then XOR eight bytes at a time.
	var rk [8]byte
	for i := range rk {
		rk[i] = k[(off+int64(i))%8]
	}
	word := binary.LittleEndian.Uint64(rk[:])
	i := 0
	for ; i+8 <= len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], binary.LittleEndian.Uint64(buf[i:])^word)
	}
	for ; i < len(buf); i++ {
		buf[i] ^= rk[i%8]
	}
}

// frame framing: 4 bytes of network magic, 4 bytes little-endian block size, the block.
const frameHeaderLen = 8

// ScanBlockFile walks the frames of one blk*.dat file of the given size and calls fn with
// each block's payload offset and (deobfuscated) bytes; fn must not keep raw. Zero padding
// (Bitcoin Core preallocates files) ends the file. A wrong magic, a frame running past the
// end of the file or an impossible size is an error naming the file and offset; ScanBlockFile
// never panics on garbage.
func ScanBlockFile(r io.ReaderAt, size int64, name string, net *chaincfg.Params, key XORKey,
	fn func(offset int64, raw []byte) error) error {
	s := frameScanner{r: r, size: size, name: name, magic: magicBytes(net), key: key}
	var buf []byte
	for {
		off, n, err := s.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if err := s.readAt(buf, off); err != nil {
			return err
		}
		if err := fn(off, buf); err != nil {
			return err
		}
	}
}

type frameScanner struct {
	r     io.ReaderAt
	size  int64
	pos   int64
	name  string
	magic [4]byte
	key   XORKey
}

func (s *frameScanner) readAt(buf []byte, off int64) error {
	if err := s.readPhysical(buf, off); err != nil {
		return err
	}
	s.key.apply(buf, off)
	return nil
}

// readPhysical reads bytes as stored, without deobfuscation.
func (s *frameScanner) readPhysical(buf []byte, off int64) error {
	if off < 0 || off+int64(len(buf)) > s.size {
		return fmt.Errorf("%w: %s: %d bytes at offset %d run past the end of the file (%d bytes)",
			ErrTruncated, s.name, len(buf), off, s.size)
	}
	if _, err := s.r.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: %s: %d bytes at offset %d: %v", ErrTruncated, s.name, len(buf), off, err)
		}
		return fmt.Errorf("bitcoin: read %s at offset %d: %w", s.name, off, err)
	}
	return nil
}

// next returns the offset and size of the next block payload, or io.EOF.
func (s *frameScanner) next() (int64, uint32, error) {
	return s.nextFrame(blockFrames)
}

// frameKind says what a file's frames hold: their size bounds, what follows the payload
// (undo records end in a checksum) and how errors name them.
type frameKind struct {
	min, max uint32
	trailer  int64
	badSize  error // wrapped when a size is out of bounds

	header   string // "frame header" or "record header"
	sizeName string // "block size" or "record size"
	left     string // what the truncation error says did not fit
}

var blockFrames = frameKind{min: wire.MaxBlockHeaderPayload, max: wire.MaxBlockPayload, badSize: ErrBadBlock,
	header: "frame header", sizeName: "block size", left: "block of %d bytes, only %d left in the file"}

// nextFrame returns the offset and size of the next frame's payload, or io.EOF; it moves
// past the payload and its trailer.
func (s *frameScanner) nextFrame(k frameKind) (int64, uint32, error) {
	var hdr [frameHeaderLen]byte
	for {
		if s.pos >= s.size {
			return 0, 0, io.EOF
		}
		if s.pos+frameHeaderLen > s.size {
			tail := make([]byte, s.size-s.pos)
			if err := s.readPhysical(tail, s.pos); err != nil {
				return 0, 0, err
			}
			if allZero(tail) {
				return 0, 0, io.EOF
			}
			return 0, 0, fmt.Errorf("%w: %s: %d bytes at offset %d are not a %s", ErrTruncated, s.name, len(tail), s.pos, k.header)
		}
		if err := s.readPhysical(hdr[:], s.pos); err != nil {
			return 0, 0, err
		}
		if hdr[0] == 0 && hdr[1] == 0 && hdr[2] == 0 && hdr[3] == 0 {
			// Preallocated tail: Bitcoin Core extends files with physical zeros (not
			// obfuscated) and leaves them after the last frame. Skip zeros and resume at
			// the next non-zero byte, which must be a magic.
			nz, err := s.skipZeros(s.pos)
			if err != nil {
				return 0, 0, err
			}
			s.pos = nz
			continue
		}
		s.key.apply(hdr[:], s.pos)
		if [4]byte(hdr[:4]) != s.magic {
			return 0, 0, fmt.Errorf("%w: %s at offset %d: %x, want %x", ErrBadMagic, s.name, s.pos, hdr[:4], s.magic[:])
		}
		n := binary.LittleEndian.Uint32(hdr[4:])
		if n < k.min || n > k.max {
			return 0, 0, fmt.Errorf("%w: %s at offset %d: %s %d outside %d..%d", k.badSize, s.name, s.pos, k.sizeName, n, k.min, k.max)
		}
		off := s.pos + frameHeaderLen
		if off+int64(n)+k.trailer > s.size {
			return 0, 0, fmt.Errorf("%w: %s at offset %d: "+k.left, ErrTruncated, s.name, s.pos, n, s.size-off)
		}
		s.pos = off + int64(n) + k.trailer
		return off, n, nil
	}
}

// skipZeros returns the offset of the first non-zero byte at or after from (size if none).
func (s *frameScanner) skipZeros(from int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for pos := from; pos < s.size; {
		n := int64(len(buf))
		if pos+n > s.size {
			n = s.size - pos
		}
		if err := s.readPhysical(buf[:n], pos); err != nil {
			return 0, err
		}
		for j := int64(0); j < n; j++ {
			if buf[j] != 0 {
				return pos + j, nil
			}
		}
		pos += n
	}
	return s.size, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// BlockFilesOptions configures OpenBlockFiles.
type BlockFilesOptions struct {
	// Net is the network whose magic frames the files (required).
	Net *chaincfg.Params
	// StartHeight places a chain whose first block is neither the genesis block nor its
	// child (block files copied from the middle of a chain): its first block gets this height.
	StartHeight uint64
	// Workers decode blocks in parallel (default GOMAXPROCS); blocks are still delivered in
	// height order.
	Workers int
	// WindowStart, when above the chain's first block, starts a window there: Blocks starts
	// at it, and Range resolves every input of a block at or above it that spends an output
	// created below it (graph.TxIn.Resolved, with the output's value and address), from
	// Bitcoin Core's undo files (rev*.dat) when they cover the window, otherwise with one
	// pass over the blocks below the window (see PrevoutMethod).
	WindowStart uint64
	// NoUndo resolves a window's inputs by the scan even when undo files are present.
	NoUndo bool
	// OnWarning, when set, is called with every Warning (a THORChain memo that gave no
	// link), in height order; Warnings keeps them too.
	OnWarning func(Warning)
	// Prevouts names the addresses that THORChain memo transactions spend from outside
	// their block and the window: block files do not hold them. The lookup runs in height
	// order, after fn has taken the blocks below. Ingest into a graph.Store does so by
	// itself (StorePrevouts); set it for other consumers that store the blocks. Without it
	// (Stream), such memos give warnings (ErrInputsUnknown).
	Prevouts PrevoutLookup
}

// BlockFiles is an indexed Bitcoin Core blocks directory: blk*.dat files (any order of
// arrival, stale blocks included) with the best chain picked by cumulative work and laid
// out in height order. It is safe for concurrent use; Close releases the files.
type BlockFiles struct {
	dir      string
	net      *chaincfg.Params
	key      XORKey
	workers  int
	names    []string
	chain    []blockEntry // the best chain, in height order
	first    uint64       // height of chain[0]
	win      *windowResolver
	warn     warnLog
	prevouts PrevoutLookup

	mu    sync.Mutex
	files []*os.File
}

type blockEntry struct {
	file   int32
	size   uint32
	off    int64
	bits   uint32
	hash   chainhash.Hash
	parent chainhash.Hash
}

// OpenBlockFiles indexes the blk*.dat files of dir (a Bitcoin Core blocks directory, with
// xor.dat when obfuscated): it reads every block header, links blocks by parent hash and
// picks the chain with the most work. A block whose parent is missing starts a chain only
// if it is the genesis block, the genesis block's child, or opts.StartHeight is set.
func OpenBlockFiles(ctx context.Context, dir string, opts BlockFilesOptions) (*BlockFiles, error) {
	if opts.Net == nil {
		return nil, fmt.Errorf("%w: BlockFilesOptions.Net is nil", ErrUnknownNetwork)
	}
	key, err := ReadXORKey(dir)
	if err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(dir, "blk*.dat"))
	if err != nil {
		return nil, fmt.Errorf("bitcoin: list block files in %s: %w", dir, err)
	}
	sort.Slice(names, func(i, j int) bool { return blkFileLess(names[i], names[j]) })
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no blk*.dat files in %s", ErrNoChain, dir)
	}
	bf := &BlockFiles{dir: dir, net: opts.Net, key: key, workers: opts.Workers, names: names,
		files: make([]*os.File, len(names))}
	bf.warn.on, bf.prevouts = opts.OnWarning, opts.Prevouts
	if bf.workers <= 0 {
		bf.workers = runtime.GOMAXPROCS(0)
	}
	var all []blockEntry
	for fi, name := range names {
		if err := ctx.Err(); err != nil {
			bf.Close()
			return nil, err
		}
		f, err := bf.file(int32(fi))
		if err != nil {
			bf.Close()
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			bf.Close()
			return nil, fmt.Errorf("bitcoin: stat %s: %w", name, err)
		}
		s := frameScanner{r: f, size: st.Size(), name: name, magic: magicBytes(opts.Net), key: key}
		var hdr [wire.MaxBlockHeaderPayload]byte
		for {
			off, n, err := s.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				bf.Close()
				return nil, err
			}
			if err := s.readAt(hdr[:], off); err != nil {
				bf.Close()
				return nil, err
			}
			var h wire.BlockHeader
			if err := h.Deserialize(bytes.NewReader(hdr[:])); err != nil {
				bf.Close()
				return nil, fmt.Errorf("%w: %s at offset %d: header: %v", ErrBadBlock, name, off, err)
			}
			all = append(all, blockEntry{file: int32(fi), size: n, off: off, bits: h.Bits,
				hash: chainhash.DoubleHashH(hdr[:]), parent: h.PrevBlock})
		}
	}
	chain, first, err := bestChain(all, opts)
	if err != nil {
		bf.Close()
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	bf.chain, bf.first = chain, first
	if opts.WindowStart > first {
		if opts.WindowStart > bf.TipHeight() {
			bf.Close()
			return nil, fmt.Errorf("bitcoin: %s: window start %d above the block files' chain %d..%d", dir, opts.WindowStart, first, bf.TipHeight())
		}
		bf.win = &windowResolver{start: opts.WindowStart, noUndo: opts.NoUndo, undo: make(map[uint64]undoPos),
			indexed: make(map[int32]bool), revFiles: make(map[int32]*os.File)}
	}
	return bf, nil
}

// blkFileLess orders blk00000.dat, blk00001.dat, … numerically (names may outgrow 5 digits).
func blkFileLess(a, b string) bool {
	na := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(a), "blk"), ".dat")
	nb := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(b), "blk"), ".dat")
	if len(na) != len(nb) {
		return len(na) < len(nb)
	}
	return na < nb
}

// bestChain links entries by parent hash and returns the most-work chain in height order
// with the height of its first block.
func bestChain(all []blockEntry, opts BlockFilesOptions) ([]blockEntry, uint64, error) {
	byHash := make(map[chainhash.Hash]int, len(all))
	for i := range all {
		if _, dup := byHash[all[i].hash]; !dup { // a block stored twice: keep the first copy
			byHash[all[i].hash] = i
		}
	}
	const unknown = -1
	height := make([]int64, len(all))
	work := make([]*big.Int, len(all))
	for i := range height {
		height[i] = unknown - 1 // not computed yet
	}
	genesis := opts.Net.GenesisHash
	var stack []int
	for i := range all {
		// Walk up to the first ancestor whose height is known (or a root), then fill down.
		for j := i; height[j] == unknown-1; {
			stack = append(stack, j)
			p, ok := byHash[all[j].parent]
			if !ok || p == j {
				break
			}
			j = p
			if len(stack) > len(all) {
				return nil, 0, fmt.Errorf("%w: parent cycle at block %s", ErrBadBlock, all[j].hash)
			}
		}
		for k := len(stack) - 1; k >= 0; k-- {
			j := stack[k]
			if height[j] != unknown-1 {
				continue
			}
			w := blockchain.CalcWork(all[j].bits)
			p, ok := byHash[all[j].parent]
			switch {
			case ok && p != j && height[p] >= 0:
				height[j] = height[p] + 1
				work[j] = w.Add(w, work[p])
			case ok && p != j:
				height[j] = unknown // parent cannot be placed
			case genesis != nil && all[j].hash == *genesis:
				height[j], work[j] = 0, w
			case genesis != nil && all[j].parent == *genesis:
				height[j], work[j] = 1, w
			case opts.StartHeight > 0:
				height[j], work[j] = int64(opts.StartHeight), w
			default:
				height[j] = unknown
			}
		}
		stack = stack[:0]
	}
	best := -1
	for i := range all {
		if height[i] < 0 || byHash[all[i].hash] != i {
			continue
		}
		if best < 0 || work[i].Cmp(work[best]) > 0 {
			best = i
		}
	}
	if best < 0 {
		return nil, 0, fmt.Errorf("%w: none of %d blocks is the genesis block, its child, or placed by StartHeight",
			ErrNoChain, len(all))
	}
	chain := make([]blockEntry, height[best]+1)
	n := 0
	for i := best; ; {
		chain[height[i]] = all[i]
		n++
		p, ok := byHash[all[i].parent]
		if !ok || height[i] == 0 || p == i || height[p] < 0 {
			break
		}
		i = p
	}
	firstHeight := uint64(height[best]) + 1 - uint64(n)
	return chain[firstHeight:], firstHeight, nil
}

func (bf *BlockFiles) file(i int32) (*os.File, error) {
	bf.mu.Lock()
	defer bf.mu.Unlock()
	if bf.files[i] == nil {
		f, err := os.Open(bf.names[i])
		if err != nil {
			return nil, fmt.Errorf("bitcoin: open block file: %w", err)
		}
		bf.files[i] = f
	}
	return bf.files[i], nil
}

// Close closes the block files.
func (bf *BlockFiles) Close() error {
	werr := bf.closeWindow()
	bf.mu.Lock()
	defer bf.mu.Unlock()
	var first error
	for i, f := range bf.files {
		if f != nil {
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
			bf.files[i] = nil
		}
	}
	if first == nil {
		first = werr
	}
	return first
}

// Net is the network of the files.
func (bf *BlockFiles) Net() *chaincfg.Params { return bf.net }

// FirstHeight and TipHeight bound the best chain found in the files.
func (bf *BlockFiles) FirstHeight() uint64 { return bf.first }

// TipHeight is the height of the best chain's last block.
func (bf *BlockFiles) TipHeight() uint64 { return bf.first + uint64(len(bf.chain)) - 1 }

// BestHeight is TipHeight; with BlockHash and Range it makes BlockFiles a Node for Ingest.
func (bf *BlockFiles) BestHeight(context.Context) (uint64, error) { return bf.TipHeight(), nil }

// BlockHash returns the display-hex hash of the best chain's block at height.
func (bf *BlockFiles) BlockHash(_ context.Context, height uint64) (string, error) {
	if height < bf.first || height > bf.TipHeight() {
		return "", fmt.Errorf("bitcoin: height %d outside the block files' chain %d..%d", height, bf.first, bf.TipHeight())
	}
	return bf.chain[height-bf.first].hash.String(), nil
}

// ReadRaw returns the serialized block at height (deobfuscated).
func (bf *BlockFiles) ReadRaw(height uint64) ([]byte, error) {
	if height < bf.first || height > bf.TipHeight() {
		return nil, fmt.Errorf("bitcoin: height %d outside the block files' chain %d..%d", height, bf.first, bf.TipHeight())
	}
	e := &bf.chain[height-bf.first]
	f, err := bf.file(e.file)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, e.size)
	if _, err := f.ReadAt(buf, e.off); err != nil {
		return nil, fmt.Errorf("%w: %s: block %s at offset %d: %v", ErrTruncated, bf.names[e.file], e.hash, e.off, err)
	}
	bf.key.apply(buf, e.off)
	return buf, nil
}

// Blocks calls fn with every block of the best chain in height order (decoded in parallel
// by the configured workers), from the window start when there is one. It makes
// BlockFiles a Source.
func (bf *BlockFiles) Blocks(ctx context.Context, fn func(*graph.Block) error) error {
	from := bf.first
	if bf.win != nil {
		from = bf.win.start
	}
	return bf.Range(ctx, from, bf.TipHeight(), fn)
}

// Range calls fn with the blocks from..to (inclusive) of the best chain in height order.
func (bf *BlockFiles) Range(ctx context.Context, from, to uint64, fn func(*graph.Block) error) error {
	return bf.rangeWith(ctx, from, to, bf.prevouts, fn)
}

// rangePrevouts is Range with look naming memo inputs when BlockFilesOptions.Prevouts
// does not (Ingest passes its store's).
func (bf *BlockFiles) rangePrevouts(ctx context.Context, from, to uint64, look PrevoutLookup, fn func(*graph.Block) error) error {
	if bf.prevouts != nil {
		look = bf.prevouts
	}
	return bf.rangeWith(ctx, from, to, look, fn)
}

func (bf *BlockFiles) rangeWith(ctx context.Context, from, to uint64, look PrevoutLookup, fn func(*graph.Block) error) error {
	if from < bf.first || to > bf.TipHeight() || from > to {
		return fmt.Errorf("bitcoin: range %d..%d outside the block files' chain %d..%d", from, to, bf.first, bf.TipHeight())
	}
	if err := bf.prepareWindow(ctx, to); err != nil {
		return err
	}
	decoders := make([]*Decoder, bf.workers)
	for i := range decoders {
		decoders[i] = NewDecoder(bf.net)
	}
	type decoded struct {
		b     *graph.Block
		warns []Warning
		memos []TxMemo // to link in the apply stage, with look
	}
	return orderedMap(ctx, int(to-from+1), bf.workers,
		func(w, i int) (decoded, error) {
			h := from + uint64(i)
			raw, err := bf.ReadRaw(h)
			if err != nil {
				return decoded{}, err
			}
			d := decoders[w]
			b, err := d.decode(raw, h)
			if err != nil {
				e := &bf.chain[h-bf.first]
				return decoded{}, fmt.Errorf("%s offset %d: %w", bf.names[e.file], e.off, err)
			}
			if err := bf.resolveBlock(b); err != nil {
				return decoded{}, err
			}
			if look != nil && len(d.memos) > 0 {
				// Linked in order below: the lookup may read what fn stored of earlier blocks.
				return decoded{b: b, memos: append([]TxMemo(nil), d.memos...)}, nil
			}
			// After resolveBlock: a window's inputs name the addresses THORChain reads.
			return decoded{b: b, warns: DetectThorchain(b, d.memos, nil)}, nil
		},
		func(_ int, d decoded) error {
			if d.memos != nil {
				var err error
				if d.warns, err = detectWith(ctx, d.b, d.memos, look); err != nil {
					return err
				}
			}
			bf.warn.add(d.warns)
			return fn(d.b)
		})
}

// Warnings returns the first 1000 warnings of the blocks read so far (THORChain memos that
// gave no link, see Warning) and their total count.
func (bf *BlockFiles) Warnings() ([]Warning, int) { return bf.warn.warnings() }

// RawBlocks calls fn with the serialized bytes of every block of the best chain in height
// order, read in parallel; fn must not keep raw. It is the decoding baseline's input.
func (bf *BlockFiles) RawBlocks(ctx context.Context, fn func(height uint64, raw []byte) error) error {
	return orderedMap(ctx, len(bf.chain), bf.workers,
		func(_, i int) ([]byte, error) { return bf.ReadRaw(bf.first + uint64(i)) },
		func(i int, raw []byte) error { return fn(bf.first+uint64(i), raw) })
}
