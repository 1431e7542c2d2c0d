//go:build tools

// Package tools pins helm for the local control plane.
package tools

import (
	_ "helm.sh/helm/v4/cmd/helm"
)
