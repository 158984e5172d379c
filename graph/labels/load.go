package labels

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// withFile opens path, transparently gunzipping a ".gz" file, and calls fn with the reader
// and the name without ".gz" (which says the format).
func withFile(ctx context.Context, path string, fn func(r io.Reader, inner string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	inner := path
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return errAt(path, 0, fmt.Errorf("%w: gzip: %w", ErrMalformed, err))
		}
		defer zr.Close()
		r, inner = zr, strings.TrimSuffix(path, ".gz")
	}
	return fn(r, inner)
}

// LoadFile reads one label file, choosing the parser by its name (a ".gz" suffix is
// decompressed first):
//
//   - *.csv: an Etherscan label page (header ",Address,Name Tag,…"; the label id is the file
//     name) or else an attribution list (ParseCSV) — the curated sets are the latter;
//   - *.yaml, *.yml: a TagPack (ParseTagPack, no header file; use LoadTagPackDir for a tree);
//   - *.json: Etherscan combined account labels (ParseEtherscanJSON);
//   - *.txt: a plain address list (ParsePlainList; needs opt.Entity).
//
// OFAC's sdn.csv needs its comments file: use LoadSDN.
func LoadFile(ctx context.Context, path string, opt Options) (*Batch, error) {
	var b *Batch
	err := withFile(ctx, path, func(r io.Reader, inner string) error {
		var err error
		switch ext := strings.ToLower(filepath.Ext(inner)); ext {
		case ".csv":
			data, rerr := io.ReadAll(r)
			if rerr != nil {
				return rerr
			}
			if first, _, _ := strings.Cut(string(data[:min(len(data), 256)]), "\n"); strings.HasPrefix(strings.TrimSpace(first), ",Address,Name Tag") {
				id := strings.TrimSuffix(filepath.Base(inner), ext)
				b, err = ParseEtherscanCSV(strings.NewReader(string(data)), path, id, opt)
			} else {
				b, err = ParseCSV(strings.NewReader(string(data)), path, opt)
			}
		case ".yaml", ".yml":
			if strings.HasSuffix(inner, "actorpack.yaml") {
				return fmt.Errorf("%s is an ActorPack: use LoadActorPack", path)
			}
			b, err = ParseTagPack(r, path, nil, opt)
		case ".json":
			b, err = ParseEtherscanJSON(r, path, opt)
		case ".txt":
			b, err = ParsePlainList(r, path, opt)
		default:
			return fmt.Errorf("%s: unknown label file type %q", path, ext)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// LoadSet reads files in this package's own format — the curated sets — or any other
// format LoadFile recognizes with default options, into one new Set: the one call that
// loads a curated set. The files' warnings are kept (Set.Warnings).
func LoadSet(ctx context.Context, paths ...string) (*Set, error) {
	s := NewSet()
	for _, p := range paths {
		b, err := LoadFile(ctx, p, Options{})
		if err != nil {
			return nil, err
		}
		if err := s.AddBatch(b); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return s, nil
}
