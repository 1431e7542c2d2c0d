// Command tenant-echo is the tenant application of the real-node tests: GET / answers with the tenant's name (so
// a test knows whose pod answered), GET /metrics exposes a request counter in the Prometheus text format (the
// app-metrics tests scrape it), GET /bytes?n=N sends N bytes (a known transfer for the network metering tests)
// and GET /healthz answers ok. Every request to / and /bytes is logged on stdout (the logs tests read it).
//
// Environment:
//
//	TENANT  the name GET / answers with (default "unknown")
//	PORT    the TCP port (default 8080)
//	BIND    the address to listen on (default 0.0.0.0, every address of the pod; tests on the host use 127.0.0.1)
//
// Standard library only; built with CGO_ENABLED=0.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// version is set by the image build from hack/images/tenant-echo/VERSION (-ldflags -X main.version=...).
var version = "dev"

// maxBytes bounds GET /bytes (1 GiB).
const maxBytes = 1 << 30

type counter struct {
	mu     sync.Mutex
	counts map[string]uint64
}

func (c *counter) inc(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[key]++
}

// exposition writes the counters in the Prometheus text format, one line per path and status code, sorted.
func (c *counter) exposition(w io.Writer, tenant string) {
	c.mu.Lock()
	keys := make([]string, 0, len(c.counts))
	for k := range c.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		path, code, _ := strings.Cut(k, " ")
		lines = append(lines, fmt.Sprintf("tenant_echo_requests_total{tenant=%q,path=%q,code=%q} %d\n",
			tenant, path, code, c.counts[k]))
	}
	c.mu.Unlock()
	fmt.Fprint(w, "# HELP tenant_echo_requests_total HTTP requests served, by path and status code.\n")
	fmt.Fprint(w, "# TYPE tenant_echo_requests_total counter\n")
	for _, l := range lines {
		fmt.Fprint(w, l)
	}
	fmt.Fprint(w, "# HELP tenant_echo_info The tenant this pod serves and the image version.\n")
	fmt.Fprint(w, "# TYPE tenant_echo_info gauge\n")
	fmt.Fprintf(w, "tenant_echo_info{tenant=%q,version=%q} 1\n", tenant, version)
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func newHandler(tenant string, requests *counter) http.Handler {
	mux := http.NewServeMux()
	count := func(path string, code int) { requests.inc(path + " " + strconv.Itoa(code)) }
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("request path=/ from=%s tenant=%s\n", r.RemoteAddr, tenant)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Tenant", tenant)
		fmt.Fprintln(w, tenant)
		count("/", http.StatusOK)
	})
	mux.HandleFunc("GET /bytes", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 || n > maxBytes {
			http.Error(w, fmt.Sprintf("n must be a whole number of bytes from 0 to %d", maxBytes), http.StatusBadRequest)
			count("/bytes", http.StatusBadRequest)
			return
		}
		fmt.Printf("request path=/bytes n=%d from=%s tenant=%s\n", n, r.RemoteAddr, tenant)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(n))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for n > 0 {
			m := min(n, len(chunk))
			if _, err := w.Write(chunk[:m]); err != nil {
				return
			}
			n -= m
		}
		count("/bytes", http.StatusOK)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		count("/metrics", http.StatusOK)
		requests.exposition(w, tenant)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	return mux
}

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "--version") {
		fmt.Printf("tenant-echo %s (kubeplus)\n", version)
		return
	}
	tenant := env("TENANT", "unknown")
	addr := net.JoinHostPort(env("BIND", "0.0.0.0"), env("PORT", "8080"))
	requests := &counter{counts: map[string]uint64{}}
	server := &http.Server{Addr: addr, Handler: newHandler(tenant, requests), ReadHeaderTimeout: 10 * time.Second}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tenant-echo: cannot listen on %s: %v (set PORT and BIND)\n", addr, err)
		os.Exit(1)
	}
	fmt.Printf("tenant-echo %s listening on %s tenant=%s\n", version, listener.Addr(), tenant)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "tenant-echo: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("tenant-echo stopped")
}
