// Helmer benchmark (issue: the helmer): instance create -> Ready latency, a burst of instances, a sustained stream,
// a fleet chart upgrade, and the helmer's resident memory, on the local control plane with a hello-world chart.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
} from "@kubernetes/client-node";
import type { ClusterState } from "@kubeplus/dev";
import {
  compositionManifest,
  kubeConfigFromFile,
  serveFiles,
  serviceEnv,
  sharedChart,
  startService,
  type RunningService,
} from "@kubeplus/testing";
import { installPlatformCrds, kubectl } from "./platform.js";
import { percentile, type Figure } from "./report.js";

const GROUP = "platformapi.kubeplus";
const VERSION = "v1alpha1";
const PLURAL = "benchhelloservices";
const SINGLES = 10;
const BURST = 100;
/** BENCH_STREAM (default 1000): instances created at STREAM_RATE per second for the sustained figure. */
const STREAM_RATE = 5;
/** How often `until` looks at the watched instances (a local read). */
const UNTIL_POLL_MS = 100;

interface Item {
  metadata?: { name?: string };
  status?: {
    conditions?: { type: string; status: string }[];
    chart?: { ref?: string };
  };
}

const isReady = (i: Item): boolean =>
  i.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Bench {
  readonly custom: CustomObjectsApi;
  readonly ns: string;
  private readonly kc: KubeConfig;
  private informer?: Informer<KubernetesObject & Item> & ObjectCache<KubernetesObject & Item>;
  /** When each instance was asked for, and when the watch first saw it Ready (for the stream's lag). */
  readonly createdAt = new Map<string, number>();
  readonly readyAt = new Map<string, number>();
  constructor(kc: KubeConfig, ns: string) {
    this.kc = kc;
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.ns = ns;
  }

  /** Watches the instances: `until` reads this cache instead of listing them all again and again. */
  async watch(): Promise<void> {
    const informer = makeInformer<KubernetesObject & Item>(
      this.kc,
      `/apis/${GROUP}/${VERSION}/namespaces/${this.ns}/${PLURAL}`,
      () =>
        this.custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: this.ns,
        }) as never,
    ) as Informer<KubernetesObject & Item> & ObjectCache<KubernetesObject & Item>;
    const seen = (o: KubernetesObject & Item): void => {
      const name = o.metadata?.name ?? "";
      if (isReady(o) && !this.readyAt.has(name)) this.readyAt.set(name, Date.now());
    };
    informer.on("add", seen);
    informer.on("update", seen);
    informer.on("error", () => {
      setTimeout(() => void informer.start().catch(() => undefined), 1_000);
    });
    await informer.start();
    this.informer = informer;
  }

  async unwatch(): Promise<void> {
    await this.informer?.stop();
  }

  async create(name: string): Promise<void> {
    this.createdAt.set(name, Date.now());
    await this.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: this.ns,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "BenchHelloService",
        metadata: { name, namespace: this.ns },
        spec: { greeting: `hello ${name}`, replicas: 1 },
      },
    });
  }

  async list(): Promise<Item[]> {
    const r = (await this.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: this.ns,
    })) as { items: Item[] };
    return r.items;
  }

  /**
   * Waits until `done` holds for the watched instances; returns the elapsed milliseconds. The instances come from a
   * watch, not from listing them all again and again (a list of a thousand instances with their status is heavy work
   * for the apiserver, and the bench must not load the machine it measures).
   */
  async until(done: (items: Item[]) => boolean, timeoutMs: number, what: string): Promise<number> {
    const started = Date.now();
    let last = 0;
    for (;;) {
      const items = this.informer ? [...this.informer.list(this.ns)] : await this.list();
      if (done(items)) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      if (Date.now() - last > 10_000) {
        process.stderr.write(
          `[bench]     ${what}: ${items.filter(isReady).length}/${items.length} Ready\n`,
        );
        last = Date.now();
      }
      await sleep(UNTIL_POLL_MS);
    }
  }
}

/**
 * How long each streamed instance took from its create request to Ready, first and last hundred apart: a machine
 * that keeps up with the stream shows the same lag at the end as at the start; one that falls behind, a growing one.
 */
