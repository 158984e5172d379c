package graph

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// StoreFormatVersion is the version of the store's key layout and record formats. A store
// written with another version is refused with ErrIncompatibleStore.
//
// Version 2: the address index of a UTXO chain no longer stores the debits of outputs the
// store created (Movements derives them from the outpoint index).
const StoreFormatVersion = 2

// storeMagic starts the format marker, so that a badger directory written by some other
// program is recognised as "not a chaintrace store" rather than misread.
const storeMagic = "chaintrace.graph.Store\x00"

// Errors of the store. Every error the store returns wraps one of these or a badger error,
// and names the chain, block, transaction or record it is about.
var (
	ErrNotFound          = errors.New("not found")
	ErrStoreClosed       = errors.New("store is closed")
	ErrIncompatibleStore = errors.New("incompatible store")
	ErrCorruptStore      = errors.New("corrupt store")
	ErrBadBlock          = errors.New("malformed block")
	ErrUnknownOutpoint   = errors.New("unknown outpoint")
	ErrDoubleSpend       = errors.New("outpoint already spent")
	ErrPrevoutMismatch   = errors.New("input disagrees with the stored output it spends")
	ErrParentMismatch    = errors.New("block does not connect to the stored chain")
	ErrGap               = errors.New("block does not follow the stored tip")
	ErrBlockTooBig       = errors.New("block too big for one store transaction")
	ErrStoreNotEmpty     = errors.New("store is not empty")
	ErrNoAddressIndex    = errors.New("store was created without the address index")

	// ErrForeignStore: the directory holds a badger database that some other program wrote
	// (no chaintrace format marker). It also matches ErrIncompatibleStore.
	ErrForeignStore = errors.New("not a chaintrace store")
	// ErrNewerStoreFormat: the store was written by a newer chaintrace, in a format this
	// build does not read. It also matches ErrIncompatibleStore.
	ErrNewerStoreFormat = errors.New("store written by a newer chaintrace")
	// ErrOlderStoreFormat: the store was written by an older chaintrace in a format this
	// build no longer reads; it has to be rebuilt. It also matches ErrIncompatibleStore.
	ErrOlderStoreFormat = errors.New("store written by an older chaintrace")
	// ErrStoreInUse: another process has the store open.
	ErrStoreInUse = errors.New("store is in use")
)

// StoreOptions configures OpenStore. Zero values select the defaults, which suit a 24 GB
// machine that also runs other work: about 0.5 GB of caches and up to 4×64 MB memtables.
type StoreOptions struct {
	// Dir is the store's directory (created if missing). Ignored when InMemory is set.
	Dir string
	// InMemory keeps everything in memory (tests, scratch work); nothing is written to disk.
	InMemory bool
	// SyncWrites fsyncs every block before WriteBlock returns, so that a power loss, not
	// only a process crash, keeps every acknowledged block. It costs throughput.
	SyncWrites bool

	// WindowStarts declares, per chain, the height where the ingested history starts.
	// With a window declared, a Bitcoin input whose outpoint the store does not know is
	// taken to predate the window (it is counted in WriteStats.OutsideWindow) instead of
	// being an ErrUnknownOutpoint. See also SetWindowStart.
	WindowStarts map[Chain]uint64

	// MemTableSize is the size of one memtable (default 64 MB). A block's writes must fit in
	// 15% of it: raise it if WriteBlock returns ErrBlockTooBig.
	MemTableSize int64
	// NumMemtables is how many memtables may be held in memory (default 4).
	NumMemtables int
	// BlockCacheSize caches decompressed table blocks (default 256 MB).
	BlockCacheSize int64
	// IndexCacheSize caches table indexes and bloom filters (default 256 MB). Negative keeps
	// every index in memory, which is fastest and grows with the store.
	IndexCacheSize int64
	// NoCompression stores table blocks uncompressed (default: Snappy).
	NoCompression bool
	// SkipVerifyOnOpen skips reading every table to check its checksums when the store is
	// opened. The check costs one sequential read of the store (about 1 s per GB) and is
	// what turns a damaged file into ErrCorruptStore at open: badger's reads treat an
	// unreadable table block as a missing key.
	SkipVerifyOnOpen bool
	// NoAddressIndex skips the address → movements index: ingest is faster and the store
	// smaller; Movements then fails with ErrNoAddressIndex. The choice is fixed when the store
	// is created: opening it later with the other setting is an ErrIncompatibleStore.
	NoAddressIndex bool
	// MinFreeSpace is the free space the store keeps on its file system (default 256 MB;
	// negative: no check). A write that would begin with less free is refused with
	// ErrDiskFull, so that a full disk ends a run with an error and a whole store rather
	// than with a crash (see checkSpace).
	MinFreeSpace int64
}

func (o StoreOptions) badgerOptions() badger.Options {
	bo := badger.DefaultOptions(o.Dir)
	if o.InMemory {
		bo = badger.DefaultOptions("").WithInMemory(true)
	}
	bo = bo.WithLoggingLevel(badger.WARNING).
		WithSyncWrites(o.SyncWrites).
		// One writer, serialized by the store: badger's conflict detection is pure overhead.
		WithDetectConflicts(false).
		WithNumVersionsToKeep(1).
		// Every table block read from disk is checked against its checksum. (OnTableRead is
		// not used: badger v4.9.6 dereferences nil in a background goroutine when a damaged
		// table fails to decode, which would crash the process; see verifyTables.)
		WithChecksumVerificationMode(options.OnBlockRead).
		WithNumCompactors(2).
		WithMetricsEnabled(false)
	if !o.InMemory {
		// Values above 4 KB — block records, except those of nearly empty blocks, and record
		// chunks — go to the value log: written once, in chain order, and never rewritten by
		// compactions, which then move only the small index entries. Block records are a
		// third of the bytes ingested, and replay reads them sequentially either way. (An
		// in-memory store has no value log and keeps every value in its memtables.)
		bo = bo.WithValueThreshold(4 << 10)
	}
	bo = bo.WithMemTableSize(orDefault(o.MemTableSize, 64<<20))
	bo = bo.WithNumMemtables(int(orDefault(int64(o.NumMemtables), 4)))
	bo = bo.WithBlockCacheSize(orDefault(o.BlockCacheSize, 256<<20))
	switch {
	case o.IndexCacheSize < 0:
		bo = bo.WithIndexCacheSize(0)
	default:
		bo = bo.WithIndexCacheSize(orDefault(o.IndexCacheSize, 256<<20))
	}
	if o.NoCompression {
		bo = bo.WithCompression(options.None)
	}
	return bo
}

