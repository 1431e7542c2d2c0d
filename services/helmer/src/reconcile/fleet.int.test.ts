import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  compositionManifest,
  conditionOf,
  connectNatsAs,
  makeArchive,
  ManifestDir,
  platformNamespace,
  type RunningService,
  serveFiles,
  sharedChart,
  sharedChartPath,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  type TestCondition,
  waitFor,
  instanceNamespace,
} from "@kubeplus/testing";

/**
 * The walkthrough's day-2 journey with the original's basicwebapp chart: tenants with their own values and node,
 * pod policy on the workloads, a fleet upgrade 0.0.1 -> 0.0.2 that keeps each tenant's values, one instance at a
 * time; then a bad chart that fails, is rolled back and stops the rollout; then a good chart again.
 */
const cluster = new TestCluster();
const manifests = new ManifestDir("helmer-fleet");
let kp = "";
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;
let nc: NatsConnection;
const events: { subject: string; data: Record<string, unknown> }[] = [];

interface App {
  metadata: { generation: number };
  status?: {
    conditions?: TestCondition[];
    observedGeneration?: number;
    chart?: { ref?: string };
    failedChart?: { ref?: string };
    error?: string;
  };
}
interface Composition {
  status?: {
    conditions?: TestCondition[];
    instances?: Record<string, unknown>;
    chart?: { version?: string };
    compatibility?: {
      chart?: string;
      incompatibleCount?: number;
      incompatible?: { name: string; problems: { path: string; kind: string; detail: string }[] }[];
    };
    rollout?: { phase?: string; wave?: number; waves?: number; chart?: string; soakUntil?: string };
  };
}

const TENANTS = ["bwa-1", "bwa-2", "bwa-3"];

