// Metering at scale: one collection pass over N instances (2 pods each, on the kwok nodes, with emulated usage),
// the collector's resident memory, and the /metrics scrape time. Instances are a bench kind whose status points at
// its namespace (as the helmer's would); the pods are made directly, so the figure is the collector's alone.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { repoRoot, type ClusterState } from "@kubeplus/dev";
import { serviceEnv, startService, freePort, waitFor } from "@kubeplus/testing";
import { percentile, type Figure } from "./report.js";

const run = promisify(execFile);
const GROUP = "platformapi.kubeplus";
const PLURAL = "meterbenches";

async function kubectl(state: ClusterState, args: string[], input?: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "bench-metrics-"));
  const extra: string[] = [];
  if (input !== undefined) {
    const file = join(work, "in.yaml");
    writeFileSync(file, input);
    extra.push("-f", file);
  }
  const { stdout } = await run(
    state.tools.kubectl,
    [...args, ...extra, "--kubeconfig", state.kubeconfig],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  return stdout;
}

const docs = (objects: unknown[]): string => objects.map((o) => stringify(o)).join("---\n");

function tenantObjects(i: number, kp: string): unknown[] {
  const ns = `mb-${String(i)}`;
  const pod = (name: string, cpu: string, node: number): unknown => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: ns,
      labels: { "app.kubernetes.io/instance": `rel-${String(i)}` },
      annotations: { "kwok.x-k8s.io/usage-cpu": cpu, "kwok.x-k8s.io/usage-memory": "32Mi" },
    },
    spec: {
      nodeName: `kwok-node-${String(node % 3)}`,
      containers: [{ name: "app", image: "app:1" }],
    },
  });
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
    pod("web", "250m", i),
    pod("db", "100m", i + 1),
    {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: "MeterBench",
      metadata: { name: `t${String(i)}`, namespace: kp },
      spec: {},
    },
  ];
}

async function setUp(state: ClusterState, n: number, kp: string): Promise<void> {
  await kubectl(state, ["create", "namespace", kp]);
  // The platform CRDs, as the chart installs them (the composition names the kind to meter).
  await kubectl(state, ["apply", "-f", join(repoRoot, "deploy", "charts", "kubeplus", "crds")]);
  await kubectl(state, [
    "wait",
    "--for=condition=Established",
    "crd/resourcecompositions.workflows.kubeplus",
  ]);
  await kubectl(
    state,
    ["apply"],
    docs([
      {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: `${PLURAL}.${GROUP}` },
        spec: {
          group: GROUP,
          scope: "Namespaced",
          names: {
            kind: "MeterBench",
            plural: PLURAL,
            singular: "meterbench",
            listKind: "MeterBenchList",
          },
          versions: [
            {
              name: "v1alpha1",
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              },
            },
          ],
        },
      },
    ]),
  );
  await kubectl(state, ["wait", "--for=condition=Established", `crd/${PLURAL}.${GROUP}`]);
  await kubectl(
    state,
    ["apply"],
    docs([
      {
        apiVersion: "workflows.kubeplus/v1alpha1",
        kind: "ResourceComposition",
        metadata: { name: "meterbench", namespace: kp },
        spec: {
          newResource: {
            resource: { kind: "MeterBench", group: GROUP, version: "v1alpha1", plural: PLURAL },
            chartURL: "https://charts.invalid/x-0.1.0.tgz",
            chartName: "x",
          },
          resmonitor: {
            apiVersion: "workflows.kubeplus/v1alpha1",
            kind: "ResourceMonitor",
            metadata: { name: "mb" },
            spec: {
              resource: { kind: "MeterBench", group: GROUP, version: "v1alpha1" },
              monitorRelationships: "all",
            },
          },
        },
      },
    ]),
  );
  for (let start = 0; start < n; start += 100) {
    const batch = Array.from({ length: Math.min(100, n - start) }, (_, k) =>
      tenantObjects(start + k, kp),
    ).flat();
    await kubectl(state, ["apply", "--server-side"], docs(batch));
    process.stderr.write(
      `[bench]   created ${String(Math.min(start + 100, n))}/${String(n)} instances\n`,
    );
  }
  // Status as the helmer writes it: where the release lives. Eight kubectl processes at a time.
  let next = 0;
  const patchOne = async (): Promise<void> => {
    while (next < n) {
      const k = next++;
      await kubectl(state, [
        "patch",
        "meterbench",
        `t${String(k)}`,
        "-n",
        kp,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({
          status: { helmrelease: `mb-${String(k)}:rel-${String(k)}`, inventory: [] },
        }),
      ]);
    }
  };
  await Promise.all(Array.from({ length: 8 }, patchOne));
}

