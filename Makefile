# KubePlus in TypeScript. `make` (or `make help`) lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

LOAD_CPUS ?= 2
TOOLS_DIR ?= $(or $(KUBEPLUS_TOOLS_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kubeplus/tools)
export KUBEPLUS_TOOLS_DIR := $(TOOLS_DIR)
PNPM_VERSION := $(shell sed -n 's/.*"packageManager": "pnpm@\([^"]*\)".*/\1/p' package.json)
# pnpm from PATH when it is the pinned version, otherwise a private copy under the tools cache.
PNPM := $(shell command -v pnpm >/dev/null 2>&1 && [ "$$(pnpm --version 2>/dev/null)" = "$(PNPM_VERSION)" ] \
	&& echo pnpm || echo $(TOOLS_DIR)/pnpm-$(PNPM_VERSION)/node_modules/.bin/pnpm)
DEV := node hack/dev/dist/cli.js

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} \
		/^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } \
		/^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

$(TOOLS_DIR)/pnpm-$(PNPM_VERSION)/node_modules/.bin/pnpm:
	@echo "[make] pnpm $(PNPM_VERSION) not found on PATH; installing a private copy under $(TOOLS_DIR)"
	@mkdir -p $(TOOLS_DIR)/pnpm-$(PNPM_VERSION)
	@npm install --silent --no-audit --no-fund --prefix $(TOOLS_DIR)/pnpm-$(PNPM_VERSION) pnpm@$(PNPM_VERSION)

.PHONY: pnpm
pnpm: $(if $(filter pnpm,$(PNPM)),,$(PNPM)) ## Install the pinned pnpm if it is missing.

