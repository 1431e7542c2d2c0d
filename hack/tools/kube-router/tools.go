//go:build tools

// Package tools pins kube-router, the NetworkPolicy enforcer of the local control plane's real nodes (firewall only).
package tools

import (
	_ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
)