async function getJson<T>(args: string[]): Promise<T | undefined> {
  const r = await cluster.kubectl([...args, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}
const app = (name: string) => getJson<App>(["get", "webappservice", name, "-n", kp]);
const composition = () => getJson<Composition>(["get", "resourcecomposition", "bwa", "-n", kp]);
const diagnose = async (): Promise<string> => {
  const apps = await Promise.all(TENANTS.map((name) => app(name)));
  const warnings = helmer.logs().filter((l) => Number(l.level) >= 40);
  return [
    JSON.stringify((await composition())?.status, null, 2),
    ...apps.map((a, i) => `${TENANTS[i] ?? ""}: ${JSON.stringify(a?.status)}`),
    ...warnings.slice(-10).map((l) => JSON.stringify(l).slice(0, 600)),
  ].join("\n");
};

function waitApp(name: string, ok: (a: App) => boolean, what: string): Promise<App> {
  return waitFor(
    async () => {
      const a = await app(name);
      return a && ok(a) ? a : undefined;
    },
    { what: `${name} ${what}`, timeoutMs: 120_000, diagnose },
  );
}
const readyOn = (ref: string) => (a: App) =>
  conditionOf(a)?.status === "True" &&
  a.status?.observedGeneration === a.metadata.generation &&
  a.status.chart?.ref === ref;

function useChart(file: string): Promise<{ code: number | null; stderr: string }> {
  return cluster.kubectl([
    "patch",
    "resourcecomposition",
    "bwa",
    "-n",
    kp,
    "--type=merge",
    "-p",
    JSON.stringify({ spec: { newResource: { chartURL: `${charts.url}/${file}` } } }),
  ]);
}

/**
 * basicwebapp 0.0.2's files as chart `version`: each file through `edit`, and with `schema` a values.schema.json of
 * those properties beside the chart's other values (MYSQL_SERVICE_NAME, sql).
 */
function variantOf(
  originals: readonly { name: string; content: string }[],
  version: string,
  o: { edit?: (name: string, content: string) => string; schema?: Record<string, unknown> },
): { name: string; content: string }[] {
  const files = originals.map(({ name, content }) => ({
    name,
    content: (o.edit ?? ((_n: string, c: string) => c))(
      name,
      name.endsWith("Chart.yaml")
        ? content.replace(/version: 0\.0\.2/, `version: ${version}`)
        : content,
    ),
  }));
  if (!o.schema) return files;
  const properties = {
    ...o.schema,
    MYSQL_SERVICE_NAME: { type: "string" },
    sql: { type: "object", additionalProperties: { type: "string" } },
  };
  return [
    ...files,
    {
      name: "basicwebapp/values.schema.json",
      content: JSON.stringify({ type: "object", properties }),
    },
  ];
}

/** kubectl in the platform namespace, which must not complain. */
async function kubectl(args: string[]): Promise<void> {
  const r = await cluster.kubectl([...args, "-n", kp]);
  expect(r.stderr, args.join(" ")).toBe("");
}

/** A tenant's namespace (`<instance>-<hash of its UID>`), as the helmer reports it. */
const nsOf = (name: string): Promise<string> =>
  instanceNamespace(cluster, { plural: "webappservices", namespace: kp, name });

const jsonpath = async (args: string[], path: string): Promise<string> =>
  (await cluster.kubectl([...args, "-o", `jsonpath=${path}`])).stdout;

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kpf");
  // 0.0.3 is 0.0.2 with a Service port Kubernetes refuses: its upgrade fails at the API server.
  const listing = execFileSync("tar", ["tzf", sharedChartPath("basicwebapp-0.0.2.tgz")])
    .toString()
    .trim()
    .split("\n")
    .filter((n) => !n.endsWith("/"));
  const originals = listing.map((name) => ({
    name,
    content: execFileSync("tar", [
      "xzf",
      sharedChartPath("basicwebapp-0.0.2.tgz"),
      "-O",
      name,
    ]).toString(),
  }));
  const entries = variantOf(originals, "0.0.3", {
    edit: (name, content) =>
      name.endsWith("basic-web-app-deployment.yaml")
        ? content.replace(/port: \d+/, "port: 99999")
        : content,
  });
  // 0.0.4 is 0.0.2 with a values.schema.json that narrows the node a tenant may ask for: bwa-3's kwok-node-2 no
  // longer fits it (the compatibility gate).
  const narrowed = variantOf(originals, "0.0.4", {
    schema: {
      nodeName: { type: "string", enum: ["kwok-node-0", "kwok-node-1"] },
      db: { type: "object", additionalProperties: { type: "string" } },
    },
  });
  // 0.0.5 is 0.0.2 renaming db.username to db.user: every tenant set db.username, and would lose it (the gate says
  // so). nodeName stays: the composition's pod policy declares it whatever the chart says.
  const renamed = variantOf(originals, "0.0.5", {
    schema: {
      db: {
        type: "object",
        properties: Object.fromEntries(
          ["user", "password", "host", "db_name", "rootpassword"].map((k) => [
            k,
            { type: "string" },
          ]),
        ),
      },
    },
  });
  charts = await serveFiles({
    "/basicwebapp-0.0.1.tgz": sharedChart("basicwebapp-0.0.1.tgz"),
    "/basicwebapp-0.0.2.tgz": sharedChart("basicwebapp-0.0.2.tgz"),
    "/basicwebapp-0.0.3.tgz": await makeArchive(entries),
    "/basicwebapp-0.0.4.tgz": await makeArchive(narrowed),
    "/basicwebapp-0.0.5.tgz": await makeArchive(renamed),
  });
  nc = await connectNatsAs(cluster.state, "provider");
  for (const subject of ["kubeplus.v1.evt.instance.>", "kubeplus.v1.evt.fleet.>"]) {
    const sub = nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) events.push({ subject: m.subject, data: m.json() });
    })();
  }
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"));
  const rc = compositionManifest(
    {
      name: "bwa",
      namespace: kp,
      kind: "WebAppService",
      plural: "webappservices",
      chartURL: `${charts.url}/basicwebapp-0.0.1.tgz`,
      chartName: "basicwebapp",
    },
    {
      respolicy: {
        spec: {
          policy: {
            podconfig: {
              requests: { cpu: "100m", memory: "64Mi" },
              limits: { cpu: "250m", memory: "256Mi" },
              nodeSelector: "values.nodeName",
            },
          },
        },
      },
      upgrade: { maxInFlight: 1, failureBudget: 1 },
    },
  );
  expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
  await waitFor(async () => conditionOf(await composition())?.status === "True", {
    what: "the bwa composition to be registered",
    timeoutMs: 60_000,
    diagnose,
  });
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: ["webappservices.platformapi.kubeplus"],
    services: [helmer],
  });
  await nc.close();
  await charts.close();
});

