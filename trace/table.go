package trace

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/chaintrace/chaintrace/graph"
)

// WriteTable writes the result as plain-text tables for a terminal or a notebook: the
// exposure per exchange, the sinks, and the tainted holdings (largest first).
func (r *Result) WriteTable(w io.Writer) error {
	var b strings.Builder
	r.writeTables(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Result) writeTables(b *strings.Builder) {
	fmt.Fprintf(b, "method %s (%s model)\n", r.Method, r.Model)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(r.Exposure) > 0 {
		// One row per exchange and asset: amounts of two assets are never added (v2 A.1).
		fmt.Fprintln(b, "\nexposure per exchange and asset (base units)")
		fmt.Fprintln(tw, "exchange\tasset\treceived\ttainted\tdirect\tindirect\tshare\tdeposits\t")
		for _, k := range sortedKeys(r.Exposure) {
			x := r.Exposure[k]
			if len(x.Assets) == 0 {
				fmt.Fprintf(tw, "%s\t-\t0\t0\t0\t0\t0\t0\t\n", k)
				continue
			}
			for _, a := range x.SortedAssets() {
				ax := x.Assets[a]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", k, a, ax.ReceivedTotal.Dec(), ax.TaintedTotal.Dec(), ax.Direct.Dec(), ax.Indirect.Dec(), ax.Share(), len(ax.Deposits))
			}
		}
		tw.Flush()
	}
	if len(r.Sinks) > 0 {
		fmt.Fprintln(b, "\nsinks (base units)")
		fmt.Fprintln(tw, "asset\tsink\tsource\tamount\t")
		for _, a := range sortedAssets(r.Sinks) {
			for _, k := range sortedKeys(r.Sinks[a]) {
				for _, s := range sortedKeys(r.Sinks[a][k]) {
					v := r.Sinks[a][k][s]
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", a, k, s, v.Dec())
				}
			}
		}
		tw.Flush()
	}
	type row struct{ key, bal, taint string }
	var rows []row
	for k, o := range r.Unspent {
		rows = append(rows, row{k + " " + string(o.Address), o.Value.Dec(), o.Tainted.Dec()})
	}
	for k, h := range r.Holdings {
		rows = append(rows, row{k, h.Balance.Dec(), h.Tainted.Dec()})
	}
	if len(rows) > 0 {
		sort.Slice(rows, func(i, j int) bool {
			if len(rows[i].taint) != len(rows[j].taint) {
				return len(rows[i].taint) > len(rows[j].taint)
			}
			if rows[i].taint != rows[j].taint {
				return rows[i].taint > rows[j].taint
			}
			return rows[i].key < rows[j].key
		})
		fmt.Fprintln(b, "\ntainted holdings")
		fmt.Fprintln(tw, "holding\tbalance\ttainted\t")
		for i, rw := range rows {
			if i == 20 {
				fmt.Fprintf(tw, "… %d more\t\t\t\n", len(rows)-20)
				break
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", rw.key, rw.bal, rw.taint)
		}
		tw.Flush()
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sortedAssets[V any](m map[graph.Asset]V) []graph.Asset {
	ks := make([]graph.Asset, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}
