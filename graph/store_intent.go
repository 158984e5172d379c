package graph

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Crash recovery of bulk loads.
//
// A bulk load streams tables straight into badger (StreamWriter), which first drops the
// whole database, and writes the store's metadata — its format marker among it — only when
// the load is flushed. A process killed in between leaves a directory that holds part of a
// load and no format marker. So the loader records its intent before it drops anything: a
// file in the store's directory (bulkIntentFile), written to a temporary name, synced and
// renamed into place, that names the chain and holds everything the store held before the
// load (its metadata and cursors: a bulk load needs a store without blocks or records). The
// file is removed once the load is flushed and synced, or aborted and rolled back.
//
// OpenStore that finds the file knows that a load was interrupted: it removes badger's files
// (nothing of the load is usable: StreamWriter's tables are only consistent once flushed),
// writes back the records the intent holds, syncs, and only then removes the file. Each
// step can be interrupted and redone, so a crash during the recovery is recovered the same
// way. The store is then as it was before the load (window starts included), and Recovered
// says what was done, in one line, for the caller to show.

// bulkIntentFile is the intent record of a running bulk load, in the store's directory.
const bulkIntentFile = "chaintrace-bulk-load.intent"

// lockFile is the store's own lock (store_lock_*.go), held while the store is open.
const lockFile = "chaintrace.lock"

const intentMagic = "chaintrace bulk load intent 1\n"

// bulkIntent is what a bulk load records before it drops anything.
type bulkIntent struct {
	Chain   Chain
	PID     int
	Started time.Time
	Before  []kvPair // what the store held before the load (metadata, cursors)
}

type kvPair struct{ Key, Value []byte }

// Recovery describes what OpenStore repaired after a crash.
type Recovery struct {
	// BulkLoadDiscarded: a bulk load was interrupted (the process died, or the machine
	// stopped); its partial data was dropped and the store is as it was before the load,
	// window starts included. Loading again starts from the beginning.
	BulkLoadDiscarded bool
	Chain             Chain     // chain of the discarded load ("" if unknown)
	Started           time.Time // when the discarded load started (zero if unknown)
	PID               int       // process that ran it (0 if unknown)
	// NoIntent: the load was left by a chaintrace build that did not record its intent; it was
	// recognised by its keys and block records, and nothing of the store before it is known.
	NoIntent bool
}

// String is the one line a program shows its user.
func (r Recovery) String() string {
	if !r.BulkLoadDiscarded {
		return "nothing recovered"
	}
	var b strings.Builder
	b.WriteString("discarded an interrupted bulk load")
	if r.Chain != "" {
		fmt.Fprintf(&b, " of %s", r.Chain)
	}
	if !r.Started.IsZero() {
		fmt.Fprintf(&b, " (started %s", r.Started.UTC().Format(time.RFC3339))
		if r.PID > 0 {
			fmt.Fprintf(&b, " by process %d", r.PID)
		}
		b.WriteString(")")
	}
	if r.NoIntent {
		b.WriteString(", left by an earlier chaintrace build")
	}
	b.WriteString("; the store is as it was before that load, which starts again from the beginning")
	return b.String()
}