func orDefault(v, def int64) int64 {
	if v <= 0 {
		return def
	}
	return v
}

// Store is the persistent transaction graph of one or more chains: blocks in chain order,
// the outpoint index (Bitcoin prevout resolution), the address → movements index, and
// namespaced records (labels, engine checkpoints, trace results). It is an embedded badger
// database: a directory (or memory, for tests), no server.
//
// Writing. WriteBlock stores one block, its index entries and its chain's ingest cursor in
// one badger transaction: a crash (even SIGKILL mid-write) or a refused block never leaves
// half a block behind, and the cursor always names the last complete block. A block that
// forks off below the tip rolls the store back to the fork point first (Rewind does it
// explicitly), undoing spends and index entries, so the store always holds one chain.
// Bitcoin inputs that arrive without value and address are resolved from the outpoint
// index; a history that starts mid-chain declares its window start (SetWindowStart) so that
// inputs spending older outputs are counted, not refused. For a first load of a long
// history, NewBulkLoader writes the same store two to three times faster (per CPU-second)
// through badger's StreamWriter, on two cores.
//
// Reading. Blocks streams a chain's blocks in chain order from one snapshot — the stream
// the taint engine consumes; replaying it gives the same result as replaying the blocks
// that were written (TestStoreReplayEqualsInMemory). Outpoint answers value, address,
// creating and spending transaction; Movements lists an address's movements in chain
// order; PutRecord/GetRecord/Records keep anything else (labels, engine checkpoints,
// results), atomically and in key order. Verify checks that blocks, indexes and cursor
// agree.
//
// Format. Keys and records are compact binary (store_keys.go, store_codec.go), versioned
// by StoreFormatVersion and a codec version byte in every block record: a store written
// by an incompatible version is refused with ErrIncompatibleStore, and a damaged one
// reports ErrCorruptStore (at open, table checksums are verified). Block records are
// s2-compressed and kept in badger's value log; the LSM tree holds the index entries.
// Ingest cost is mostly badger's per-entry cost (memtable insert, write-ahead log, flush,
// compactions), so the layout keeps entries few: a UTXO transaction writes one outpoint
// entry per output and per input and one address entry per output (the debits are derived,
// see forEachMovement); an account transfer writes two address entries. A coinbase that
// repeats a transaction id (Bitcoin before BIP 30 and 34) overwrites the outpoint's record,
// as in Bitcoin Core, and the overwritten record is kept under its own key so that Rewind
// restores it.
//
// A Store is safe for concurrent use. Writes of blocks are serialized; readers see
// consistent snapshots and never wait for a writer.
type Store struct {
	db   *badger.DB
	opts StoreOptions

	writeMu sync.Mutex // serializes block writes, rewinds and window changes
	recMu   sync.Mutex // serializes record writes (chunk generations, store_records.go)

	recordGen atomic.Uint64 // generation numbers of chunked records; starts at the open time

	mu      sync.RWMutex   // guards closed and chains
	active  sync.WaitGroup // readers and record writers in flight (see enter)
	closed  bool
	chains  map[Chain]byte
	byID    map[byte]Chain
	cursors map[Chain]cursor // cache of committed cursors, written under writeMu
	bulk    *BulkLoader      // the unfinished bulk load, if any

	unlock    func()    // releases the directory lock (store_lock_*.go)
	recovered *Recovery // what OpenStore repaired, if anything
}

// OpenStore opens (or creates) a store. Opening a directory written by an incompatible
// version, or by another program, fails with ErrIncompatibleStore (and ErrNewerStoreFormat,
// ErrOlderStoreFormat or ErrForeignStore, which say which); a damaged one with
// ErrCorruptStore; one that another process has open with ErrStoreInUse.
//
// A store left by a crash opens: an incremental write is all or nothing (see WriteBlock),
// and a bulk load interrupted by a crash is rolled back here, to the store as it was before
// the load (see store_intent.go). Recovered tells the caller what was done.
func OpenStore(ctx context.Context, opts StoreOptions) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !opts.InMemory && opts.Dir == "" {
		return nil, errors.New("graph: OpenStore: StoreOptions.Dir is empty (set Dir, or InMemory for a scratch store)")
	}
	unlock := func() {}
	var recovered *Recovery
	if !opts.InMemory {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("graph: open store %s: %w", opts.Dir, err)
		}
		var err error
		if unlock, err = lockDir(opts.Dir); err != nil {
			return nil, fmt.Errorf("graph: open store %s: %w", opts.Dir, err)
		}
		if recovered, err = recoverDir(opts); err != nil {
			unlock()
			return nil, err
		}
	}
	s, err := openLocked(ctx, opts)
	if errors.Is(err, errOwnBulkLoad) {
		// An interrupted bulk load of a build that recorded no intent: what the store held
		// before it is unknown, so it restarts empty.
		if err = recoverBulkLoad(opts, &bulkIntent{}); err == nil {
			recovered = &Recovery{BulkLoadDiscarded: true, NoIntent: true}
			s, err = openLocked(ctx, opts)
		}
		if err != nil {
			err = fmt.Errorf("graph: open store %s: discard an interrupted bulk load: %w", opts.Dir, err)
		}
	}
	if err != nil {
		unlock()
		return nil, err
	}
	s.unlock, s.recovered = unlock, recovered
	return s, nil
}

// recoverDir repairs what a crash left in the store's directory before badger opens it.
func recoverDir(opts StoreOptions) (*Recovery, error) {
	if err := removeEmptyWALs(opts.Dir); err != nil {
		return nil, fmt.Errorf("graph: open store %s: %w", opts.Dir, err)
	}
	in, err := readIntent(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("graph: open store %s: %w: %w (remove the directory and load again)", opts.Dir, ErrCorruptStore, err)
	}
	if in == nil {
		return nil, nil
	}
	if err := recoverBulkLoad(opts, in); err != nil {
		return nil, fmt.Errorf("graph: open store %s: discard an interrupted bulk load of %s: %w", opts.Dir, in.Chain, err)
	}
	return &Recovery{BulkLoadDiscarded: true, Chain: in.Chain, Started: in.Started, PID: in.PID}, nil
}