node_modules/.modules.yaml: pnpm-lock.yaml package.json pnpm-workspace.yaml $(wildcard */*/package.json) e2e/package.json
	@$(MAKE) pnpm
	$(PNPM) install --frozen-lockfile
	@touch $@

.PHONY: install
install: pnpm node_modules/.modules.yaml ## Install the workspace's dependencies (pnpm, frozen lockfile).

.PHONY: tools
tools: ## Build the pinned binaries (Kubernetes, etcd, kwok, helm, nats-server, the real nodes' containerd, CoreDNS, kube-router) and install the Debian packages the real nodes and the browser tests need.
	hack/tools/ensure-node-packages.sh
	hack/tools/ensure-tools.sh

# The helmer's post-render forwarder (services/helmer/post-render-shim): a few lines of Go, standard library only.
POST_RENDER_BIN := services/helmer/bin/kubeplus-post-render
$(POST_RENDER_BIN): $(wildcard services/helmer/post-render-shim/*.go) services/helmer/post-render-shim/go.mod
	@command -v go >/dev/null 2>&1 || { echo "[make] Go is needed to build $@ (Go >= 1.26; see hack/tools)"; exit 1; }
	cd services/helmer/post-render-shim && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags="-s -w" -o ../bin/kubeplus-post-render .

.PHONY: build
build: install $(POST_RENDER_BIN) ## Compile every package (tsc -b, project references), the helmer's post-render forwarder and the console's page.
	$(PNPM) exec tsc -b
	$(PNPM) -r --if-present run build:web

.PHONY: typecheck
typecheck: build ## Type-check the workspace (tsc -b, plus the lint-rule tests).
	$(PNPM) exec tsc -p hack/lint

.PHONY: lint
lint: install ## ESLint (type-aware) and Prettier check.
	$(PNPM) exec eslint --max-warnings 0 .
	$(PNPM) exec prettier --check . --log-level warn

.PHONY: fmt
fmt: install ## Format everything with Prettier.
	$(PNPM) exec prettier --write . --log-level warn

.PHONY: generate
generate: build ## Regenerate code from its sources of truth (schemas).
	PNPM=$(PNPM) hack/generate.sh

.PHONY: verify-generated
verify-generated: build ## Fail when generated files differ from what `make generate` writes.
	PNPM=$(PNPM) hack/verify-generated.sh

.PHONY: plugins
plugins: build ## Put the kubectl plugins into bin/plugins (add it to PATH; `kubectl plugin list` shows them).
	node cli/dist/install-plugins/main.js bin/plugins

##@ Local control plane

.PHONY: up
up: tools build plugins ## The local control plane with real nodes, KubePlus installed by its chart (as the provider) with the images built here: its services run as pods.
	$(DEV) up
	$(DEV) stack up

.PHONY: down
down: ## Stop everything `make up` started (the control plane and its real nodes, with KubePlus's pods).
	@if [ -f hack/dev/dist/cli.js ]; then $(DEV) down; else echo "[make] nothing to stop (dev CLI not built)"; fi

.PHONY: logs
logs: ## Follow one service's pods' logs (kubectl logs -f): make logs SERVICE=helmer [INSTANCE=<name>] (crd-hook, kubeconfig-generator, metrics-collector, console).
	@test -n "$(SERVICE)" || { echo "usage: make logs SERVICE=<crd-hook|helmer|kubeconfig-generator|metrics-collector|console> [INSTANCE=<name>]"; exit 2; }
	@$(DEV) logs $(SERVICE) $(if $(INSTANCE),--instance $(INSTANCE))

.PHONY: demo
demo: up ## The walkthrough, end to end, as a user would type it (starts `make up` first; `make down` stops it).
	$(DEV) demo

.PHONY: cluster-up
cluster-up: tools build ## Start etcd, kube-apiserver, controllers, scheduler, kwok nodes and nats-server locally.
	$(DEV) up

.PHONY: cluster-down
cluster-down: ## Stop every process cluster-up started.
	@if [ -f hack/dev/dist/cli.js ]; then $(DEV) down; else echo "[make] nothing to stop (dev CLI not built)"; fi

.PHONY: cluster-status
cluster-status: ## Show the local control plane's components and endpoints.
	$(DEV) status

.PHONY: images
images: tools build ## Build the real nodes' OCI images and the four KubePlus service images (hack/images) into the tools cache; skips what is up to date.
	$(DEV) images build
	$(DEV) images build --services

##@ Test

.PHONY: test
test: ## Everything CI runs: generated files, lint, typecheck, unit, integration and e2e tests.
	@start=$$SECONDS; \
	$(MAKE) verify-generated lint typecheck test-unit; \
	$(MAKE) test-int; \
	echo "[make] make test passed in $$((SECONDS - start))s"

.PHONY: test-unit
test-unit: build ## Unit tests (no cluster).
	$(PNPM) exec vitest run --project unit

.PHONY: test-loaded
test-loaded: ## make test while stress-ng keeps LOAD_CPUS cores busy beside it (default 2: all of a 2-core machine).
	@KUBEPLUS_EXTRA_PACKAGES=stress-ng hack/tools/ensure-node-packages.sh
	@stress-ng --cpu $(LOAD_CPUS) --quiet & load=$$!; \
	echo "[make] stress-ng --cpu $(LOAD_CPUS) running beside make test (pid $$load)"; \
	status=0; $(MAKE) test || status=$$?; \
	kill $$load; wait $$load 2>/dev/null; \
	echo "[make] stress-ng stopped; make test exited $$status"; exit $$status

.PHONY: test-int
test-int: tools build ## Integration and e2e tests; starts the local control plane and always stops it.
	@status=0; $(DEV) up || status=$$?; \
	if [ $$status -eq 0 ]; then $(PNPM) exec vitest run --project int --project images --project e2e || status=$$?; fi; \
	$(DEV) down || true; exit $$status

.PHONY: images-test
images-test: build ## The images (nodes' and services'): two builds give equal digests; each runs in a containerd of its own (as root).
	$(PNPM) exec vitest run --project images

.PHONY: test-e2e
test-e2e: tools build ## Only the e2e journeys (reuses a running control plane, or starts one).
	$(PNPM) exec vitest run --project e2e

##@ Benchmarks

.PHONY: bench
bench: tools build ## Run every benchmark under bench/ on the local control plane; writes reports/bench-*.md and .json.
	@status=0; $(DEV) up --max-pods 500 || status=$$?; \
	if [ $$status -eq 0 ]; then node bench/dist/run.js $(BENCH) || status=$$?; fi; \
	$(DEV) down || true; exit $$status

##@ Cleanup

.PHONY: clean
clean: cluster-down ## Remove build output and the local run folder (keeps the tools cache).
	rm -rf .run coverage reports bin services/helmer/bin
	find . -name dist -type d -prune -not -path './node_modules/*' -exec rm -rf {} +
	find . -name '*.tsbuildinfo' -not -path './node_modules/*' -delete