/** After a failed rollout: true for the instance that failed (reported, rolled back); the others untouched. */
async function checkAfterFailedRollout(name: string): Promise<boolean> {
  const a = await app(name);
  const releases = await jsonpath(
    ["get", "secrets", "-n", await nsOf(name), "-l", "owner=helm,status=deployed"],
    "{.items[*].metadata.labels.version}",
  );
  // Exactly one deployed revision: the rollback left the release in a state helm can move on from.
  expect(releases.split(" ")).toHaveLength(1);
  if (a?.status?.failedChart?.ref !== "basicwebapp-0.0.3") {
    // Never touched: still serving 0.0.2.
    expect(a?.status?.chart?.ref).toBe("basicwebapp-0.0.2");
    return false;
  }
  expect(conditionOf(a, "Stalled")).toMatchObject({ status: "True", reason: "UpgradeFailed" });
  expect(a.status.error).toMatch(/99999[\s\S]*rolled back to revision/);
  return true;
}

describe("a fleet of tenants through chart upgrades", () => {
  it("gives each tenant its own values and node, with the pod policy on its workloads", async () => {
    for (const [i, name] of TENANTS.entries()) {
      const tenant = {
        apiVersion: "platformapi.kubeplus/v1alpha1",
        kind: "WebAppService",
        metadata: { name, namespace: kp },
        spec: { nodeName: `kwok-node-${i}`, db: { username: `user-${i}`, password: `pw-${i}` } },
      };
      expect((await cluster.kubectl(["create", "-f", manifests.write(name, tenant)])).stderr).toBe(
        "",
      );
    }
    for (const name of TENANTS) await waitApp(name, readyOn("basicwebapp-0.0.1"), "Ready on 0.0.1");

    const bwa2 = await nsOf("bwa-2");
    const deploy = ["get", "deployment", "web-app-deploy", "-n", bwa2];
    expect(await jsonpath(deploy, "{.spec.template.spec.nodeSelector}")).toBe(
      JSON.stringify({ "kubernetes.io/hostname": "kwok-node-1" }),
    );
    expect(
      JSON.parse(await jsonpath(deploy, "{.spec.template.spec.containers[0].resources}")),
    ).toEqual({
      requests: { cpu: "100m", memory: "64Mi" },
      limits: { cpu: "250m", memory: "256Mi" },
    });
    const pods = await cluster.core.listNamespacedPod({ namespace: bwa2 });
    expect(pods.items.length).toBeGreaterThan(0);
    for (const pod of pods.items) expect(pod.spec?.nodeName).toBe("kwok-node-1");
    expect(
      events.filter((e) => e.subject === "kubeplus.v1.evt.instance.ready").map((e) => e.data.name),
    ).toEqual(expect.arrayContaining(TENANTS));
  }, 180_000);

  it("upgrades every tenant to 0.0.2, one at a time, each keeping its own values", async () => {
    expect((await useChart("basicwebapp-0.0.2.tgz")).stderr).toBe("");
    let maxInFlight = 0;
    const done = await waitFor(
      async () => {
        const rc = await composition();
        const inFlight = Number(rc?.status?.instances?.inFlight ?? 0);
        maxInFlight = Math.max(maxInFlight, inFlight);
        const progress = rc?.status?.instances;
        return progress?.chart === "basicwebapp-0.0.2" && progress.upgraded === TENANTS.length
          ? rc
          : undefined;
      },
      { what: "every tenant on 0.0.2", timeoutMs: 180_000, intervalMs: 100, diagnose },
    );
    expect(maxInFlight).toBeLessThanOrEqual(1);
    expect(done.status?.instances).toMatchObject({
      chart: "basicwebapp-0.0.2",
      total: 3,
      upgraded: 3,
      pending: 0,
      failed: 0,
      halted: false,
    });
    for (const [i, name] of TENANTS.entries()) {
      await waitApp(name, readyOn("basicwebapp-0.0.2"), "Ready on 0.0.2");
      const secret = await cluster.core.readNamespacedSecret({
        name: "db-root-credentials-web-app",
        namespace: await nsOf(name),
      });
      expect(Buffer.from(secret.data?.username ?? "", "base64").toString()).toBe(`user-${i}`);
    }
    expect(
      events.some((e) => e.subject === "kubeplus.v1.evt.fleet.progressed" && e.data.upgraded === 3),
    ).toBe(true);
  }, 240_000);

  it("rolls a failed upgrade back, stops the rollout at the failure budget, and resumes with a good chart", async () => {
    expect((await useChart("basicwebapp-0.0.3.tgz")).stderr).toBe("");
    const rc = await waitFor(
      async () => {
        const c = await composition();
        const progress = c?.status?.instances;
        return progress?.halted === true && progress.chart === "basicwebapp-0.0.3" ? c : undefined;
      },
      { what: "the rollout of 0.0.3 to stop", timeoutMs: 120_000, diagnose },
    );
    expect(rc.status?.instances).toMatchObject({
      chart: "basicwebapp-0.0.3",
      failed: 1,
      upgraded: 0,
    });
    // The failed tenant settles on Stalled/UpgradeFailed (status writes race with the watch cache for a moment).
    await waitFor(
      async () => {
        const apps = await Promise.all(TENANTS.map((name) => app(name)));
        return apps.some((a) => conditionOf(a, "Stalled")?.reason === "UpgradeFailed");
      },
      { what: "the failed tenant to report UpgradeFailed", timeoutMs: 30_000, diagnose },
    );
    const failed: string[] = [];
    for (const name of TENANTS) if (await checkAfterFailedRollout(name)) failed.push(name);
    expect(failed).toHaveLength(1);
    expect(
      events.some(
        (e) => e.subject === "kubeplus.v1.evt.instance.failed" && e.data.reason === "UpgradeFailed",
      ),
    ).toBe(true);

    expect((await useChart("basicwebapp-0.0.2.tgz")).stderr).toBe("");
    for (const name of TENANTS)
      await waitApp(name, readyOn("basicwebapp-0.0.2"), "Ready on 0.0.2 again");
    const recovered = await app(failed[0] ?? "");
    expect(recovered?.status?.failedChart).toBeUndefined();
    expect(conditionOf(recovered, "Stalled")?.status).toBe("False");
  }, 240_000);

  it("holds a chart that renames a value every tenant sets, naming the value each would lose", async () => {
    expect((await useChart("basicwebapp-0.0.5.tgz")).stderr).toBe("");
    const blocked = await waitFor(
      async () => {
        const c = await composition();
        const gate = c?.status?.compatibility;
        return conditionOf(c)?.reason === "UpgradeBlocked" && gate?.chart === "basicwebapp-0.0.5"
          ? gate
          : undefined;
      },
      { what: "the composition to block 0.0.5", timeoutMs: 60_000, diagnose },
    );
    expect(blocked.incompatibleCount).toBe(3);
    for (const held of blocked.incompatible ?? [])
      expect(held.problems).toEqual([
        expect.objectContaining({ path: "spec.db.username", kind: "removed" }),
      ]);
    for (const name of TENANTS)
      expect((await app(name))?.status?.chart?.ref).toBe("basicwebapp-0.0.2");
  }, 120_000);

  it("holds a chart that some tenant's values do not fit, lists that tenant field by field, and moves only the others when allowed", async () => {
    expect((await useChart("basicwebapp-0.0.4.tgz")).stderr).toBe("");
    const blocked = await waitFor(
      async () => {
        const c = await composition();
        return conditionOf(c)?.reason === "UpgradeBlocked" &&
          c?.status?.compatibility?.chart === "basicwebapp-0.0.4"
          ? c
          : undefined;
      },
      { what: "the composition to block 0.0.4", timeoutMs: 60_000, diagnose },
    );
    expect(blocked.status?.compatibility).toMatchObject({
      chart: "basicwebapp-0.0.4",
      incompatibleCount: 1,
      incompatible: [
        {
          name: "bwa-3",
          problems: [
            {
              path: "spec.nodeName",
              kind: "invalid",
              detail: expect.stringContaining('"kwok-node-2"') as unknown,
            },
          ],
        },
      ],
    });
    expect(conditionOf(blocked)?.message).toMatch(
      /^chart basicwebapp-0\.0\.4 is not rolled out: the values of 1 of 3 instance\(s\) do not fit it: .*\/bwa-3 \(spec\.nodeName: must be one of "kwok-node-0", "kwok-node-1"/,
    );
    // Nothing moved: every tenant still serves 0.0.2.
    for (const name of TENANTS)
      expect((await app(name))?.status?.chart?.ref).toBe("basicwebapp-0.0.2");

    const allow = await cluster.kubectl([
      "patch",
      "resourcecomposition",
      "bwa",
      "-n",
      kp,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { upgrade: { allowIncompatible: true } } }),
    ]);
    expect(allow.stderr).toBe("");
    for (const name of ["bwa-1", "bwa-2"])
      await waitApp(name, readyOn("basicwebapp-0.0.4"), "Ready on 0.0.4");
    const held = await waitApp(
      "bwa-3",
      (a) => conditionOf(a, "Reconciling")?.reason === "UpgradeIncompatible",
      "held as incompatible",
    );
    expect(held.status?.chart?.ref).toBe("basicwebapp-0.0.2");
    expect(conditionOf(held)?.status, JSON.stringify(held.status)).toBe("True");
    expect(conditionOf(held, "Reconciling")?.message).toMatch(/spec\.nodeName: must be one of/);

    // The tenant's values fixed: the gate lets it go, without any change of the composition.
    const fixed = await cluster.kubectl([
      "patch",
      "webappservice",
      "bwa-3",
      "-n",
      kp,
      "--type=merge",
      "-p",
      // Its node preference dropped (moving its pods to another node would leave its volume behind).
      '{"spec":{"nodeName":null}}',
    ]);
    expect(fixed.stderr).toBe("");
    await waitApp("bwa-3", readyOn("basicwebapp-0.0.4"), "Ready on 0.0.4 once its values fit");
    await waitFor(
      async () =>
        (await composition())?.status?.compatibility?.incompatibleCount === 0 ? true : undefined,
      { what: "the gate to list nobody", timeoutMs: 60_000, diagnose },
    );
  }, 240_000);

  it("moves a labelled canary first and soaks it before the next wave, and leaves a pinned tenant where it is", async () => {
    await kubectl(["label", "webappservice", "bwa-2", "kubeplus.dev/canary=true"]);
    await kubectl(["annotate", "webappservice", "bwa-3", "kubeplus.dev/pin-chart=0.0.4"]);
    const SOAK_SECONDS = 8;
    await kubectl([
      "patch",
      "resourcecomposition",
      "bwa",
      "--type=merge",
      "-p",
      JSON.stringify({
        spec: {
          newResource: { chartURL: `${charts.url}/basicwebapp-0.0.2.tgz` },
          upgrade: {
            canary: {
              selector: { matchLabels: { "kubeplus.dev/canary": "true" } },
              soakSeconds: SOAK_SECONDS,
            },
            waveSize: 1,
          },
        },
      }),
    ]);
    await waitApp("bwa-2", readyOn("basicwebapp-0.0.2"), "(the canary) Ready on 0.0.2");
    const soaking = await waitFor(
      async () => {
        const rollout = (await composition())?.status?.rollout;
        return rollout?.phase === "Soaking" && rollout.soakUntil ? rollout : undefined;
      },
      { what: "the rollout to soak the canary", timeoutMs: 30_000, diagnose },
    );
    expect(soaking).toMatchObject({ chart: "basicwebapp-0.0.2", wave: 1, waves: 3 });
    // Until the soak ends, the next wave does not move, and says why.
    const soakUntil = Date.parse(soaking.soakUntil ?? "");
    const waiting = await waitApp(
      "bwa-1",
      (a) => conditionOf(a, "Reconciling")?.reason === "UpgradePending",
      "waiting for its wave",
    );
    expect(conditionOf(waiting, "Reconciling")?.message).toMatch(
      /waiting for its wave to move to chart basicwebapp-0\.0\.2: the canary is on the chart; the other waves wait until/,
    );
    while (Date.now() < soakUntil - 1_500) {
      expect((await app("bwa-1"))?.status?.chart?.ref).toBe("basicwebapp-0.0.4");
      await new Promise((r) => setTimeout(r, 500));
    }
    await waitApp("bwa-1", readyOn("basicwebapp-0.0.2"), "Ready on 0.0.2 after the soak");
    // The pinned tenant stays on its version, Ready, and says so; the rollout counts it and is done.
    const pinned = await waitApp(
      "bwa-3",
      (a) => conditionOf(a, "Reconciling")?.reason === "Pinned",
      "pinned",
    );
    expect(pinned.status?.chart?.ref).toBe("basicwebapp-0.0.4");
    expect(conditionOf(pinned)?.status).toBe("True");
    const done = await waitFor(
      async () => {
        const c = await composition();
        return c?.status?.rollout?.phase === "Done" ? c : undefined;
      },
      { what: "the rollout to be done", timeoutMs: 30_000, diagnose },
    );
    expect(done.status?.instances).toMatchObject({ total: 3, upgraded: 2, pinned: 1, pending: 0 });
    expect(
      events.some(
        (e) =>
          e.subject === "kubeplus.v1.evt.fleet.progressed" &&
          e.data.phase === "Soaking" &&
          e.data.wave === 1,
      ),
    ).toBe(true);
  }, 240_000);

  it("holds a tenant while the rollout is paused and moves it once resumed", async () => {
    // The tenant pinned in the test before is unpinned while the rollout is paused.
    await kubectl([
      "patch",
      "resourcecomposition",
      "bwa",
      "--type=merge",
      "-p",
      '{"spec":{"upgrade":{"paused":true}}}',
    ]);
    await kubectl(["annotate", "webappservice", "bwa-3", "kubeplus.dev/pin-chart-"]);
    const paused = await waitApp(
      "bwa-3",
      (a) => conditionOf(a, "Reconciling")?.reason === "UpgradePaused",
      "paused",
    );
    expect(paused.status?.chart?.ref).toBe("basicwebapp-0.0.4");
    await waitFor(
      async () => ((await composition())?.status?.rollout?.phase === "Paused" ? true : undefined),
      { what: "the rollout to say Paused", timeoutMs: 30_000, diagnose },
    );
    await kubectl([
      "patch",
      "resourcecomposition",
      "bwa",
      "--type=merge",
      "-p",
      '{"spec":{"upgrade":{"paused":false}}}',
    ]);
    await waitApp("bwa-3", readyOn("basicwebapp-0.0.2"), "Ready on 0.0.2 once resumed");
  }, 240_000);
});
