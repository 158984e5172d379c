package bitcoin_test

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
)

const testdataDir = "../../testdata/bitcoin"

// readBz2 returns the decompressed content of a bzip2 file under testdata/bitcoin.
func readBz2(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return data
}

// splitFrames splits blk-file content into its block payloads.
func splitFrames(t testing.TB, data []byte, net *chaincfg.Params) [][]byte {
	t.Helper()
	var blocks [][]byte
	for len(data) >= 8 {
		if binary.LittleEndian.Uint32(data) != uint32(net.Net) {
			t.Fatalf("bad magic %x", data[:4])
		}
		n := binary.LittleEndian.Uint32(data[4:])
		blocks = append(blocks, data[8:8+n])
		data = data[8+n:]
	}
	return blocks
}

// frame returns a blk-file frame of raw for net.
func frame(net *chaincfg.Params, raw []byte) []byte {
	var hdr [8]byte
	binary.LittleEndian.PutUint32(hdr[:], uint32(net.Net))
	binary.LittleEndian.PutUint32(hdr[4:], uint32(len(raw)))
	return append(hdr[:], raw...)
}

// writeBlk writes frames into dir/name, obfuscated with key (from file offset 0), followed
// by pad zero bytes (Bitcoin Core's preallocated tail).
func writeBlk(t testing.TB, dir, name string, key [8]byte, pad int, frames ...[]byte) {
	t.Helper()
	var buf bytes.Buffer
	for _, f := range frames {
		buf.Write(f)
	}
	data := buf.Bytes()
	for i := range data {
		data[i] ^= key[i%8]
	}
	data = append(data, make([]byte, pad)...) // preallocated space is physical zeros
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// mainnet1to255 writes real mainnet blocks 1–255 into a fresh blocks directory.
func mainnet1to255(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "blk00000.dat"), readBz2(t, "blocks1-256.bz2"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func timeUnix(s int64) time.Time { return time.Unix(s, 0) }

// writeBunzip decompresses a bzip2 stream into path.
func writeBunzip(r io.Reader, path string) error {
	data, err := io.ReadAll(bzip2.NewReader(r))
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