function reportStreamLag(b: Bench, prefix: string, count: number): void {
  const lags: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const created = b.createdAt.get(`${prefix}-${i}`);
    const ready = b.readyAt.get(`${prefix}-${i}`);
    if (created !== undefined && ready !== undefined) lags.push(ready - created);
  }
  const mean = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
  const edge = Math.min(100, Math.floor(lags.length / 2));
  const sorted = [...lags].sort((a, b) => a - b);
  process.stderr.write(
    `[bench]   stream create -> Ready: p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms; mean of the first ${edge} ${mean(lags.slice(0, edge)).toFixed(0)} ms, of the last ${edge} ${mean(lags.slice(-edge)).toFixed(0)} ms\n`,
  );
}

async function readyOne(b: Bench, name: string): Promise<number> {
  const started = process.hrtime.bigint();
  await b.create(name);
  for (;;) {
    const item = (await b.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: b.ns,
      name,
    })) as Item;
    if (isReady(item)) return Number(process.hrtime.bigint() - started) / 1e6;
    await sleep(25);
  }
}

const rssMiB = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0") / 1024;
};

/** CPU seconds a process used (user + system), and those of its reaped children (helm, for the helmer). */
function cpuSeconds(pid: number): { own: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th.
    const f = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    const tick = 100; // USER_HZ on Linux
    return {
      own: ((f[11] ?? 0) + (f[12] ?? 0)) / tick,
      children: ((f[13] ?? 0) + (f[14] ?? 0)) / tick,
    };
  } catch {
    return { own: 0, children: 0 };
  }
}

type CpuSnapshot = Map<string, number>;

/** Every control-plane process, the helmer, and helm (the helmer's reaped children). */
function cpuSnapshot(state: ClusterState, helmerPid: number): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const p of state.processes) snap.set(p.name, cpuSeconds(p.pid).own);
  const helmer = cpuSeconds(helmerPid);
  snap.set("helmer", helmer.own);
  snap.set("helm (children of the helmer)", helmer.children);
  return snap;
}

/** Where the CPU went while `count` instances streamed in: core-seconds per instance, by process. */
function reportCpu(before: CpuSnapshot, after: CpuSnapshot, count: number): void {
  const rows = [...after]
    .map(([name, s]) => [name, (s - (before.get(name) ?? 0)) / count] as const)
    .sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, v]) => sum + v, 0);
  process.stderr.write(
    `[bench]   CPU per streamed instance: ${total.toFixed(3)} core-s in all (2 cores give ${(2 / total).toFixed(1)}/s at most)\n`,
  );
  for (const [name, v] of rows)
    process.stderr.write(`[bench]     ${name.padEnd(32)} ${v.toFixed(3)} core-s\n`);
}

function figure(name: string, target: string, value: number, unit: string, met: boolean): Figure {
  const shown = unit === "ms" ? `${Math.round(value)} ms` : `${value.toFixed(1)} ${unit}`;
  return { benchmark: "helmer", figure: name, target, measured: shown, value, unit, met };
}

async function createAtRate(
  b: Bench,
  prefix: string,
  count: number,
  perSecond: number,
): Promise<void> {
  const started = Date.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i += 1) {
    const due = started + (i * 1000) / perSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    pending.push(b.create(`${prefix}-${i}`));
  }
  await Promise.all(pending);
}

