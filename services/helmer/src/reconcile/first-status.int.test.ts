import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compositionManifest,
  conditionOf,
  ManifestDir,
  platformNamespace,
  ROOMY_POLICY,
  serveFiles,
  sharedChart,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  waitFor,
  waitForCrd,
  type RunningService,
  type TestCondition,
} from "@kubeplus/testing";

/**
 * An instance says what it waits for within seconds, whatever the helmer is busy with (issue 19: on a loaded machine
 * a WordPress + MySQL instance had no status at all for 120 s). Helm is made slow (every install takes 20 s more)
 * and the helmer has one worker: the second instance waits for the first one's helm run, and says so.
 */
const cluster = new TestCluster();
const manifests = new ManifestDir("helmer-first-status");
const CRD = "helloworldservices.platformapi.kubeplus";
const HELM_DELAY_S = 20;
/** The promise: a new instance's status is never empty for longer than this. */
const SAYS_WITHIN_MS = 5_000;
let kp = "";
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

interface Hs {
  metadata: { generation: number };
  status?: { conditions?: TestCondition[]; observedGeneration?: number };
}

async function get(name: string): Promise<Hs | undefined> {
  const r = await cluster.kubectl(["get", "helloworldservice", name, "-n", kp, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as Hs) : undefined;
}

/** Creates an instance and returns its first Ready condition and how long after the creation it appeared. */
async function createAndTime(name: string): Promise<{ ready: TestCondition; afterMs: number }> {
  const file = manifests.write(name, {
    apiVersion: "platformapi.kubeplus/v1alpha1",
    kind: "HelloWorldService",
    metadata: { name, namespace: kp },
    spec: { greeting: name, replicas: 1 },
  });
  expect((await cluster.kubectl(["create", "-f", file])).stderr).toBe("");
  const created = Date.now();
  const ready = await waitFor(async () => conditionOf(await get(name)), {
    what: `any status of ${name}`,
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  return { ready, afterMs: Date.now() - created };
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kpf");
  charts = await serveFiles({
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
  });
  // Helm as a slow machine runs it: every install or upgrade takes HELM_DELAY_S longer.
  const slowHelm = join(manifests.dir, "slow-helm");
  writeFileSync(
    slowHelm,
    `#!/bin/sh\nif [ "$1" = upgrade ]; then sleep ${String(HELM_DELAY_S)}; fi\nexec '${cluster.state.tools.helm}' "$@"\n`,
  );
  chmodSync(slowHelm, 0o755);
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"), {
    HELM_BIN: slowHelm,
    WORKERS: "1",
  });
  const rc = compositionManifest(
    {
      name: "hello-world-service-composition",
      namespace: kp,
      kind: "HelloWorldService",
      plural: "helloworldservices",
      chartURL: `${charts.url}/hello-world-chart-0.0.3.tgz`,
      chartName: "hello-world-chart",
    },
    ROOMY_POLICY,
  );
  expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
  await waitForCrd(cluster, CRD);
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, { namespace: kp, generatedCrds: [CRD], services: [helmer] });
  await charts.close();
});

describe("an instance's first status", () => {
  it("comes within seconds while helm is slow and the only worker is busy: Preparing, then Queued behind the other instance", async () => {
    const first = await createAndTime("first");
    expect(first.ready.status).toBe("False");
    expect(["Preparing", "Installing"]).toContain(first.ready.reason);
    expect(first.afterMs).toBeLessThan(SAYS_WITHIN_MS);
    // The first instance's helm run holds the only worker now.
    await waitFor(async () => conditionOf(await get("first"))?.reason === "Installing", {
      what: "first Installing",
      timeoutMs: 30_000,
    });
    const second = await createAndTime("second");
    expect(second.ready).toMatchObject({ status: "False", reason: "Queued" });
    expect(second.ready.message).toBe(
      "waiting for a free worker of the helmer: 1 reconciles ahead of it",
    );
    expect(second.afterMs).toBeLessThan(SAYS_WITHIN_MS);
    // Each then goes its way: the second Installing once the only worker is free, both Ready once their workloads
    // are (the first one's readiness polls wait behind the second one's helm run: one worker).
    const reasons = new Set<string>();
    await waitFor(
      async () => {
        const [one, two] = [conditionOf(await get("first")), conditionOf(await get("second"))];
        if (two) reasons.add(two.reason);
        return one?.status === "True" && two?.status === "True";
      },
      { what: "first and second Ready", timeoutMs: 120_000, intervalMs: 250 },
    );
    expect(reasons).toContain("Installing");
  }, 240_000);
});
