package scenario_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/scenario"
)

// Anderson, Shumailov and Ahmed's worked example (conformance vector U01): 3 stolen and 7
// freshly mined BTC are spent together into one 10 BTC output, which tx2 splits into 3 +
// 7. The methods disagree about which of P and Q holds the stolen coins.
func Example() {
	sc, err := scenario.Load("../../testdata/vectors/U01_anderson_3stolen_7clean.json")
	if err != nil {
		log.Fatal(err)
	}
	for _, method := range []string{trace.Poison, trace.Haircut, trace.FIFO, trace.LIFO} {
		res, err := sc.Run(method)
		if err != nil {
			log.Fatal(err)
		}
		diffs, err := sc.Check(method, res) // against the vector's expected result
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-8s P (tx2:0) %10s  Q (tx2:1) %10s  differences from the vector: %d\n",
			method, tainted(res, "tx2:0"), tainted(res, "tx2:1"), len(diffs))
	}
	// Output:
	// poison   P (tx2:0)  300000000  Q (tx2:1)  700000000  differences from the vector: 0
	// haircut  P (tx2:0)   90000000  Q (tx2:1)  210000000  differences from the vector: 0
	// fifo     P (tx2:0)  300000000  Q (tx2:1)          0  differences from the vector: 0
	// lifo     P (tx2:0)          0  Q (tx2:1)  300000000  differences from the vector: 0
}

// tainted is the taint an output of res carries, in satoshi ("0" if none).
func tainted(res *trace.Result, outpoint string) string {
	if o := res.Outputs[outpoint]; o != nil {
		return o.Tainted.String()
	}
	return "0"
}

// A scenario written inline: Parse validates it as Load does a file, and names the
// offending entry when it is wrong — here an input that spends an output nobody created.
func ExampleParse() {
	_, err := scenario.Parse("inline.json", []byte(`{"model": "utxo", "scenario": {
	  "funding": [{"outpoint": "a:0", "address": "A", "value": "100"}],
	  "transactions": [{"txid": "t1", "block": 1, "index": 0,
	    "inputs": ["b:0"], "outputs": [{"address": "B", "value": "90"}]}],
	  "seeds": [{"address": "A", "source": "theft"}]
	}}`))
	fmt.Println(err)
	fmt.Println(errors.Is(err, trace.ErrUnknownOutpoint))
	// Output:
	// inline.json: input spends an unknown outpoint: transactions[0] (txid t1) input 0: b:0 is neither funded nor created by an earlier transaction
	// true
}
