// Command hello-web stands in for the example charts' web images, which cannot be pulled here:
// gcr.io/cloudark-kubeplus/hello-world:latest (the hello-world chart, port 5000, a GREETING variable),
// eminalparslan/basic-web-app:0.3.0 (the basicwebapp chart, port 5000) and nginxinc/nginx-unprivileged:1.27 (this
// repository's examples/charts, port 8080, pages mounted at /usr/share/nginx/html). The image build gives each its
// own defaults in the image configuration; the program is the same.
//
// Environment:
//
//	PORT      the TCP port (default 5000)
//	BIND      the address to listen on (default 0.0.0.0; tests on the host use 127.0.0.1)
//	HTML_DIR  a folder of pages to serve (index.html at /); when unset or without index.html, GET / answers
//	          "Hello World!" followed by GREETING when it is set
//	GREETING  appended to the answer of GET / when no page is served
//
// Standard library only; built with CGO_ENABLED=0.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// version is set by the image build from hack/images/hello-web/VERSION (-ldflags -X main.version=...).
var version = "dev"

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func newHandler(htmlDir, greeting string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	if htmlDir != "" {
		if _, err := os.Stat(filepath.Join(htmlDir, "index.html")); err == nil {
			mux.Handle("GET /", http.FileServer(http.Dir(htmlDir)))
			return mux
		}
	}
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if greeting == "" {
			fmt.Fprintln(w, "Hello World!")
			return
		}
		fmt.Fprintf(w, "Hello World! %s\n", greeting)
	})
	return mux
}

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "--version") {
		fmt.Printf("hello-web %s (kubeplus)\n", version)
		return
	}
	addr := net.JoinHostPort(env("BIND", "0.0.0.0"), env("PORT", "5000"))
	htmlDir := os.Getenv("HTML_DIR")
	server := &http.Server{
		Addr:              addr,
		Handler:           newHandler(htmlDir, os.Getenv("GREETING")),
		ReadHeaderTimeout: 10 * time.Second,
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hello-web: cannot listen on %s: %v (set PORT and BIND)\n", addr, err)
		os.Exit(1)
	}
	fmt.Printf("hello-web %s listening on %s html_dir=%q\n", version, listener.Addr(), htmlDir)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "hello-web: %v\n", err)
		os.Exit(1)
	}
}
