package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaintrace/chaintrace/graph"
	"github.com/chaintrace/chaintrace/trace"
	"github.com/chaintrace/chaintrace/trace/screen"
)

var caseArgs = []string{
	"-policy", "../../trace/screen/default-policy.yaml",
	"-case", "bundled/peel-case.json",
	"-case-labels", "bundled/case-labels.csv",
}

func caseHandler(t testing.TB, cfg serverConfig) http.Handler {
	t.Helper()
	pol, err := screen.LoadPolicy("../../trace/screen/default-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := bundledCase(context.Background(), options{caseFile: "bundled/peel-case.json", caseLabels: "bundled/case-labels.csv", method: trace.Haircut}, pol)
	if err != nil {
		t.Fatal(err)
	}
	return newHandler(sc, cfg)
}

func TestEndpoints(t *testing.T) {
	h := caseHandler(t, serverConfig{})
	cases := []struct {
		path string
		code int
		want []string
	}{
		{"/v1/address/bitcoin/bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0", 200, []string{`"risk":"high"`, `"score":80`, `"share":"19444321/25000000"`, `"kind":"seed"`}},
		{"/v1/address/btc/BC1QXGTWLSU06DSMD3PYXK33ND57Y0F53VYLNMU2J0", 200, []string{`"risk":"high"`}},
		{"/v1/address/bitcoin/bc1qwzzk5mtvywu0u5y8c0ag6t4swa44x0r5m2tzuh?as_of=2022-12-31", 200, []string{`"risk":"none"`, `"as_of":"2022-12-31"`, `"source_active":false`}},
		{"/v1/deposit/bitcoin/p2:0", 200, []string{`"kind":"deposit"`, `"exchange":"ExchA"`, `"risk":"high"`}},
		{"/v1/address/bitcoin/bc1qmusnwfz9rljjwx90r4r9ag8amqknrt6xvtlnju", 200, []string{`"risk":"none"`, `"known":false`}},
		{"/v1/address/bitcoin/nonsense", 400, []string{`"error":"bad screening query`}},
		{"/v1/address/bitcoin/bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0?as_of=yesterday", 400, []string{"as_of"}},
		{"/v1/deposit/bitcoin/p2", 400, []string{"want txid:vout"}},
		{"/v1/address/ethereum/0x0000000000000000000000000000000000000001", 404, []string{"does not screen ethereum"}},
		{"/v1/address/dogecoin/D1", 404, []string{"unknown chain"}},
		{"/healthz", 200, []string{`"ok":true`, `"height":105`}},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
		body := rec.Body.String()
		if rec.Code != c.code || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q, want %d json: %s", c.path, rec.Code, rec.Header().Get("Content-Type"), c.code, body)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: body lacks %s: %s", c.path, w, body)
			}
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Errorf("%s: invalid JSON", c.path)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/deposit/bitcoin/p2:0", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

// One slot: while a request holds it, the next is shed with 503 at once. A client that does
// not finish sending its request within the timeout is disconnected by the server.
func TestSaturationAndTimeout(t *testing.T) {
	sem := make(chan struct{}, 1)
	release := make(chan struct{})
	entered := make(chan struct{})
	blocking := boundedHandler(sem, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "{}")
	}))
	done := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		blocking.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
		done <- rec.Code
	}()
	<-entered
	rec := httptest.NewRecorder()
	blocking.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("saturated: %d %v", rec.Code, rec.Header())
	}
	close(release)
	if code := <-done; code != 200 {
		t.Errorf("first request: %d", code)
	}

	srv := httptest.NewUnstartedServer(caseHandler(t, serverConfig{}))
	srv.Config = newServer(srv.Config.Handler, serverConfig{Timeout: 200 * time.Millisecond})
	srv.Start()
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // and never the end of the headers
	// The event: the server closes the connection (its 200 ms timeout). The read deadline
	// only catches a server that never does, however slow the machine.
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	b, err := io.ReadAll(conn)
	if err != nil || strings.Contains(string(b), "200 OK") {
		t.Errorf("the server did not drop the stalled client (read: %v), got %q", err, b)
	}
}

// The real server on loopback: it answers, and cancelling its context shuts it down
// gracefully (run returns 0).
func TestRunAndGracefulShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	exit := make(chan int, 1)
	var logs strings.Builder
	go func() {
		exit <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, caseArgs...), &syncWriter{w: &logs}, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-exit:
		t.Fatalf("run exited %d: %s", code, logs.String())
	}
	resp, err := http.Get("http://" + addr + "/v1/deposit/bitcoin/p4:0")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"tainted":"77777284"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(2 * time.Minute): // a hang guard, not a time limit
		t.Fatal("no shutdown")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

