//go:build tools

// Package tools pins the OCI registry (CNCF distribution) that the oci:// chart tests push charts to and pull from.
package tools

import _ "github.com/distribution/distribution/v3/cmd/registry"
