package labels_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/labels"
)

// The files people have, given as they come: OFAC's sdn.csv alone loads (it used to fail
// with "no address column in header"); its comments file alone, a plain address list with
// no owner and a GraphSense ActorPack are refused with what to give instead, in the words
// of files and options rather than of this package's functions.
// labelsTD is the repository's label fixtures (testdata/labels, with their SOURCES.md).
const labelsTD = "../../testdata/labels/"

func TestLoadFileAsPeopleHaveThem(t *testing.T) {
	ctx := context.Background()
	sdn := labelsTD + "ofac/sdn_2024-05-03_slice_dca_and_dprk.csv"
	for _, load := range []func() (int, []labels.Warning, error){
		func() (int, []labels.Warning, error) {
			b, err := labels.LoadFile(ctx, sdn, labels.Options{})
			if err != nil {
				return 0, nil, err
			}
			return len(b.Labels), b.Warnings, nil
		},
		func() (int, []labels.Warning, error) {
			s := labels.NewSet()
			got, err := s.ReadFile(ctx, sdn, labels.Options{})
			return got.Labels, got.Warnings, err
		},
	} {
		n, ws, err := load()
		if err != nil {
			t.Fatalf("sdn.csv alone: %v", err)
		}
		// The same file read by the OFAC parser without comments gives the same labels.
		want, err := labels.LoadSDN(ctx, sdn, "", labels.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || n != len(want.Labels) || len(ws) != len(want.Warnings) {
			t.Errorf("sdn.csv alone: %d labels, %d warnings; LoadSDN without comments: %d, %d", n, len(ws), len(want.Labels), len(want.Warnings))
		}
	}
	set, err := labels.LoadSet(ctx, sdn)
	if err != nil {
		t.Fatal(err)
	}
	seeds, _ := set.Seeds(labels.SeedQuery{Nexus: labels.NexusDPRK, Chain: graph.Bitcoin}, time.Time{})
	if len(seeds) == 0 {
		t.Error("sdn.csv alone gives no DPRK bitcoin seed")
	}

	for _, c := range []struct {
		file string
		opt  labels.Options
		want []string // in the error
	}{
		{"ofac/sdn_comments_2025-02_watchman-testdata.csv", labels.Options{}, []string{"sdn_comments.csv", "give sdn.csv with it", "or instead (it loads alone)"}},
		{"ofac/0xb10c_sanctioned_addresses_XBT_2024-09-27.txt", labels.Options{}, []string{"does not say whose its addresses are", "give their owner"}},
		{"tagpacks/actors/graphsense.actorpack.yaml.gz", labels.Options{}, []string{"ActorPack", "holds no address", "give the TagPack files"}},
	} {
		_, err := labels.LoadFile(ctx, labelsTD+c.file, c.opt)
		if err == nil {
			t.Errorf("%s: loaded", c.file)
			continue
		}
		if !errors.Is(err, labels.ErrMalformed) || !strings.Contains(err.Error(), labelsTD+c.file) {
			t.Errorf("%s: %v: want ErrMalformed naming the file", c.file, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v: want %q", c.file, err, w)
			}
		}
		if strings.Contains(err.Error(), "use Load") {
			t.Errorf("%s: %v: names a function, not what to give", c.file, err)
		}
	}
	// The pair, read into a set, is LoadSDN's.
	cmt := labelsTD + "ofac/sdn_comments_2025-02_watchman-testdata.csv"
	pair, err := labels.LoadSDN(ctx, sdn, cmt, labels.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := labels.NewSet()
	got, err := s.ReadSDN(ctx, sdn, cmt, labels.Options{})
	if err != nil || got.Labels != len(pair.Labels) || len(got.Warnings) != len(pair.Warnings) || s.Len() != got.Labels {
		t.Errorf("ReadSDN: %+v, %v; LoadSDN: %d labels, %d warnings", got, err, len(pair.Labels), len(pair.Warnings))
	}
	for path, want := range map[string]string{sdn: "sdn", cmt: "sdn_comments", labelsTD + "dprk-attribution/fbi_attributed_dprk_addresses.csv": "", labelsTD + "nonexistent.csv": ""} {
		if k := labels.OFACFile(path); k != want {
			t.Errorf("OFACFile(%s) = %q, want %q", path, k, want)
		}
	}

	b, err := labels.LoadFile(ctx, labelsTD+"ofac/0xb10c_sanctioned_addresses_XBT_2024-09-27.txt", labels.Options{Entity: "OFAC-listed (0xB10C)", SkipInvalid: true}) // OFAC files a TRON address under XBT
	if err != nil {
		t.Fatalf("plain list with its owner: %v", err)
	}
	if len(b.Labels) == 0 {
		t.Error("plain list with its owner: no label")
	}
}
