// The local control plane itself, as a user sees it through kubectl and helm.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { TestCluster } from "@kubeplus/testing";

const cluster = new TestCluster();

describe("local control plane", () => {
  it("reports the pinned Kubernetes version (Helm checks it) and the admission plugins we rely on", async () => {
    const version = await cluster.kubectl(["version", "-o", "json"]);
    expect(version.code).toBe(0);
    const parsed = JSON.parse(version.stdout) as {
      serverVersion: { gitVersion: string; minor: string };
    };
    expect(parsed.serverVersion.gitVersion).toMatch(/^v1\.35\.\d+$/);
    expect(parsed.serverVersion.minor).toBe("35");
  });

  it("shows Ready kwok nodes with distinct labels in kubectl get nodes", async () => {
    const out = await cluster.kubectl([
      "get",
      "nodes",
      // The real nodes (kubeplus.dev/real-node) have their own test (isolation, metering, storage).
      "-l",
      "!kubeplus.dev/real-node",
      "-L",
      "topology.kubernetes.io/zone,kubeplus.dev/pool",
    ]);
    expect(out.code).toBe(0);
    expect(out.stderr).toBe("");
    const rows = out.stdout.trim().split("\n").slice(1);
    expect(rows).toHaveLength(3);
    for (const [i, row] of rows.entries()) {
      expect(row).toMatch(
        new RegExp(`^kwok-node-${i}\\s+Ready\\s+.*zone-${"abc"[i]}\\s+pool-${i}$`),
      );
    }
  });

  it("has a default StorageClass whose volumes are deleted with their claims", async () => {
    const out = await cluster.kubectl([
      "get",
      "storageclass",
      "standard",
      "-o",
      "jsonpath={.reclaimPolicy} {.metadata.annotations.storageclass\\.kubernetes\\.io/is-default-class}",
    ]);
    expect(out.stdout).toBe("Delete true");
  });

  it("gives helm a working cluster: a release of a real chart installs and lists", async () => {
    const namespace = await cluster.freshNamespace("helm");
    const chart = await mkdtemp(join(tmpdir(), "chart-"));
    await mkdir(join(chart, "templates"));
    await writeFile(
      join(chart, "Chart.yaml"),
      "apiVersion: v2\nname: probe\nversion: 0.1.0\nkubeVersion: '>=1.30.0-0'\n",
    );
    await writeFile(
      join(chart, "templates", "cm.yaml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n",
    );
    const helm = (args: string[]) =>
      promisify(execFile)(cluster.state.tools.helm, [
        ...args,
        "--kubeconfig",
        cluster.state.kubeconfig,
      ]);
    await helm(["install", "probe", chart, "-n", namespace, "--wait", "--timeout", "60s"]);
    const cm = await cluster.core.readNamespacedConfigMap({ name: "probe-cfg", namespace });
    expect(cm.data?.kube).toMatch(/^v1\.35\.\d+$/);
    const { stdout } = await helm(["list", "-n", namespace, "-o", "json"]);
    expect(JSON.parse(stdout)).toMatchObject([{ name: "probe", status: "deployed" }]);
  });
});
