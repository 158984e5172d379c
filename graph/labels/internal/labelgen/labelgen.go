// Package labelgen writes large, deterministic attribution lists for the benchmarks and
// fuzz seeds of package labels and for measuring programs that load them: n threat-actor
// labels on valid mainnet P2PKH addresses, in the attribution CSV format labels.ParseCSV
// reads (the FBI/researcher column names).
//
// The first rows are real addresses of mainnet blocks 1–255 (the bundled
// testdata/bitcoin/blocks1-256.bz2), so a trace over those blocks has seeds and an exchange
// that receive coins: the coinbase address of block 9, which pays 10 BTC in block 170, is an
// actor; the receiver of that payment is an exchange. The other rows are P2PKH addresses of
// the hash160 SHA-256("chaintrace labelgen " + i)[:20], which no block 1–255 output pays.
package labelgen

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"strconv"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
)

// Header is the CSV header WriteActorCSV writes.
const Header = "chain,address,actor,category,nexus,source,source_url,source_date\n"

// Real addresses of mainnet blocks 1–255 (public history; chains/bitcoin tests check them
// against the block bytes).
const (
	Block9Coinbase = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S" // pays 10 BTC in block 170
	Block170Payee  = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3" // receives them
)

// Address returns the i-th generated P2PKH mainnet address.
func Address(i int) string {
	h := sha256.Sum256([]byte("chaintrace labelgen " + strconv.Itoa(i)))
	a, err := btcutil.NewAddressPubKeyHash(h[:20], &chaincfg.MainNetParams)
	if err != nil { // a 20-byte hash is always accepted
		panic(err)
	}
	return a.EncodeAddress()
}

// WriteActorCSV writes the header and n rows: the block-9 coinbase address as an actor, the
// block-170 payee as an exchange, then n-2 generated actor addresses. Rows cycle through a
// few actors, documents and listing dates, as a merged real list would.
func WriteActorCSV(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.WriteString(Header); err != nil {
		return err
	}
	actors := []string{"LAZARUS GROUP", "APT38", "TraderTraitor", "BlueNoroff", "Andariel"}
	for i := 0; i < n; i++ {
		addr, actor, cat, nexus := "", actors[i%len(actors)], "actor", "DPRK"
		switch i {
		case 0:
			addr = Block9Coinbase
		case 1:
			addr, actor, cat, nexus = Block170Payee, "Example Exchange", "exchange", ""
		default:
			addr = Address(i)
		}
		doc := fmt.Sprintf("Generated attribution list part %d", i%7)
		date := fmt.Sprintf("20%02d-%02d-%02d", 18+i%7, 1+i%12, 1+i%28)
		if _, err := fmt.Fprintf(bw, "bitcoin,%s,%s,%s,%s,%s,https://example.org/list/%d,%s\n", addr, actor, cat, nexus, doc, i%7, date); err != nil {
			return err
		}
	}
	return bw.Flush()
}