async function tearDown(state: ClusterState, n: number, kp: string): Promise<void> {
  const names = Array.from({ length: n }, (_, i) => `mb-${String(i)}`);
  for (let s = 0; s < names.length; s += 200)
    await kubectl(state, [
      "delete",
      "namespace",
      ...names.slice(s, s + 200),
      "--wait=false",
      "--ignore-not-found",
    ]);
  await kubectl(state, ["delete", "namespace", kp, "--wait=false"]);
  await kubectl(state, ["delete", "crd", `${PLURAL}.${GROUP}`, "--wait=false"]);
}

async function get(url: string): Promise<{ ms: number; text: string }> {
  const started = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  return { ms: performance.now() - started, text };
}

/** The collector's environment: the local control plane's, kubelets read directly, and what the bench varies. */
function collectorEnv(state: ClusterState, kp: string, port: number): NodeJS.ProcessEnv {
  return serviceEnv(state, {
    KUBEPLUS_NAMESPACE: kp,
    PORT: String(port),
    HOST: "127.0.0.1",
    INTERVAL_SECONDS: "15",
    LOG_LEVEL: "info",
    KUBELET_ACCESS: "direct",
    KUBELET_CA_FILE: join(state.runDir, "pki", "ca.crt"),
    // BENCH_COLLECTOR_NODE_OPTIONS: the collector's NODE_OPTIONS (V8 heap settings under test).
    ...(process.env.BENCH_COLLECTOR_NODE_OPTIONS
      ? { NODE_OPTIONS: process.env.BENCH_COLLECTOR_NODE_OPTIONS }
      : {}),
  });
}

export async function benchMetrics(state: ClusterState): Promise<Figure[]> {
  const n = Number(process.env.METRICS_BENCH_INSTANCES ?? "1000");
  const kp = `mbench-${Date.now().toString(36)}`;
  try {
    await setUp(state, n, kp);
    await waitFor(
      async () => {
        const out = await kubectl(state, [
          "get",
          "pods",
          "-A",
          "-l",
          "app.kubernetes.io/instance",
          "--field-selector=status.phase=Running",
          "-o",
          "name",
        ]);
        return out.split("\n").filter(Boolean).length >= 2 * n;
      },
      { what: `${String(2 * n)} bench pods Running`, timeoutMs: 15 * 60_000, intervalMs: 5_000 },
    );
    const port = await freePort();
    const collector = await startService(
      "metrics-collector",
      collectorEnv(state, kp, port),
      // Leading comes before the first pass, which at this size may take longer than the start-up wait.
      (l) => l.msg === "leading: writing usage records",
    );
    try {
      const url = `http://127.0.0.1:${String(port)}/metrics`;
      // Three passes: the second and third have a CPU rate and a full set of records to write.
      await waitFor(
        async () => /^kubeplus_collector_passes_total ([3-9]|\d\d+)$/m.test((await get(url)).text),
        {
          what: "three collection passes",
          timeoutMs: 10 * 60_000,
          intervalMs: 2_000,
        },
      );
      const text = (await get(url)).text;
      const pass = Number(
        /^kubeplus_collector_pass_duration_seconds (\S+)$/m.exec(text)?.[1] ?? "NaN",
      );
      const metered = Number(/^kubeplus_collector_instances (\S+)$/m.exec(text)?.[1] ?? "0");
      const status = readFileSync(`/proc/${String(collector.process.pid)}/status`, "utf8");
      const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0") / 1024;
      const scrapes: number[] = [];
      for (let i = 0; i < 20; i++) scrapes.push((await get(url)).ms);
      const p50 = percentile(
        [...scrapes].sort((a, b) => a - b),
        50,
      );
      const bytes = text.length;
      return [
        {
          benchmark: "metrics",
          figure: `collection pass over ${String(metered)} instances (${String(2 * n)} pods)`,
          target: "<= 5 s at 1000",
          measured: `${pass.toFixed(2)} s`,
          value: pass,
          unit: "s",
          met: pass <= 5 && n >= 1000,
        },
        {
          benchmark: "metrics",
          figure: `collector resident memory at ${String(n)} instances`,
          target: "<= 150 MiB at 1000",
          measured: `${rssMiB.toFixed(0)} MiB`,
          value: rssMiB,
          unit: "MiB",
          met: rssMiB <= 150 && n >= 1000,
        },
        {
          benchmark: "metrics",
          figure: `/metrics scrape p50 (${String(Math.round(bytes / 1024))} KiB)`,
          target: "<= 200 ms at 1000",
          measured: `${p50.toFixed(1)} ms`,
          value: p50,
          unit: "ms",
          met: p50 <= 200 && n >= 1000,
        },
      ];
    } finally {
      await collector.stop();
    }
  } finally {
    await tearDown(state, n, kp);
  }
}
