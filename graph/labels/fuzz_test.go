package labels

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// Every parser, on any input: an error that is a *ParseError wrapping a sentinel, or labels
// that are all valid (Set.Add accepts them) — never a panic.
func checkParsed(t *testing.T, b *Batch, err error) {
	t.Helper()
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v is not a *ParseError", err)
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadAddress) && !errors.Is(err, ErrUnknownChain) &&
			!errors.Is(err, ErrUnknownCategory) && !errors.Is(err, ErrUnknownConfidence) && !errors.Is(err, ErrBadDate) &&
			!errors.Is(err, ErrConflictingEntity) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		return
	}
	if err := NewSet().Add(b.Labels...); err != nil {
		t.Fatalf("parser returned an invalid label: %v", err)
	}
}

func seedFile(f *testing.F, path string, max int) {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	if len(data) > max {
		data = data[:max]
	}
	f.Add(data)
}

func FuzzParseCSV(f *testing.F) {
	seedFile(f, td+"dprk-attribution/fbi_attributed_dprk_addresses.csv", 4000)
	seedFile(f, td+"dprk-attribution/researcher_attributed_dprk_addresses.csv", 4000)
	seedFile(f, td+"ofac/ultrasoundmoney_ofac_eth_addresses_2024-08-20_incl_tornado.csv", 2000)
	seedFile(f, dprkSeedsFile, 4000)
	f.Add([]byte("chain,address,actor\nbsc,0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D,X\n"))
	f.Add([]byte("address,entity,listed,withdrawn\n1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2,X,2022,2021-02\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseCSV(bytes.NewReader(data), "f.csv", Options{})
		checkParsed(t, b, err)
	})
}

func FuzzParseSDN(f *testing.F) {
	seedFile(f, td+"ofac/sdn_2024-05-03_slice_dca_and_dprk.csv", 6000)
	f.Add([]byte("1,\"A\",-0- ,\"DPRK3] [CYBER2\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Digital Currency Address - XBT 1BvBMSEYst\"\r\n\x1a"))
	comments, err := os.ReadFile(td + "ofac/sdn_comments_2025-02_watchman-testdata.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The same bytes as the SDN file alone, and as its comments file.
		b, err := ParseSDN(bytes.NewReader(data), "sdn.csv", bytes.NewReader(comments), "c.csv", Options{})
		checkParsed(t, b, err)
		b, err = ParseSDN(strings.NewReader("1,\"A\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\""+strings.Repeat("z", 1000)+"\"\r\n"), "sdn.csv", bytes.NewReader(data), "c.csv", Options{})
		checkParsed(t, b, err)
	})
}

func FuzzParseTagPack(f *testing.F) {
	seedFile(f, td+"tagpacks/packs/lazarus.yaml", 2000)
	seedFile(f, td+"tagpacks/packs/exchange-wallets-kucoin.yaml", 2000)
	seedFile(f, td+"tagpacks/packs/ronin_bridge.yaml", 2000)
	f.Add([]byte("header: !include header.yaml\ntitle: B\ntags:\n- address: 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy\n"))
	f.Add([]byte("title: a\ncreator: b\ncurrency: BTC\nx: &a 1\ntags:\n- address: *a\n- tx_hash: ab\n"))
	hdr, err := ParseTagPackHeader(strings.NewReader("creator: T\ncurrency: ETH\nconfidence: forensic\n"), "header.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseTagPack(bytes.NewReader(data), "p.yaml", nil, Options{})
		checkParsed(t, b, err)
		b, err = ParseTagPack(bytes.NewReader(data), "p.yaml", hdr, Options{})
		checkParsed(t, b, err)
		if _, err := ParseTagPackHeader(bytes.NewReader(data), "h.yaml"); err != nil {
			checkParsed(t, nil, err)
		}
	})
}

func FuzzParseActorPack(f *testing.F) {
	f.Add([]byte("actors:\n- id: lazarusgroup\n  label: Lazarus Group\n  categories: [sanction]\n  aliases: [lazarus]\n"))
	f.Add([]byte("%YAML 1.1\n---\ntitle: x\nactors:\n- id: '01'\n  jurisdictions: []\n- id: '01'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParseActorPack(bytes.NewReader(data), "a.yaml"); err != nil {
			checkParsed(t, nil, err)
		}
	})
}

