// Issue 19.1: readiness as kstatus computes it. An upgrade whose new pods never become ready leaves the instance not
// Ready, saying it waits for the rollout, even though the old pods are all available; a rollout past its progress
// deadline makes it Stalled (ProgressFailed), and the next spec change that fixes it makes it Ready again.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chartYaml,
  compositionManifest,
  makeArchive,
  ManifestDir,
  platformNamespace,
  serveFiles,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  waitFor,
  waitForCrd,
  type RunningService,
  type TestCondition,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("helmer-ready");
const CRD = "rolloutapps.platformapi.kubeplus";
let kp = "";
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

/**
 * Two replicas of a Deployment; `stuck` gives its pods a nodeSelector no (kwok) node has, so that a new pod stays
 * Pending for ever while the old ones keep serving (maxSurge 1, maxUnavailable 0 for two replicas).
 */
const rolloutChart = (): Promise<Buffer> =>
  makeArchive([
    { name: "rollout/Chart.yaml", content: chartYaml("rollout") },
    { name: "rollout/values.yaml", content: "stuck: false\ndeadline: 600\n" },
    {
      name: "rollout/templates/web.yaml",
      content: [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        "  name: web",
        "spec:",
        "  replicas: 2",
        "  progressDeadlineSeconds: {{ .Values.deadline }}",
        "  selector: { matchLabels: { app: web } }",
        "  template:",
        "    metadata: { labels: { app: web } }",
        "    spec:",
        "      {{- if .Values.stuck }}",
        '      nodeSelector: { kubeplus.dev/no-such-node: "true" }',
        "      {{- end }}",
        "      containers: [{ name: web, image: nginx }]",
        "",
      ].join("\n"),
    },
  ]);

interface App {
  metadata: { generation: number };
  status?: { observedGeneration?: number; namespace?: string; conditions?: TestCondition[] };
}

async function get(name: string): Promise<App | undefined> {
  const r = await cluster.kubectl(["get", "rolloutapp", name, "-n", kp, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as App) : undefined;
}
const conditionOf = (app: App | undefined, type: string): TestCondition | undefined =>
  app?.status?.conditions?.find((c) => c.type === type);
const diagnose = async (name: string): Promise<string> =>
  `${JSON.stringify(await get(name), null, 2)}\n${helmer
    .logs()
    .slice(-15)
    .map((l) => JSON.stringify(l))
    .join("\n")}\n${await cluster.diagnose(name)}`;

/** The instance once its Ready condition at `generation` satisfies `test`. */
const waitApp = (
  name: string,
  what: string,
  generation: number,
  test: (ready: TestCondition) => boolean,
): Promise<App> =>
  waitFor(
    async () => {
      const app = await get(name);
      const ready = conditionOf(app, "Ready");
      return app?.status?.observedGeneration === generation && ready && test(ready)
        ? app
        : undefined;
    },
    { what: `${name}: ${what}`, timeoutMs: 90_000, diagnose: () => diagnose(name) },
  );

const setSpec = async (name: string, spec: Record<string, unknown>): Promise<void> => {
  const r = await cluster.kubectl([
    "patch",
    "rolloutapp",
    name,
    "-n",
    kp,
    "--type",
    "merge",
    "-p",
    JSON.stringify({ spec }),
  ]);
  expect(r.stderr).toBe("");
};

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kpr");
  charts = await serveFiles({ "/rollout-0.1.0.tgz": await rolloutChart() });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"));
  const rc = compositionManifest({
    name: "rollout",
    namespace: kp,
    kind: "RolloutApp",
    plural: "rolloutapps",
    chartURL: `${charts.url}/rollout-0.1.0.tgz`,
    chartName: "rollout",
  });
  expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
  await waitForCrd(cluster, CRD);
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, { namespace: kp, generatedCrds: [CRD], services: [helmer] });
  await charts.close();
});

describe("readiness follows the rollout", () => {
  it("an upgrade whose new pods never become ready is not Ready from the old pods, and says it waits for the rollout", async () => {
    const app = {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "RolloutApp",
      metadata: { name: "ro1", namespace: kp },
      spec: { stuck: false },
    };
    expect((await cluster.kubectl(["create", "-f", manifests.write("ro1", app)])).stderr).toBe("");
    await waitApp("ro1", "Ready", 1, (r) => r.status === "True");

    // The upgrade: one new pod that never schedules, both old pods still available.
    await setSpec("ro1", { stuck: true });
    const waiting = await waitApp(
      "ro1",
      "waiting for the rollout",
      2,
      (r) => r.status === "False" && r.message.includes("1 of 2 updated"),
    );
    expect(conditionOf(waiting, "Ready")).toMatchObject({
      reason: "Progressing",
      message: "waiting for Deployment/web: 1 of 2 updated",
    });
    expect(conditionOf(waiting, "Reconciling")?.status).toBe("True");
    const deployment = await cluster.kubectl([
      "get",
      "deployment",
      "web",
      "-n",
      waiting.status?.namespace ?? "",
      "-o",
      "jsonpath={.status.availableReplicas}/{.status.updatedReplicas}",
    ]);
    // What made the old rule call it Ready: both replicas available (from the old ReplicaSet).
    expect(deployment.stdout).toBe("2/1");
    // And it stays so: several readiness polls later, still not Ready.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const later = await get("ro1");
    expect(conditionOf(later, "Ready")).toMatchObject({
      status: "False",
      message: "waiting for Deployment/web: 1 of 2 updated",
    });

    // A progress deadline the rollout cannot meet: the instance is Stalled with the Deployment's own words.
    await setSpec("ro1", { deadline: 2 });
    const stalled = await waitApp(
      "ro1",
      "Stalled by the progress deadline",
      3,
      (r) => r.reason === "ProgressFailed",
    );
    expect(conditionOf(stalled, "Ready")?.status).toBe("False");
    expect(conditionOf(stalled, "Ready")?.message).toMatch(
      /^Deployment\/web: progress deadline exceeded: ReplicaSet "web-[a-z0-9]+" has timed out progressing/,
    );
    expect(conditionOf(stalled, "Stalled")?.status).toBe("True");
    expect(conditionOf(stalled, "Reconciling")?.status).toBe("False");

    // The next spec change that lets the pods run is tried, and the instance is Ready again.
    await setSpec("ro1", { stuck: false, deadline: 600 });
    await waitApp("ro1", "Ready after the fix", 4, (r) => r.status === "True");
  });
});
