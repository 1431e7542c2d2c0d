import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./paths.js";
import { parseToolEnv } from "./tools.js";

const script = join(repoRoot, "hack", "tools", "ensure-tools.sh");

describe("ensure-tools.sh", () => {
  it("says Go is missing and how to fix it, instead of failing obscurely", () => {
    const empty = mkdtempSync(join(tmpdir(), "tools-"));
    const result = spawnSync("/bin/bash", [script], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin", HOME: empty, KUBEPLUS_TOOLS_DIR: empty },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/Go is not installed or not on PATH\. Install Go >= 1\.26/);
    expect(result.stderr).toMatch(/\*_BIN variables/);
  });

  it("reports what is missing in --check mode without building", () => {
    const empty = mkdtempSync(join(tmpdir(), "tools-"));
    const result = spawnSync("/bin/bash", [script, "--check"], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin", HOME: empty, KUBEPLUS_TOOLS_DIR: empty },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/etcd v3\.6\.\d+: missing etcd \(run make tools\)/);
  });

  it("rejects an override that is not an executable", () => {
    const empty = mkdtempSync(join(tmpdir(), "tools-"));
    const result = spawnSync("/bin/bash", [script, "--check"], {
      encoding: "utf8",
      env: {
        PATH: "/usr/bin:/bin",
        HOME: empty,
        KUBEPLUS_TOOLS_DIR: empty,
        ETCD_BIN: "/nonexistent/etcd",
      },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ETCD_BIN=\/nonexistent\/etcd is not an executable file/);
  });
});

describe("parseToolEnv", () => {
  it("maps the script's KEY=path lines to tool paths and fails on a missing one", () => {
    const lines = [
      "ETCD_BIN=/t/etcd",
      "KUBE_APISERVER_BIN=/t/kube-apiserver",
      "KUBE_CONTROLLER_MANAGER_BIN=/t/kcm",
      "KUBE_SCHEDULER_BIN=/t/sched",
      "KUBECTL_BIN=/t/kubectl",
      "KWOK_BIN=/t/kwok",
      "HELM_BIN=/t/helm",
      "NATS_SERVER_BIN=/t/nats-server",
      "REGISTRY_BIN=/t/registry",
      "PROMETHEUS_BIN=/t/prometheus",
      "NODE_OLDEST_BIN=/t/node-oldest/bin/node",
      "NODE_LTS_BIN=/t/node-lts/bin/node",
      "KUBELET_BIN=/t/kubelet",
      "KUBE_PROXY_BIN=/t/kube-proxy",
      "CONTAINERD_BIN=/t/containerd",
      "CONTAINERD_SHIM_RUNC_V2_BIN=/t/containerd-shim-runc-v2",
      "CTR_BIN=/t/ctr",
      "COREDNS_BIN=/t/coredns",
      "KUBE_ROUTER_BIN=/t/kube-router",
    ];
    expect(parseToolEnv(lines.join("\n"))).toMatchObject({
      etcd: "/t/etcd",
      helm: "/t/helm",
      kubectl: "/t/kubectl",
      prometheus: "/t/prometheus",
      nodeOldest: "/t/node-oldest/bin/node",
      nodeLts: "/t/node-lts/bin/node",
      kubelet: "/t/kubelet",
      kubeRouter: "/t/kube-router",
    });
    expect(() => parseToolEnv(lines.slice(1).join("\n"))).toThrow(/did not report ETCD_BIN/);
  });
});
