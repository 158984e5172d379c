package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// With a node that does not answer (a closed loopback port for each chain), the built
// service listens at once, says on stderr what it is waiting for, and /healthz answers 503
// with each chain "syncing", the node it waits for and the last error, while it retries.
// It used to dial the nodes before listening: silent and unreachable for ~22 s.
func TestSilentNodeHealthzSyncing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "chaintrace-screen")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	closed := func() string { // a loopback port nothing listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	btc, eth := closed(), closed()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a hang guard
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0", "-store", filepath.Join(work, "store"), "-poll", "500ms",
		"-btc-rpc", btc, "-btc-user", "u", "-btc-pass", "p", "-btc-net", "regtest", "-eth-rpc", "http://"+eth)
	cmd.Dir = work
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	// stderr: the address it listens on, then what it waits for (collected as it comes).
	var mu sync.Mutex
	var logs strings.Builder
	addrc := make(chan string, 1)
	go func() {
		addrRe := regexp.MustCompile(`msg=listening addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-ctx.Done():
		t.Fatal("the service never said where it listens")
	}

	type health struct {
		OK     bool `json:"ok"`
		Chains map[string]struct {
			Ready      bool   `json:"ready"`
			Status     string `json:"status"`
			WaitingFor string `json:"waiting_for"`
			LastError  string `json:"last_error"`
		} `json:"chains"`
	}
	// The first answer comes at once: syncing, waiting for each node.
	get := func() (int, health, string) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var h health
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatalf("healthz: %v: %s", err, b)
		}
		return resp.StatusCode, h, string(b)
	}
	code, h, raw := get()
	if code != http.StatusServiceUnavailable || h.OK {
		t.Fatalf("healthz while no node answers: %d %s, want 503", code, raw)
	}
	for chain, node := range map[string]string{"bitcoin": btc, "ethereum": eth} {
		c := h.Chains[chain]
		if c.Ready || c.Status != "syncing" || !strings.Contains(c.WaitingFor, node) {
			t.Errorf("%s: %+v, want syncing and waiting for the node at %s", chain, c, node)
		}
	}
	// While it retries, each chain's last error shows, in one line, and stderr says what it
	// waits for.
	for {
		code, h, raw = get()
		if code != http.StatusServiceUnavailable {
			t.Fatalf("healthz: %d %s, want 503 while no node answers", code, raw)
		}
		if h.Chains["bitcoin"].LastError != "" && h.Chains["ethereum"].LastError != "" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no last error while retrying: %s", raw)
		case <-time.After(200 * time.Millisecond):
		}
	}
	for chain, c := range h.Chains {
		if c.Status != "syncing" || strings.Contains(c.LastError, "\n") {
			t.Errorf("%s: %+v", chain, c)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"waiting for the Bitcoin node at " + btc, "waiting for the Ethereum node at http://" + eth} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, logs.String())
		}
	}
}