func encodeIntent(in *bulkIntent) []byte {
	b := []byte(intentMagic)
	b = binary.AppendUvarint(b, uint64(len(in.Chain)))
	b = append(b, in.Chain...)
	b = binary.AppendUvarint(b, uint64(in.PID))
	b = binary.AppendVarint(b, in.Started.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(in.Before)))
	for _, kv := range in.Before {
		b = binary.AppendUvarint(b, uint64(len(kv.Key)))
		b = append(b, kv.Key...)
		b = binary.AppendUvarint(b, uint64(len(kv.Value)))
		b = append(b, kv.Value...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

var errBadIntent = errors.New("malformed bulk load intent record")

func decodeIntent(b []byte) (*bulkIntent, error) {
	if len(b) < len(intentMagic)+4 || !bytes.HasPrefix(b, []byte(intentMagic)) {
		return nil, errBadIntent
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errBadIntent)
	}
	d := decoder{buf: body, off: len(intentMagic)}
	in := &bulkIntent{}
	in.Chain = Chain(d.bytes(int(d.uvarint())))
	in.PID = int(d.uvarint())
	in.Started = time.Unix(0, d.varint())
	n := d.uvarint()
	if n > uint64(len(body)) {
		return nil, fmt.Errorf("%w: %d records", errBadIntent, n)
	}
	for i := uint64(0); i < n; i++ {
		k := d.bytes(int(d.uvarint()))
		v := d.bytes(int(d.uvarint()))
		in.Before = append(in.Before, kvPair{Key: append([]byte(nil), k...), Value: append([]byte(nil), v...)})
	}
	if err := d.done(); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadIntent, err)
	}
	return in, nil
}

// writeIntent records in durably in dir: a temporary file, synced, renamed into place, and
// the directory synced, so that the record is either whole or absent.
func writeIntent(dir string, in *bulkIntent) error {
	tmp := filepath.Join(dir, bulkIntentFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(encodeIntent(in))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, bulkIntentFile))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("record the bulk load's intent: %w", err)
	}
	return nil
}

// removeIntent removes the intent record durably: once it is gone, the store is whole.
func removeIntent(dir string) error {
	err := os.Remove(filepath.Join(dir, bulkIntentFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(dir)
}

// readIntent returns the intent record in dir, or nil if there is none.
func readIntent(dir string) (*bulkIntent, error) {
	// A temporary record that was never renamed recorded nothing: the load had not begun.
	_ = os.Remove(filepath.Join(dir, bulkIntentFile+".tmp"))
	b, err := os.ReadFile(filepath.Join(dir, bulkIntentFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeIntent(b)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// isBadgerFile tells badger's own files apart from anything else in a store's directory.
func isBadgerFile(name string) bool {
	switch name {
	case "MANIFEST", "KEYREGISTRY", "DISCARD", "LOCK", "flock":
		return true
	}
	for _, ext := range []string{".sst", ".vlog", ".mem"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return strings.HasPrefix(name, "MANIFEST") || strings.HasPrefix(name, "KEYREGISTRY")
}

// removeBadgerFiles deletes the database in dir (the caller holds the store's lock).
func removeBadgerFiles(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !isBadgerFile(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return syncDir(dir)
}

// recoverBulkLoad rolls back the interrupted load that in records: the database is removed
// and recreated with what the store held before the load. The intent record is removed last.
func recoverBulkLoad(opts StoreOptions, in *bulkIntent) error {
	if err := removeBadgerFiles(opts.Dir); err != nil {
		return err
	}
	db, err := badger.Open(opts.badgerOptions())
	if err != nil {
		return err
	}
	err = db.Update(func(txn *badger.Txn) error {
		for _, kv := range in.Before {
			if err := txn.Set(kv.Key, kv.Value); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = db.Sync()
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return removeIntent(opts.Dir)
}

// looksLikeOwnBulkLoad tells whether a database without a format marker is what an
// interrupted bulk load of an earlier build (one that recorded no intent) leaves: every key
// is of one of the store's tables, none is a record (a bulk load needs a store without
// records), and a block record decodes. Another program's data fails the test.
func looksLikeOwnBulkLoad(txn *badger.Txn) bool {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
	defer it.Close()
	decoded := false
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		switch k[0] {
		case tagMeta, tagCursor, tagOutpoint, tagAddress, tagOverwritten:
		case tagBlock:
			if decoded {
				continue
			}
			if len(k) != 10 {
				return false
			}
			var b Block
			if err := it.Item().Value(func(v []byte) error { return decodeBlock(v, &b) }); err != nil {
				return false
			}
			decoded = true
		default:
			return false
		}
	}
	return decoded
}