// Recovered returns what OpenStore repaired after a crash (ok false if nothing).
func (s *Store) Recovered() (r Recovery, ok bool) {
	if s.recovered == nil {
		return Recovery{}, false
	}
	return *s.recovered, true
}

// errOwnBulkLoad: the database holds what an earlier build's interrupted bulk load leaves.
var errOwnBulkLoad = errors.New("interrupted bulk load without an intent record")

// openLocked opens badger and checks the format (the directory lock is held).
func openLocked(ctx context.Context, opts StoreOptions) (*Store, error) {
	db, err := badger.Open(opts.badgerOptions())
	if err != nil {
		return nil, classifyOpenError(opts.Dir, err)
	}
	if !opts.InMemory && !opts.SkipVerifyOnOpen {
		if err := verifyTables(db); err != nil {
			closeQuietly(db)
			return nil, fmt.Errorf("graph: open store %s: %w: %w", opts.Dir, ErrCorruptStore, err)
		}
	}
	s := &Store{db: db, opts: opts, chains: map[Chain]byte{}, byID: map[byte]Chain{}, cursors: map[Chain]cursor{}, unlock: func() {}}
	s.recordGen.Store(uint64(time.Now().UnixNano()))
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	for c, h := range opts.WindowStarts {
		if err := s.SetWindowStart(ctx, c, h); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// removeEmptyWALs deletes zero-length memtable logs (*.mem). Badger v4.9.6 creates a
// memtable's log file and then sizes it; a process killed between the two leaves an empty
// file that makes every later Open fail ("while opening fid: N err: Create a new file"). An
// empty log holds no entries, so removing it loses nothing; badger creates a new one.
func removeEmptyWALs(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".mem") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if info.Size() == 0 {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// verifyTables checks the checksum of every table block. Badger panics on some damaged
// tables instead of returning an error; this runs in the caller's goroutine, so the panic
// is recovered and reported as damage.
func verifyTables(db *badger.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("table checksum verification failed: %v", r)
		}
	}()
	return db.VerifyChecksum()
}

// closeQuietly closes db after a failed open; a damaged database may fail to close cleanly
// (or panic), which must not hide the open error.
func closeQuietly(db *badger.DB) {
	defer func() { _ = recover() }()
	_ = db.Close()
}

// classifyOpenError tells damage apart from other failures (a lock held by another process,
// permissions), which keep only badger's error.
func classifyOpenError(dir string, err error) error {
	msg := strings.ToLower(err.Error())
	for _, w := range []string{"checksum", "corrupt", "manifest", "magic", "truncate", "invalid", "unexpected eof", "bad magic"} {
		if strings.Contains(msg, w) {
			if strings.Contains(msg, "unsupported version") || strings.Contains(msg, "external magic") {
				return fmt.Errorf("graph: open store %s: %w: %w", dir, ErrIncompatibleStore, err)
			}
			return fmt.Errorf("graph: open store %s: %w: %w", dir, ErrCorruptStore, err)
		}
	}
	return fmt.Errorf("graph: open store %s: %w", dir, err)
}

func formatMarker() []byte {
	return binary.BigEndian.AppendUint32([]byte(storeMagic), StoreFormatVersion)
}

// init checks (or writes) the format marker and loads the chain ids.
func (s *Store) init(ctx context.Context) error {
	return s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(metaFormatKey)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			it := txn.NewIterator(badger.IteratorOptions{})
			it.Rewind()
			nonEmpty := it.Valid()
			it.Close()
			if nonEmpty {
				if !s.opts.InMemory && looksLikeOwnBulkLoad(txn) {
					return errOwnBulkLoad
				}
				return fmt.Errorf("graph: open store %s: %w: %w: the directory holds another program's badger database (no chaintrace format marker); give the store a new or empty directory", s.opts.Dir, ErrIncompatibleStore, ErrForeignStore)
			}
			if s.opts.NoAddressIndex {
				if err := txn.Set(metaNoAddrKey, []byte{1}); err != nil {
					return err
				}
			}
			return txn.Set(metaFormatKey, formatMarker())
		case err != nil:
			return fmt.Errorf("graph: open store %s: read format marker: %w", s.opts.Dir, err)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("graph: open store %s: read format marker: %w", s.opts.Dir, err)
		}
		if !bytes.HasPrefix(v, []byte(storeMagic)) || len(v) != len(storeMagic)+4 {
			return fmt.Errorf("graph: open store %s: %w: %w: unrecognised format marker %q; give the store a new or empty directory", s.opts.Dir, ErrIncompatibleStore, ErrForeignStore, v)
		}
		switch ver := binary.BigEndian.Uint32(v[len(storeMagic):]); {
		case ver > StoreFormatVersion:
			return fmt.Errorf("graph: open store %s: %w: %w: written in store format %d, this build reads format %d; run a newer chaintrace, or give this one a new directory", s.opts.Dir, ErrIncompatibleStore, ErrNewerStoreFormat, ver, StoreFormatVersion)
		case ver < StoreFormatVersion:
			return fmt.Errorf("graph: open store %s: %w: %w: written in store format %d, this build reads format %d; rebuild it: remove the directory (or give a new one) and ingest again", s.opts.Dir, ErrIncompatibleStore, ErrOlderStoreFormat, ver, StoreFormatVersion)
		}
		_, err = txn.Get(metaNoAddrKey)
		if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if created := err == nil; created != s.opts.NoAddressIndex {
			return fmt.Errorf("graph: open store %s: %w: StoreOptions.NoAddressIndex is %v but the store was created with %v", s.opts.Dir, ErrIncompatibleStore, s.opts.NoAddressIndex, created)
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: metaChainsPrefix, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			c := Chain(it.Item().Key()[len(metaChainsPrefix):])
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if len(v) != 1 || v[0] == 0 {
				return fmt.Errorf("graph: open store %s: %w: chain id record of %q is %x", s.opts.Dir, ErrCorruptStore, c, v)
			}
			if other, dup := s.byID[v[0]]; dup {
				return fmt.Errorf("graph: open store %s: %w: chains %q and %q share id %d", s.opts.Dir, ErrCorruptStore, other, c, v[0])
			}
			s.chains[c], s.byID[v[0]] = v[0], c
		}
		return nil
	})
}