async function setup(state: ClusterState): Promise<{
  bench: Bench;
  helmer: RunningService;
  charts: Awaited<ReturnType<typeof serveFiles>>;
  patchChart: (file: string) => Promise<void>;
}> {
  const kc = kubeConfigFromFile(state.kubeconfig);
  await installPlatformCrds(state);
  const kp = `bench-helmer-${Date.now().toString(36)}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: kp } } });
  const charts = await serveFiles({
    "/hello-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
    "/hello-0.0.2.tgz": sharedChart("hello-world-chart-0.0.2.tgz"),
  });
  const dir = mkdtempSync(join(tmpdir(), "bench-helmer-"));
  const helmer = await startService(
    "helmer",
    serviceEnv(state, {
      KUBEPLUS_NAMESPACE: kp,
      CHART_CACHE_DIR: join(dir, "cache"),
      LOG_LEVEL: "info",
      // BENCH_HELMER_WORKERS: the helmer's WORKERS (default: the helmer's own default).
      ...(process.env.BENCH_HELMER_WORKERS ? { WORKERS: process.env.BENCH_HELMER_WORKERS } : {}),
      // BENCH_HELMER_NODE_OPTIONS: NODE_OPTIONS for the helmer, e.g. --import of a profiler hook.
      ...(process.env.BENCH_HELMER_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_HELMER_NODE_OPTIONS }
        : {}),
    }),
    (l) => l.msg === "helmer started",
  );
  const custom = kc.makeApiClient(CustomObjectsApi);
  const rc = compositionManifest(
    {
      name: "bench-hello",
      namespace: kp,
      kind: "BenchHelloService",
      plural: PLURAL,
      chartURL: `${charts.url}/hello-0.0.3.tgz`,
      chartName: "hello-world-chart",
    },
    { upgrade: { maxInFlight: 10, failureBudget: 5 } },
  );
  await custom.createNamespacedCustomObject({
    group: "workflows.kubeplus",
    version: "v1alpha1",
    plural: "resourcecompositions",
    namespace: kp,
    body: rc,
  });
  const bench = new Bench(kc, kp);
  for (let i = 0; ; i += 1) {
    try {
      await bench.list();
      break;
    } catch (err) {
      if (i > 120) throw err;
      await sleep(500);
    }
  }
  await bench.watch();
  const patchChart = (file: string): Promise<void> =>
    kubectl(state, [
      "patch",
      "resourcecomposition",
      "bench-hello",
      "-n",
      kp,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { newResource: { chartURL: `${charts.url}/${file}` } } }),
    ]);
  return { bench, helmer, charts, patchChart };
}

export async function benchHelmer(state: ClusterState): Promise<Figure[]> {
  const { bench, helmer, charts, patchChart } = await setup(state);
  const figures: Figure[] = [];
  const pid = helmer.process.pid ?? 0;
  try {
    const singles: number[] = [];
    for (let i = 0; i < SINGLES; i += 1) singles.push(await readyOne(bench, `one-${i}`));
    singles.sort((a, b) => a - b);
    const p50 = percentile(singles, 50);
    figures.push(figure("one instance create -> Ready, p50", "<= 1500 ms", p50, "ms", p50 <= 1500));

    const burstStarted = Date.now();
    await Promise.all(Array.from({ length: BURST }, (_, i) => bench.create(`burst-${i}`)));
    await bench.until((items) => items.filter(isReady).length >= SINGLES + BURST, 300_000, "burst");
    const burstMs = Date.now() - burstStarted;
    figures.push(
      figure(
        `${BURST} instances created at once, all Ready`,
        "<= 30000 ms",
        burstMs,
        "ms",
        burstMs <= 30_000,
      ),
    );

    const upgradeStarted = Date.now();
    await patchChart("hello-0.0.2.tgz");
    const total = SINGLES + BURST;
    await bench.until(
      (items) =>
        items.filter((i) => isReady(i) && i.status?.chart?.ref === "hello-world-chart-0.0.2")
          .length >= total,
      600_000,
      "fleet upgrade",
    );
    const upgradeMs = Date.now() - upgradeStarted;
    figures.push(
      figure(
        `fleet upgrade of ${total} instances`,
        "<= 60000 ms",
        upgradeMs,
        "ms",
        upgradeMs <= 60_000,
      ),
    );

    const stream = Number(process.env.BENCH_STREAM ?? "1000");
    const cpuBefore = cpuSnapshot(state, pid);
    const streamStarted = Date.now();
    await createAtRate(bench, "stream", stream, STREAM_RATE);
    await bench.until(
      (items) => items.filter(isReady).length >= total + stream,
      1_800_000,
      "stream",
    );
    const rate = stream / ((Date.now() - streamStarted) / 1000);
    reportCpu(cpuBefore, cpuSnapshot(state, pid), stream);
    reportStreamLag(bench, "stream", stream);
    figures.push(
      figure(
        `${stream} instances created at ${STREAM_RATE}/s, Ready per second`,
        ">= 5 /s",
        rate,
        "/s",
        // Creating 1000 at 5/s alone takes 199.8 s, and the last one still needs its create -> Ready time: a machine
        // that keeps up measures 4.95-4.99. The lag line above shows whether it kept up.
        rate >= 4.95,
      ),
    );
    const rss = rssMiB(pid);
    figures.push(
      figure(
        `helmer resident memory with ${total + stream} instances`,
        "<= 200 MiB",
        rss,
        "MiB",
        rss <= 200,
      ),
    );
  } finally {
    await bench.unwatch();
    await helmer.stop();
    await charts.close();
    process.stderr.write(
      `[bench]   left namespace ${bench.ns} and its instances' namespaces; 'make cluster-down' removes them\n`,
    );
  }
  return figures;
}
