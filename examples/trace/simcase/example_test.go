package simcase_test

import (
	"context"
	"fmt"

	"github.com/chaintrace/chaintrace/examples/trace/simcase"
)

// Play the case and look at what it made: the same addresses on every run, the labels of
// its invented attributions, and the figures computed by hand.
func ExamplePlay() {
	c, err := simcase.Play(context.Background(), simcase.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Println("blocks:", c.Head)
	fmt.Println("exploiter:", c.Roles["exploiter"])
	fmt.Println("mixer pool:", c.Roles["pool"])
	fmt.Println("labels:", len(c.Labels))
	for _, e := range c.Expect {
		if e.Method == "fifo" {
			fmt.Println(e.Exchange, "received", e.Received.Dec(), "fifo tainted", e.Tainted.Dec()) // in the asset's base units (wei, satoshi)
		}
	}
	// Output:
	// blocks: 9
	// exploiter: 0xaee59552ea7279966999a0e12755ad224aae98a2
	// mixer pool: 0xb52095701e7e7fb4895a6d24053cbea118be732d
	// labels: 32
	// SimEx A (simulated) received 44850000000000000000 fifo tainted 4950000000000000000
	// SimEx B (simulated) received 75000000000000000000 fifo tainted 30000000000000000000
	// SimEx C (simulated) received 27000000000000000000 fifo tainted 2000000000000000000
	// SimEx D (simulated) received 629970000 fifo tainted 329970000
	// SimEx B (simulated) received 350000000 fifo tainted 150000000
}
