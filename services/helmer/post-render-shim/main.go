// Command kubeplus-post-render is the post-renderer helm runs for the helmer (as the kubeplus-pod-policy plugin).
//
// It hands the manifests helm rendered to the helmer that started helm, over a private unix socket, and gives helm
// the helmer's answer. The helmer checks tenant isolation and applies the pod policy in its own process, so a
// release costs one helm run: no separate `helm template`, and no Node start per release (a Node post-renderer cost
// more CPU than helm itself). This program only forwards; it has no logic of its own.
//
// Usage (helm runs it): kubeplus-post-render <helmer socket> <request token>
//
// Protocol, one request per connection: the token, a newline, the manifests, then end of input. The helmer answers
// "ok\n" and the manifests to apply, or "refused\n" and why; the connection then closes.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, in io.Reader, out, errOut io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(errOut, "usage: kubeplus-post-render <helmer socket> <request token> (helm runs this for the helmer)")
		return 2
	}
	reply, err := forward(args[0], args[1], in)
	if err != nil {
		fmt.Fprintf(errOut, "kubeplus post-render: %v\n", err)
		return 1
	}
	status, body, _ := bytes.Cut(reply, []byte("\n"))
	if string(status) != "ok" {
		fmt.Fprintf(errOut, "kubeplus post-render: the helmer refused the manifests: %s\n", bytes.TrimSpace(body))
		return 1
	}
	if _, err := out.Write(body); err != nil {
		fmt.Fprintf(errOut, "kubeplus post-render: writing the manifests for helm: %v\n", err)
		return 1
	}
	return 0
}

func forward(socket, token string, in io.Reader) ([]byte, error) {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("cannot reach the helmer at %s (is it the helmer that runs this helm?): %w", socket, err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, token+"\n"); err != nil {
		return nil, fmt.Errorf("sending to the helmer: %w", err)
	}
	if _, err := io.Copy(conn, in); err != nil {
		return nil, fmt.Errorf("sending the manifests to the helmer: %w", err)
	}
	if err := conn.CloseWrite(); err != nil {
		return nil, fmt.Errorf("sending to the helmer: %w", err)
	}
	reply, err := io.ReadAll(conn)
	if err != nil {
		return nil, fmt.Errorf("reading the helmer's answer: %w", err)
	}
	return reply, nil
}