// Close flushes and closes the store. It waits for running readers, and abandons an
// unfinished bulk load.
func (s *Store) Close() error {
	// An unfinished bulk load holds writeMu: abandon it (Close must not run concurrently
	// with the loader's Add or Finish).
	s.mu.RLock()
	bulk := s.bulk
	s.mu.RUnlock()
	if bulk != nil {
		bulk.Abort()
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	// Running readers finish; a reader's callback that calls the store again gets
	// ErrStoreClosed instead of deadlocking.
	s.active.Wait()
	err := s.db.Close()
	s.unlock()
	return err
}

// enter registers a reader (or record writer); it fails once Close has begun. Every
// successful enter is paired with leave.
func (s *Store) enter() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrStoreClosed
	}
	s.active.Add(1)
	return nil
}

func (s *Store) leave() { s.active.Done() }

// read runs fn in a read-only snapshot. The chain id is 0 (ok false) if the chain has never
// been written.
func (s *Store) read(ctx context.Context, c Chain, fn func(txn *badger.Txn, id byte, ok bool) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.mu.RLock()
	id, ok := s.chains[c]
	s.mu.RUnlock()
	return s.db.View(func(txn *badger.Txn) error { return fn(txn, id, ok) })
}

// chainIDForWrite returns c's id, assigning one (written in txn) for a new chain. The caller
// holds writeMu and calls commitChain after txn commits.
func (s *Store) chainIDForWrite(txn *badger.Txn, c Chain) (byte, bool, error) {
	if c == "" {
		return 0, false, fmt.Errorf("%w: empty chain name", ErrBadBlock)
	}
	s.mu.RLock()
	id, ok := s.chains[c]
	n := len(s.chains)
	s.mu.RUnlock()
	if ok {
		return id, false, nil
	}
	if n >= 255 {
		return 0, false, fmt.Errorf("graph: store: cannot register chain %q: 255 chains already", c)
	}
	id = byte(n + 1)
	return id, true, txn.Set(metaChainKey(c), []byte{id})
}

func (s *Store) commitChain(c Chain, id byte) {
	s.mu.Lock()
	s.chains[c], s.byID[id] = id, c
	s.mu.Unlock()
}

func (s *Store) checkOpen() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrStoreClosed
	}
	return nil
}

// loadCursor returns c's committed cursor (writeMu held).
func (s *Store) loadCursor(c Chain) (cursor, error) {
	if cur, ok := s.cursors[c]; ok {
		return cur, nil
	}
	var cur cursor
	err := s.read(context.Background(), c, func(txn *badger.Txn, id byte, ok bool) error {
		if !ok {
			return nil
		}
		var err error
		cur, err = getCursor(txn, id, c)
		return err
	})
	if err != nil {
		return cursor{}, err
	}
	s.cursors[c] = cur
	return cur, nil
}

func getCursor(txn *badger.Txn, id byte, c Chain) (cursor, error) {
	item, err := txn.Get(cursorKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return cursor{}, nil
	}
	if err != nil {
		return cursor{}, err
	}
	var cur cursor
	err = item.Value(func(v []byte) error {
		var derr error
		cur, derr = decodeCursor(v)
		return derr
	})
	if err != nil {
		return cursor{}, fmt.Errorf("graph: store: %w: cursor of %s: %w", ErrCorruptStore, c, err)
	}
	return cur, nil
}

// Tip returns the height and hash of c's last stored block; ok is false when c has none.
func (s *Store) Tip(ctx context.Context, c Chain) (height uint64, hash string, ok bool, err error) {
	err = s.read(ctx, c, func(txn *badger.Txn, id byte, known bool) error {
		if !known {
			return nil
		}
		cur, err := getCursor(txn, id, c)
		if err != nil {
			return err
		}
		height, hash, ok = cur.TipHeight, cur.TipHash, cur.HasTip
		return nil
	})
	return height, hash, ok, err
}

// WindowStart returns the window start declared for c (see StoreOptions.WindowStarts).
func (s *Store) WindowStart(ctx context.Context, c Chain) (height uint64, ok bool, err error) {
	err = s.read(ctx, c, func(txn *badger.Txn, id byte, known bool) error {
		if !known {
			return nil
		}
		cur, err := getCursor(txn, id, c)
		height, ok = cur.WindowStart, cur.HasWindow
		return err
	})
	return height, ok, err
}

// SetWindowStart declares that c's ingested history starts at height: from now on an
// input spending an outpoint the store does not know is outside the window (counted in
// WriteStats.OutsideWindow, left unresolved, and treated by the engine like an initial
// holding) rather than an ErrUnknownOutpoint.
func (s *Store) SetWindowStart(ctx context.Context, c Chain, height uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.checkSpace(); err != nil {
		return fmt.Errorf("set window start of %s: %w", c, err)
	}
	cur, err := s.loadCursor(c)
	if err != nil {
		return err
	}
	cur.HasWindow, cur.WindowStart = true, height
	var id byte
	var isNew bool
	err = s.db.Update(func(txn *badger.Txn) error {
		var err error
		if id, isNew, err = s.chainIDForWrite(txn, c); err != nil {
			return err
		}
		return txn.Set(cursorKey(id), encodeCursor(cur))
	})
	if err != nil {
		return fmt.Errorf("graph: store: set window start of %s: %w", c, err)
	}
	if isNew {
		s.commitChain(c, id)
	}
	s.cursors[c] = cur
	return nil
}

// BlockHash returns the hash of c's stored block at height; ok is false if there is none.
func (s *Store) BlockHash(ctx context.Context, c Chain, height uint64) (hash string, ok bool, err error) {
	err = s.read(ctx, c, func(txn *badger.Txn, id byte, known bool) error {
		if !known {
			return nil
		}
		var b Block
		found, err := getBlock(txn, id, c, height, &b)
		hash, ok = b.Hash, found
		return err
	})
	return hash, ok, err
}

