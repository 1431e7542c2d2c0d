import { describe, expect, it } from "vitest";
import {
  ADMISSION_PLUGINS,
  apiServerSpec,
  etcdSpec,
  kwokSpec,
  type ComponentContext,
} from "./components.js";
import { networkPlan } from "./network-plan.js";
import { nodeManifest, nodeShapes } from "./nodes.js";
import { runLayout } from "./paths.js";
import { pkiPaths } from "./pki.js";

const ctx: ComponentContext = {
  ports: {
    etcd: 1001,
    etcdPeer: 1002,
    apiServer: 1003,
    controllerManager: 1004,
    scheduler: 1005,
    kwok: 1006,
    nats: 1007,
    natsMonitor: 1008,
  },
  pki: pkiPaths("/run/pki"),
  layout: runLayout("/run"),
  kubeconfigs: { controllerManager: "/run/kcm", scheduler: "/run/sched", kwok: "/run/kwok" },
  kwokConfigDir: "/repo/hack/dev/kwok",
  network: networkPlan(0, 0),
};

describe("component arguments", () => {
  it("binds every listener to loopback", () => {
    const all = [etcdSpec(ctx), apiServerSpec(ctx), kwokSpec(ctx)].flatMap((s) => s.args);
    const addresses = all.filter((a) => /(bind|listen|advertise|address|urls?)=/.test(a));
    expect(addresses.length).toBeGreaterThan(5);
    for (const a of addresses) expect(a).toMatch(/127\.0\.0\.1/);
  });

  it("enables RBAC and the admission plugins the product depends on", () => {
    const args = apiServerSpec(ctx).args;
    expect(args).toContain("--authorization-mode=Node,RBAC");
    const plugins = args
      .find((a) => a.startsWith("--enable-admission-plugins="))
      ?.split("=")[1]
      ?.split(",");
    for (const p of [
      "MutatingAdmissionWebhook",
      "ValidatingAdmissionWebhook",
      "ValidatingAdmissionPolicy",
      "ResourceQuota",
      "LimitRanger",
      "ServiceAccount",
      "PodSecurity",
    ]) {
      expect(plugins).toContain(p);
    }
    expect(plugins).toEqual(ADMISSION_PLUGINS);
  });

  it("passes extra kube-apiserver flags through after its own (an audit log for investigations)", () => {
    const args = apiServerSpec({ ...ctx, apiServerArgs: ["--audit-log-path=/tmp/a.log"] }).args;
    expect(args.at(-1)).toBe("--audit-log-path=/tmp/a.log");
    expect(apiServerSpec(ctx).args).not.toContain("--audit-log-path=/tmp/a.log");
  });

  it("calls webhooks at a Service's endpoints (pod addresses the host routes) only when real nodes run", () => {
    expect(apiServerSpec(ctx).args).not.toContain("--enable-aggregator-routing=true");
    const real = apiServerSpec({ ...ctx, network: networkPlan(0, 1) }).args;
    expect(real).toContain("--enable-aggregator-routing=true");
  });

  it("runs etcd without fsync (test data only) on its own data dir", () => {
    expect(etcdSpec(ctx).args).toEqual(
      expect.arrayContaining(["--unsafe-no-fsync=true", "--data-dir=/run/etcd"]),
    );
  });
});

describe("fake nodes", () => {
  it("have distinct names, zones, pools and hostnames so that node isolation has choices", () => {
    const shapes = nodeShapes(3);
    const labels = shapes.map(
      (s) => (nodeManifest(s).metadata as { labels: Record<string, string> }).labels,
    );
    for (const key of [
      "kubernetes.io/hostname",
      "topology.kubernetes.io/zone",
      "kubeplus.dev/pool",
    ]) {
      expect(new Set(labels.map((l) => l[key])).size).toBe(3);
    }
  });

  it("are handed to kwok by annotation and advertise a kubelet resource-metrics path", () => {
    const node = nodeManifest(nodeShapes(1)[0]!) as {
      metadata: { annotations: Record<string, string> };
    };
    expect(node.metadata.annotations).toMatchObject({
      "kwok.x-k8s.io/node": "fake",
      "metrics.k8s.io/resource-metrics-path": "/metrics/nodes/kwok-node-0/metrics/resource",
    });
  });
});