func FuzzParseEtherscan(f *testing.F) {
	seedFile(f, td+"etherscan/accounts/binance.csv", 1500)
	seedFile(f, td+"etherscan/accounts/tornado-cash.csv", 1500)
	f.Add([]byte(`{"0x0e8ba001a821f3ce0734763d008c9d7c957f5852": {"name": "AmadeusRelay", "labels": ["0x-protocol-ecosystem", "binance"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseEtherscanCSV(bytes.NewReader(data), "binance.csv", "binance", Options{})
		checkParsed(t, b, err)
		b, err = ParseEtherscanJSON(bytes.NewReader(data), "labels.json", Options{})
		checkParsed(t, b, err)
	})
}

func FuzzParsePlainList(f *testing.F) {
	seedFile(f, td+"ofac/0xb10c_sanctioned_addresses_ETH_2024-09-27.txt", 1000)
	seedFile(f, td+"ofac/0xb10c_sanctioned_addresses_XBT_2024-09-27.txt", 1000)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParsePlainList(bytes.NewReader(data), "l.txt", Options{Entity: "E", SkipInvalid: len(data)%2 == 0})
		checkParsed(t, b, err)
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2025-02-26", "2022 (file history)", "2025-02/03", "2023-08-16 12:18:52.619444", "2024-02-29"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, prec, err := parseDate(s)
		if err != nil {
			if !errors.Is(err, ErrBadDate) {
				t.Fatal(err)
			}
			return
		}
		if d.Hour() != 0 || d.Year() < 1970 || prec < precDay || prec > precYear {
			t.Fatalf("%q → %v, %d", s, d, prec)
		}
	})
}

// FuzzSetRead drives the streaming entry point, Set.Read, with the same bytes under every
// format name, into a set that already holds labels: it must agree with the Batch loaders
// (same labels, same error), and a file that fails must leave the set as it was.
func FuzzSetRead(f *testing.F) {
	seedFile(f, dprkSeedsFile, 4000)
	seedFile(f, td+"dprk-attribution/fbi_attributed_dprk_addresses.csv", 3000)
	seedFile(f, td+"etherscan/accounts/binance.csv", 1500)
	seedFile(f, td+"tagpacks/packs/lazarus.yaml", 2000)
	seedFile(f, td+"ofac/sdn_2024-05-03_slice_dca_and_dprk.csv", 6000)
	f.Add([]byte("chain,address,actor\nbitcoin,12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S,A\nbitcoin,12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S,B\n"))
	f.Add([]byte(`{"0x0e8ba001a821f3ce0734763d008c9d7c957f5852": {"name": "AmadeusRelay", "labels": ["binance"]}}`))
	b, err := LoadFile(context.Background(), exchangesFile, Options{})
	if err != nil {
		f.Fatal(err)
	}
	base := b.Labels[:20]
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"f.csv", "f.json", "f.txt", "f.yaml"} {
			s := NewSet()
			if err := s.Add(base...); err != nil {
				t.Fatal(err)
			}
			n0 := s.Len()
			opt := Options{Entity: "E", Cite: "cited"}
			got, err := s.Read(bytes.NewReader(data), name, opt)
			var want *Batch
			var werr error
			switch name {
			case "f.json":
				want, werr = ParseEtherscanJSON(bytes.NewReader(data), name, opt)
			case "f.txt":
				want, werr = ParsePlainList(bytes.NewReader(data), name, opt)
			case "f.yaml":
				want, werr = ParseTagPack(bytes.NewReader(data), name, nil, opt)
			default:
				first, _, _ := strings.Cut(string(data[:min(len(data), 8<<10)]), "\n")
				switch {
				case bytes.HasPrefix(bytes.TrimSpace(data), []byte(",Address,Name Tag")):
					want, werr = ParseEtherscanCSV(bytes.NewReader(data), name, "f", opt)
				case ofacColumns(first) == sdnColumns:
					want, werr = ParseSDN(bytes.NewReader(data), name, nil, "", opt)
				case ofacColumns(first) == 2:
					werr = errors.New("an sdn_comments.csv alone")
				default:
					want, werr = ParseCSV(bytes.NewReader(data), name, opt)
				}
			}
			if err != nil {
				if s.Len() != n0 {
					t.Fatalf("%s: failed (%v) but the set grew from %d to %d labels", name, err, n0, s.Len())
				}
				if werr == nil || werr.Error() != err.Error() {
					var pe *ParseError
					if werr == nil && !errors.As(err, &pe) {
						t.Fatalf("%s: Read: %v; the Batch loader: %v", name, err, werr)
					}
				}
				continue
			}
			if werr != nil {
				t.Fatalf("%s: Read succeeded, the Batch loader failed: %v", name, werr)
			}
			if got.Labels != len(want.Labels) || s.Len() != n0+got.Labels {
				t.Fatalf("%s: Read added %d labels (set %d→%d), the Batch loader read %d", name, got.Labels, n0, s.Len(), len(want.Labels))
			}
			ls := s.Labels()[n0:]
			for i := range ls {
				w := want.Labels[i]
				if w.Source.File == name {
					w.Source.File = "cited"
				}
				if ls[i].Address != w.Address || ls[i].Entity != w.Entity || ls[i].Source != w.Source || !ls[i].Listed.Equal(w.Listed) {
					t.Fatalf("%s: label %d: %+v, want %+v", name, i, ls[i], w)
				}
				if err := NewSet().Add(ls[i]); err != nil {
					t.Fatalf("%s: Read kept an invalid label: %v", name, err)
				}
			}
		}
	})
}