// Block returns c's stored block at height, or an error wrapping ErrNotFound.
func (s *Store) Block(ctx context.Context, c Chain, height uint64) (*Block, error) {
	b := &Block{}
	err := s.read(ctx, c, func(txn *badger.Txn, id byte, known bool) error {
		found := false
		if known {
			var err error
			if found, err = getBlock(txn, id, c, height, b); err != nil {
				return err
			}
		}
		if !found {
			return fmt.Errorf("graph: store: block %d of %s: %w", height, c, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

func getBlock(txn *badger.Txn, id byte, c Chain, height uint64, b *Block) (bool, error) {
	item, err := txn.Get(blockKey(nil, id, height))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	err = item.Value(func(v []byte) error { return decodeBlock(v, b) })
	if err != nil {
		return false, blockDecodeError(c, height, err)
	}
	b.Chain, b.Height = c, height
	return true, nil
}

func blockDecodeError(c Chain, height uint64, err error) error {
	if errors.Is(err, ErrIncompatibleStore) {
		return fmt.Errorf("graph: store: block %d of %s: %w", height, c, err)
	}
	return fmt.Errorf("graph: store: %w: block %d of %s: %w", ErrCorruptStore, height, c, err)
}

// Blocks calls fn with c's stored blocks of heights from..to (inclusive) in chain order,
// from one consistent snapshot: a concurrent writer or reorg is not seen halfway. Each call
// gets a fresh Block that fn may keep. An error from fn stops the scan and is returned.
func (s *Store) Blocks(ctx context.Context, c Chain, from, to uint64, fn func(*Block) error) error {
	if from > to {
		return nil
	}
	return s.read(ctx, c, func(txn *badger.Txn, id byte, known bool) error {
		if !known {
			return nil
		}
		prefix := blockPrefix(id)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		n := 0
		for it.Seek(blockKey(nil, id, from)); it.Valid(); it.Next() {
			item := it.Item()
			h, err := blockKeyHeight(item.Key())
			if err != nil {
				return err
			}
			if h > to {
				return nil
			}
			if n++; n%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			b := &Block{Chain: c, Height: h}
			if err := item.Value(func(v []byte) error { return decodeBlock(v, b) }); err != nil {
				return blockDecodeError(c, h, err)
			}
			if err := fn(b); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}

// WriteStats describes what one WriteBlock did.
type WriteStats struct {
	// AlreadyStored: the same block (height and hash) was already stored; nothing changed.
	AlreadyStored bool
	// RolledBack is the number of stored blocks dropped because the new block forks off
	// below the tip (a reorg).
	RolledBack int
	// Resolved is the number of Bitcoin inputs whose address and value were filled in from
	// the outpoint index.
	Resolved int
	// OutsideWindow is the number of inputs spending outpoints that predate the declared
	// window start: they stay unresolved and are treated as clean initial holdings.
	OutsideWindow int
}

// WriteBlock stores b atomically together with its chain's cursor; see WriteBlockStats.
func (s *Store) WriteBlock(ctx context.Context, b *Block) error {
	_, err := s.WriteBlockStats(ctx, b)
	return err
}

// WriteBlockStats stores b atomically together with its chain's ingest cursor, and updates
// the outpoint and address indexes in the same transaction. A crash leaves either all of it
// or none of it.
//
// Bitcoin inputs with Resolved false get their Address and Value from the outpoint index,
// and b is updated in place, so the caller can hand the same block to the engine. An input
// spending an unknown outpoint is an ErrUnknownOutpoint unless a window start is declared
// for the chain (then it is counted in OutsideWindow). Spending an outpoint twice is an
// ErrDoubleSpend, and a resolved input that disagrees with the stored output an
// ErrPrevoutMismatch.
//
// Linking: b normally extends the tip (b.Parent is the tip's hash; a higher height whose
// Parent is not the tip is ErrParentMismatch, or ErrGap when heights are skipped). A block
// at or below the tip whose Parent is the hash of the stored block below it is a reorg: the
// store rolls back to that fork point, undoing spends and index entries, then writes b. A
// block whose Parent is not the stored block below it is an ErrParentMismatch: the fork is
// deeper, so the caller finds the fork point (compare BlockHash with its node) and sends the
// new branch from there. Blocks without a Parent are linked by height alone: a higher
// height extends the chain, a lower or equal one replaces the blocks from that height on.
// Heights may skip (scenario chains). Re-sending a stored block (same height and hash)
// changes nothing.
func (s *Store) WriteBlockStats(ctx context.Context, b *Block) (WriteStats, error) {
	var st WriteStats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if err := validateBlock(b); err != nil {
		return st, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkOpen(); err != nil {
		return st, err
	}
	if err := s.checkSpace(); err != nil {
		return st, fmt.Errorf("write block %d (%s) of %s: %w", b.Height, b.Hash, b.Chain, err)
	}
	cur, err := s.loadCursor(b.Chain)
	if err != nil {
		return st, err
	}
	if cur.HasTip {
		switch {
		case b.Height > cur.TipHeight:
			linked := b.Parent == "" || cur.TipHash == "" || b.Parent == cur.TipHash
			switch {
			case !linked && b.Height == cur.TipHeight+1:
				return st, fmt.Errorf("graph: store: block %d (%s) of %s: %w: its parent is %s, the stored block %d is %s",
					b.Height, b.Hash, b.Chain, ErrParentMismatch, b.Parent, cur.TipHeight, cur.TipHash)
			case !linked:
				return st, fmt.Errorf("graph: store: block %d (%s) of %s: %w: the tip is %d (%s), and the block's parent %s is not it",
					b.Height, b.Hash, b.Chain, ErrGap, cur.TipHeight, cur.TipHash, b.Parent)
			}
		default: // at or below the tip
			stored, ok, err := s.BlockHash(ctx, b.Chain, b.Height)
			if err != nil {
				return st, err
			}
			if ok && b.Hash != "" && stored == b.Hash {
				st.AlreadyStored = true
				return st, nil
			}
			// The fork point is the stored block below b (at b.Height-1 on a real chain;
			// scenario chains may skip heights).
			below, belowHash, hasBelow, err := s.blockBelow(ctx, b.Chain, b.Height)
			if err != nil {
				return st, err
			}
			if hasBelow && b.Parent != "" && belowHash != "" && belowHash != b.Parent {
				return st, fmt.Errorf("graph: store: block %d (%s) of %s: %w: its parent is %s, the stored block %d is %s (the fork is deeper: send the new branch from the fork point)",
					b.Height, b.Hash, b.Chain, ErrParentMismatch, b.Parent, below, belowHash)
			}
			n, err := s.rewind(ctx, b.Chain, below, !hasBelow)
			st.RolledBack = n
			if err != nil {
				return st, fmt.Errorf("graph: store: roll back %s for block %d (%s): %w", b.Chain, b.Height, b.Hash, err)
			}
			if cur, err = s.loadCursor(b.Chain); err != nil {
				return st, err
			}
		}
	}
	if err := s.writeBlock(b, cur, &st); err != nil {
		return st, err
	}
	return st, nil
}

// blockBelow returns the height and hash of c's highest stored block below height.
func (s *Store) blockBelow(ctx context.Context, c Chain, height uint64) (h uint64, hash string, ok bool, err error) {
	if height == 0 {
		return 0, "", false, nil
	}
	err = s.read(ctx, c, func(txn *badger.Txn, id byte, known bool) error {
		if !known {
			return nil
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: blockPrefix(id), Reverse: true, PrefetchValues: false})
		defer it.Close()
		it.Seek(blockKey(nil, id, height-1))
		if !it.Valid() {
			return nil
		}
		if h, err = blockKeyHeight(it.Item().Key()); err != nil {
			return err
		}
		var b Block
		if err := it.Item().Value(func(v []byte) error { return decodeBlock(v, &b) }); err != nil {
			return blockDecodeError(c, h, err)
		}
		hash, ok = b.Hash, true
		return nil
	})
	return h, hash, ok, err
}

// validateBlock rejects blocks the indexes could not represent faithfully.
func validateBlock(b *Block) error {
	if b == nil {
		return fmt.Errorf("%w: nil block", ErrBadBlock)
	}
	if b.Chain == "" {
		return fmt.Errorf("%w: block %d (%s) has no chain", ErrBadBlock, b.Height, b.Hash)
	}
	if b.Chain.Model() == UTXO && len(b.AccountTxs) > 0 {
		return fmt.Errorf("%w: block %d (%s) of %s (UTXO model) has account transactions", ErrBadBlock, b.Height, b.Hash, b.Chain)
	}
	if b.Chain.Model() == Account && len(b.UTXOTxs) > 0 {
		return fmt.Errorf("%w: block %d (%s) of %s (account model) has UTXO transactions", ErrBadBlock, b.Height, b.Hash, b.Chain)
	}
	for i := range b.UTXOTxs {
		if i > 0 && b.UTXOTxs[i].Index <= b.UTXOTxs[i-1].Index {
			return fmt.Errorf("%w: block %d (%s) of %s: tx %s has index %d after index %d (indexes must increase)",
				ErrBadBlock, b.Height, b.Hash, b.Chain, b.UTXOTxs[i].TxID, b.UTXOTxs[i].Index, b.UTXOTxs[i-1].Index)
		}
		if b.UTXOTxs[i].TxID == "" {
			return fmt.Errorf("%w: block %d (%s) of %s: tx at index %d has no id", ErrBadBlock, b.Height, b.Hash, b.Chain, b.UTXOTxs[i].Index)
		}
		if n := len(b.UTXOTxs[i].Inputs) + len(b.UTXOTxs[i].Outputs); n > 1<<31-1 {
			return fmt.Errorf("%w: block %d of %s: tx %s has %d inputs and outputs", ErrBadBlock, b.Height, b.Chain, b.UTXOTxs[i].TxID, n)
		}
	}
	for i := range b.AccountTxs {
		if i > 0 && b.AccountTxs[i].Index <= b.AccountTxs[i-1].Index {
			return fmt.Errorf("%w: block %d (%s) of %s: tx %s has index %d after index %d (indexes must increase)",
				ErrBadBlock, b.Height, b.Hash, b.Chain, b.AccountTxs[i].Hash, b.AccountTxs[i].Index, b.AccountTxs[i-1].Index)
		}
		if len(b.AccountTxs[i].Transfers) > 1<<31-1 {
			return fmt.Errorf("%w: block %d of %s: tx %s has too many transfers", ErrBadBlock, b.Height, b.Chain, b.AccountTxs[i].Hash)
		}
	}
	return nil
}

// writeBlock writes b in one transaction (writeMu held, linking already checked).
func (s *Store) writeBlock(b *Block, cur cursor, st *WriteStats) error {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	id, isNew, err := s.chainIDForWrite(txn, b.Chain)
	if err != nil {
		return err
	}
	w := blockWriter{txn: txn, id: id, b: b, noAddr: s.opts.NoAddressIndex}
	if err := w.apply(cur.HasWindow, st); err != nil {
		return err
	}
	rec := encodeBlock(w.buf[:0], b)
	if err := txn.Set(blockKey(nil, id, b.Height), rec); err != nil {
		return s.txnError(b, err)
	}
	next := cur
	next.HasTip, next.TipHeight, next.TipHash = true, b.Height, b.Hash
	if err := txn.Set(cursorKey(id), encodeCursor(next)); err != nil {
		return s.txnError(b, err)
	}
	if err := txn.Commit(); err != nil {
		return s.txnError(b, err)
	}
	if isNew {
		s.commitChain(b.Chain, id)
	}
	s.cursors[b.Chain] = next
	return nil
}

func (s *Store) txnError(b *Block, err error) error {
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("graph: store: block %d (%s) of %s with %d transactions: %w (raise StoreOptions.MemTableSize): %w",
			b.Height, b.Hash, b.Chain, b.TxCount(), ErrBlockTooBig, err)
	}
	return fmt.Errorf("graph: store: write block %d (%s) of %s: %w", b.Height, b.Hash, b.Chain, err)
}

// blockWriter applies (or undoes) one block's index entries inside a transaction.
type blockWriter struct {
	txn    *badger.Txn
	id     byte
	b      *Block
	noAddr bool
	buf    []byte
	kbuf   []byte
	slab   []byte // keys and values handed to the transaction are carved from slabs
}

// keep copies p into the slab: the transaction holds on to keys and values until it
// commits, and one slab per ~256 KB saves an allocation per key and per value.
func (w *blockWriter) keep(p []byte) []byte {
	if len(w.slab)+len(p) > cap(w.slab) {
		w.slab = make([]byte, 0, max(256<<10, len(p)))
	}
	n := len(w.slab)
	w.slab = append(w.slab, p...)
	return w.slab[n:len(w.slab):len(w.slab)]
}

func (w *blockWriter) set(k, v []byte) error {
	if err := w.txn.Set(w.keep(k), w.keep(v)); err != nil {
		return w.err(err)
	}
	return nil
}

func (w *blockWriter) err(err error) error {
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("graph: store: block %d (%s) of %s with %d transactions: %w (raise StoreOptions.MemTableSize): %w",
			w.b.Height, w.b.Hash, w.b.Chain, w.b.TxCount(), ErrBlockTooBig, err)
	}
	return fmt.Errorf("graph: store: block %d (%s) of %s: %w", w.b.Height, w.b.Hash, w.b.Chain, err)
}

// getOutpoint reads an outpoint record; found is false if absent.
func getOutpoint(txn *badger.Txn, key []byte, op Outpoint) (outpointRecord, bool, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return outpointRecord{}, false, nil
	}
	if err != nil {
		return outpointRecord{}, false, err
	}
	var r outpointRecord
	err = item.Value(func(v []byte) error {
		var derr error
		r, derr = decodeOutpoint(v, op.Index)
		return derr
	})
	if err != nil {
		return r, false, fmt.Errorf("%w: outpoint %s: %w", ErrCorruptStore, op, err)
	}
	return r, true, nil
}

// apply resolves and spends b's inputs, records its outputs and movements.
func (w *blockWriter) apply(hasWindow bool, st *WriteStats) error {
	b := w.b
	var m Movement
	for i := range b.UTXOTxs {
		tx := &b.UTXOTxs[i]
		nIn := 0
		if !tx.Coinbase {
			nIn = len(tx.Inputs)
			for j := range tx.Inputs {
				in := &tx.Inputs[j]
				w.kbuf = outpointKey(w.kbuf[:0], w.id, in.Prev)
				key := w.kbuf
				r, found, err := getOutpoint(w.txn, key, in.Prev)
				if err != nil {
					return w.err(err)
				}
				switch {
				case found && r.Spent:
					return fmt.Errorf("graph: store: block %d (%s) of %s: tx %s input %d: %w: %s was spent by tx %s in block %d",
						b.Height, b.Hash, b.Chain, tx.TxID, j, ErrDoubleSpend, in.Prev, r.SpentBy, r.SpentAt.Height)
				case found && r.ValueKnown && !in.Resolved:
					in.Address, in.Value, in.Resolved = r.Address, r.Value, true
					st.Resolved++
				case found && r.ValueKnown && in.Resolved:
					if in.Address != r.Address || in.Value != r.Value {
						return fmt.Errorf("graph: store: block %d (%s) of %s: tx %s input %d: %w: it says %s pays %s to %q, the store has %s to %q",
							b.Height, b.Hash, b.Chain, tx.TxID, j, ErrPrevoutMismatch, in.Prev, in.Value.Dec(), in.Address, r.Value.Dec(), r.Address)
					}
				case !found && in.Resolved:
					// The caller knows the spent output (an adapter with prevouts, a scenario's
					// funding): remember it, without a creator.
					r = outpointRecord{ValueKnown: true, Address: in.Address, Value: in.Value}
				case !found && hasWindow:
					st.OutsideWindow++
					r = outpointRecord{}
				case !found:
					return fmt.Errorf("graph: store: block %d (%s) of %s: tx %s input %d: %w: %s is not in the store (declare the chain's window start if the history starts later)",
						b.Height, b.Hash, b.Chain, tx.TxID, j, ErrUnknownOutpoint, in.Prev)
				}
				r.Spent, r.SpentBy = true, tx.TxID
				r.SpentAt = Position{Height: b.Height, TxIndex: tx.Index, Seq: int32(j)}
				w.buf = encodeOutpoint(w.buf[:0], &r)
				if err := w.set(key, w.buf); err != nil {
					return err
				}
				// The debit of an output the store created is derived from its record (see
				// forEachMovement); only other debits are index entries.
				if !w.noAddr && !r.Created && in.Address != "" {
					utxoDebit(&m, b, tx, j)
					if err := w.setMovement(&m); err != nil {
						return err
					}
				}
			}
		}
		for j := range tx.Outputs {
			out := &tx.Outputs[j]
			r := outpointRecord{
				Created: true, ValueKnown: true, Coinbase: tx.Coinbase, Unspendable: out.Unspendable,
				CreatedAt: Position{Height: b.Height, TxIndex: tx.Index, Seq: int32(j)},
				Address:   out.Address, Value: out.Value,
			}
			w.kbuf = outpointKey(w.kbuf[:0], w.id, Outpoint{TxID: tx.TxID, Index: uint32(j)})
			if tx.Coinbase {
				// Only a coinbase can repeat a transaction id (Bitcoin before BIP 30 and
				// 34: the coinbases of mainnet blocks 91842 and 91880); a spending
				// transaction would double-spend. The later output wins, as in Bitcoin
				// Core; the record it overwrites is kept for a rewind.
				if err := w.keepOverwritten(w.kbuf, b.Height, tx.Index, uint32(j)); err != nil {
					return err
				}
			}
			w.buf = encodeOutpoint(w.buf[:0], &r)
			if err := w.set(w.kbuf, w.buf); err != nil {
				return err
			}
			if !w.noAddr && out.Address != "" {
				utxoCredit(&m, b, tx, nIn, j)
				if err := w.setMovement(&m); err != nil {
					return err
				}
			}
		}
	}
	if w.noAddr || len(b.AccountTxs) == 0 {
		return nil
	}
	var ferr error
	forEachMovement(b, func(m *Movement) bool {
		ferr = w.setMovement(m)
		return ferr == nil
	})
	return ferr
}

// keepOverwritten saves the outpoint record under key, if there is one, as the record
// that output vout of the coinbase at (height, txIndex) overwrites.
func (w *blockWriter) keepOverwritten(key []byte, height uint64, txIndex, vout uint32) error {
	item, err := w.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return w.err(err)
	}
	old, err := item.ValueCopy(nil)
	if err != nil {
		return w.err(err)
	}
	return w.set(overwrittenKey(nil, w.id, height, txIndex, vout), old)
}

// setMovement writes m's address index entry.
func (w *blockWriter) setMovement(m *Movement) error {
	w.kbuf = movementKey(w.kbuf[:0], w.id, m.Address, m.Position, m.Credit)
	w.buf = encodeMovement(w.buf[:0], m)
	return w.set(w.kbuf, w.buf)
}

// undo removes b's index entries and un-spends what it spent (inside a rewind transaction).
func (w *blockWriter) undo() error {
	b := w.b
	if !w.noAddr {
		// Every movement's key is deleted, including the UTXO debits that are derived rather
		// than stored: deleting an absent key is harmless, and a rewind is rare.
		var ferr error
		forEachMovement(b, func(m *Movement) bool {
			if err := w.txn.Delete(movementKey(nil, w.id, m.Address, m.Position, m.Credit)); err != nil {
				ferr = w.err(err)
			}
			return ferr == nil
		})
		if ferr != nil {
			return ferr
		}
	}
	for i := len(b.UTXOTxs) - 1; i >= 0; i-- {
		tx := &b.UTXOTxs[i]
		for j := range tx.Outputs {
			key := outpointKey(nil, w.id, Outpoint{TxID: tx.TxID, Index: uint32(j)})
			if err := w.txn.Delete(key); err != nil {
				return w.err(err)
			}
			if !tx.Coinbase {
				continue
			}
			// The record this coinbase output overwrote, if any, is the outpoint's again.
			okey := overwrittenKey(nil, w.id, b.Height, tx.Index, uint32(j))
			item, err := w.txn.Get(okey)
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return w.err(err)
			}
			old, err := item.ValueCopy(nil)
			if err != nil {
				return w.err(err)
			}
			if err := w.set(key, old); err != nil {
				return err
			}
			if err := w.txn.Delete(okey); err != nil {
				return w.err(err)
			}
		}
		if tx.Coinbase {
			continue
		}
		for j := len(tx.Inputs) - 1; j >= 0; j-- {
			in := &tx.Inputs[j]
			key := outpointKey(nil, w.id, in.Prev)
			r, found, err := getOutpoint(w.txn, key, in.Prev)
			if err != nil {
				return w.err(err)
			}
			if !found || !r.Spent || r.SpentBy != tx.TxID || r.SpentAt.Height != b.Height {
				return w.err(fmt.Errorf("%w: tx %s input %d: outpoint %s is not recorded as spent by it", ErrCorruptStore, tx.TxID, j, in.Prev))
			}
			if !r.Created {
				if err := w.txn.Delete(key); err != nil {
					return w.err(err)
				}
				continue
			}
			r.Spent, r.SpentBy, r.SpentAt = false, "", Position{}
			if err := w.set(key, encodeOutpoint(nil, &r)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Rewind drops every block of c above height, undoing their spends and index entries.
// Blocks are dropped one per transaction, newest first, so a crash during a long rewind
// leaves a consistent, shorter chain.
func (s *Store) Rewind(ctx context.Context, c Chain, height uint64) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.checkSpace(); err != nil {
		return fmt.Errorf("rewind %s to %d: %w", c, height, err)
	}
	_, err := s.rewind(ctx, c, height, false)
	return err
}

// rewind drops c's blocks above height (all of them if all is set); writeMu held.
func (s *Store) rewind(ctx context.Context, c Chain, height uint64, all bool) (int, error) {
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		cur, err := s.loadCursor(c)
		if err != nil {
			return n, err
		}
		if !cur.HasTip || (!all && cur.TipHeight <= height) {
			return n, nil
		}
		if err := s.dropTip(c, cur); err != nil {
			return n, err
		}
		n++
	}
}

// dropTip removes c's tip block in one transaction and moves the cursor to the block below.
func (s *Store) dropTip(c Chain, cur cursor) error {
	s.mu.RLock()
	id := s.chains[c]
	s.mu.RUnlock()
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	b := &Block{}
	found, err := getBlock(txn, id, c, cur.TipHeight, b)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("graph: store: %w: the cursor of %s names block %d, which is not stored", ErrCorruptStore, c, cur.TipHeight)
	}
	w := blockWriter{txn: txn, id: id, b: b, noAddr: s.opts.NoAddressIndex}
	if err := w.undo(); err != nil {
		return err
	}
	if err := txn.Delete(blockKey(nil, id, cur.TipHeight)); err != nil {
		return w.err(err)
	}
	next := cur
	next.HasTip, next.TipHeight, next.TipHash = false, 0, ""
	// The new tip is the highest block below (heights may have gaps in scenario chains).
	it := txn.NewIterator(badger.IteratorOptions{Prefix: blockPrefix(id), Reverse: true})
	if cur.TipHeight > 0 {
		for it.Seek(blockKey(nil, id, cur.TipHeight-1)); it.Valid(); it.Next() {
			h, err := blockKeyHeight(it.Item().Key())
			if err != nil {
				it.Close()
				return err
			}
			if h >= cur.TipHeight {
				continue
			}
			var pb Block
			if err := it.Item().Value(func(v []byte) error { return decodeBlock(v, &pb) }); err != nil {
				it.Close()
				return blockDecodeError(c, h, err)
			}
			next.HasTip, next.TipHeight, next.TipHash = true, h, pb.Hash
			break
		}
	}
	it.Close()
	if err := txn.Set(cursorKey(id), encodeCursor(next)); err != nil {
		return w.err(err)
	}
	if err := txn.Commit(); err != nil {
		return w.err(err)
	}
	s.cursors[c] = next
	return nil
}
