//go:build tools

// Package tools pins CoreDNS, the cluster DNS of the local control plane's real nodes.
package tools

import (
	_ "github.com/coredns/coredns"
)
