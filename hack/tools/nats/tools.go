//go:build tools

// Package tools pins nats for the local control plane.
package tools

import (
	_ "github.com/nats-io/nats-server/v2"
)