func TestBadFlags(t *testing.T) {
	var out strings.Builder
	if code := run(context.Background(), []string{"-policy", "nonexistent.yaml"}, &out, nil); code != 1 || !strings.Contains(out.String(), "nonexistent.yaml") {
		t.Errorf("missing policy: %d %s", code, out.String())
	}
	if code := run(context.Background(), []string{"-eth-rpc", "http://127.0.0.1:1", "-policy", "../../trace/screen/default-policy.yaml"}, &out, nil); code != 1 || !strings.Contains(out.String(), "-store") {
		t.Errorf("node mode without store: %d %s", code, out.String())
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// ---- load test ----

type histogram struct{ b [64 * 8]uint64 }

func (h *histogram) add(ns uint64) {
	i := int(ns)
	if ns >= 8 {
		n := bits.Len64(ns)
		i = (n-3)*8 + int(ns>>(n-4)&7)
	}
	h.b[min(i, len(h.b)-1)]++
}

func (h *histogram) quantile(q float64) uint64 {
	var total, acc uint64
	for _, c := range h.b {
		total += c
	}
	for i, c := range h.b {
		if acc += c; acc > uint64(q*float64(total)) {
			if i < 8 {
				return uint64(i)
			}
			n := i/8 + 3
			return (uint64(8+i%8+1) << (n - 4)) - 1
		}
	}
	return 0
}

// BenchmarkLoadLoopback is a bounded load test of the real server on loopback: b.N
// requests from 64 concurrent keep-alive clients (the generator stops by itself when the
// requests are done), over the bundled case's addresses and deposits. It reports requests
// per second, per CPU second of the process (client and server together), and the latency
// distribution. "baseline" serves one verdict's bytes from a bare net/http server to the same
// client in the same process: the cost of the HTTP stack and the load generator alone. Run:
//
//	go test ./examples/screen -run '^$' -bench LoadLoopback -benchtime 100000x -count 5 -cpu 2
func BenchmarkLoadLoopback(b *testing.B) {
	paths := []string{
		"/v1/address/bitcoin/bc1qxgtwlsu06dsmd3pyxk33nd57y0f53vylnmu2j0",
		"/v1/address/bitcoin/bc1qwzzk5mtvywu0u5y8c0ag6t4swa44x0r5m2tzuh",
		"/v1/address/bitcoin/bc1qcvkf5thjeqw9yvhchxytgw7ewfwev7yuv2j0au",
		"/v1/address/bitcoin/bc1qu7p95j983lp747skrff8l0jwsqz0s3yfl7rtuy",
		"/v1/address/bitcoin/12283Cq1pJ3f1gXwqi6K3bRf5LZb8Bkm6g",
		"/v1/deposit/bitcoin/p2:0",
		"/v1/deposit/bitcoin/p4:0",
	}
	b.Run("baseline", func(b *testing.B) {
		rec := httptest.NewRecorder()
		caseHandler(b, serverConfig{}).ServeHTTP(rec, httptest.NewRequest("GET", paths[0], nil))
		body := rec.Body.Bytes()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = jsonContentType
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		loadTest(b, srv.Listener.Addr().String(), paths)
	})
	b.Run("screen", func(b *testing.B) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ready := make(chan string, 1)
		exit := make(chan int, 1)
		go func() {
			exit <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-max-inflight", "4096"}, caseArgs...), io.Discard, ready)
		}()
		loadTest(b, <-ready, paths)
		cancel()
		<-exit
	})
}

func loadTest(b *testing.B, addr string, paths []string) {
	const workers = 64
	tr := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	urls := make([]string, len(paths))
	for i, p := range paths {
		urls[i] = "http://" + addr + p
	}
	var next atomic.Int64
	var mu sync.Mutex
	var all histogram
	var failed atomic.Int64
	var firstErr atomic.Value
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var h histogram
			buf := make([]byte, 32<<10)
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					break
				}
				t0 := time.Now()
				resp, err := client.Get(urls[i%int64(len(urls))])
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				for {
					if _, err := resp.Body.Read(buf); err != nil {
						break
					}
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprint("status ", resp.StatusCode))
				}
				h.add(uint64(time.Since(t0)))
			}
			mu.Lock()
			for i := range all.b {
				all.b[i] += h.b[i]
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed (first: %v)", n, b.N, firstErr.Load())
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "req/cpu-s")
	b.ReportMetric(float64(all.quantile(0.5))/1e3, "p50-µs")
	b.ReportMetric(float64(all.quantile(0.99))/1e3, "p99-µs")
}

func TestParseAssets(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []graph.Asset
		bad  bool
	}{
		{in: "", want: nil},
		{in: "eth, 0xdAC17F958D2ee523a2206206994597C13D831ec7", want: []graph.Asset{graph.ETH, "0xdac17f958d2ee523a2206206994597c13d831ec7"}},
		{in: "ETH,,0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", want: []graph.Asset{graph.ETH, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"}},
		{in: "USDT", bad: true},
		{in: "0xdAC17F958D2ee523a2206206994597C13D831ec8", bad: true}, // EIP-55 checksum typo
	} {
		got, err := parseAssets(c.in)
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "-eth-assets") {
				t.Errorf("parseAssets(%q) = %v, %v; want an error naming the flag", c.in, got, err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("parseAssets(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}
