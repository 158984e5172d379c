package linkfile_test

import (
	"fmt"
	"strings"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/graph/linkfile"
)

// A bridge from Ethereum to Bitcoin, declared in CSV: one part per chain, joined by id.
func ExampleParseCSV() {
	const file = `link_id,kind,side,chain,ref,venue,evidence
B1,bridge,in,eth,0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060.0,0xd37bbe5744d730a1d98d8dc97c42f0ca46ad7146,explorer deposit 7781
B1,,out,btc,4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b:1,,explorer release 7781
`
	parts, err := linkfile.ParseCSV(strings.NewReader(file), "bridge.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range parts {
		fmt.Println(p.Key, p.Kind, p.Chain, p.In, p.Out, p.Venues)
	}
	joined, err := graph.JoinLinks(parts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(joined.Links[0].Evidence)

	// A bad row names the file, the line and the column.
	_, err = linkfile.ParseCSV(strings.NewReader("link_id,side,chain,ref\nB1,sideways,eth,0x1.0\n"), "bad.csv")
	fmt.Println(err)
	// Output:
	// B1 bridge ethereum [ethereum:0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060.0] [] [0xd37bbe5744d730a1d98d8dc97c42f0ca46ad7146]
	// B1 bridge bitcoin [] [bitcoin:4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b:1] []
	// explorer deposit 7781; explorer release 7781 (declared in bridge.csv)
	// bad.csv:2: side: bad side "sideways" (want in or out)
}
