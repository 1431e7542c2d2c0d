// Issue 24.2: an instance whose pods a ResourceQuota refuses says so in its Ready condition, naming the quota,
// instead of "waiting for Deployment/x: 0 of 1 created" for ever; and a composition whose quota would refuse every
// pod of its chart (no podconfig, containers without resources) is refused by the helmer too.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compositionManifest,
  ManifestDir,
  platformNamespace,
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

const cluster = new TestCluster();
const manifests = new ManifestDir("helmer-quota");
const CRD = "helloworldservices.platformapi.kubeplus";
let kp = "";
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

const fixture = (name: string, kind: string, plural: string) => ({
  name,
  namespace: kp,
  kind,
  plural,
  chartURL: `${charts.url}/hello-world-chart-0.0.3.tgz`,
  chartName: "hello-world-chart",
});

async function readyOf(kind: string, name: string): Promise<TestCondition | undefined> {
  const r = await cluster.kubectl(["get", kind, name, "-n", kp, "-o", "json"]);
  if (r.code !== 0) return undefined;
  const o = JSON.parse(r.stdout) as { status?: { conditions?: TestCondition[] } };
  return o.status?.conditions?.find((c) => c.type === "Ready");
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kpq");
  charts = await serveFiles({
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"));
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, { namespace: kp, generatedCrds: [CRD], services: [helmer] });
  await charts.close();
});

describe("quota refusals", () => {
  it("refuses a composition whose quota would refuse every pod of its chart, naming the containers and the fix", async () => {
    const rc = compositionManifest(fixture("bare", "BareHello", "barehellos"), {
      respolicy: {
        spec: {
          policy: {
            quota: {
              "requests.cpu": "1",
              "requests.memory": "1Gi",
              "limits.cpu": "2",
              "limits.memory": "2Gi",
            },
          },
        },
      },
    });
    expect((await cluster.kubectl(["create", "-f", manifests.write("bare", rc)])).stderr).toBe("");
    const ready = await waitFor(
      async () => {
        const c = await readyOf("resourcecomposition", "bare");
        return c?.status === "False" && c.reason === "ValidationFailed" ? c : undefined;
      },
      { what: "the composition to be refused", timeoutMs: 60_000 },
    );
    expect(ready.message).toMatch(
      /spec\.respolicy\.spec\.policy\.quota: every instance gets a ResourceQuota on requests\.cpu, requests\.memory, limits\.cpu, limits\.memory.*Deployment\/[a-z0-9-]+ container [a-z0-9-]+ \(no requests\.cpu, requests\.memory, limits\.cpu, limits\.memory\)/s,
    );
    expect(ready.message).toContain(
      "Add spec.respolicy.spec.policy.podconfig with requests and limits",
    );
    await cluster.kubectl(["delete", "resourcecomposition", "bare", "-n", kp]);
  });

  it("says in the Ready condition that the instance's pods are refused by its ResourceQuota, naming it", async () => {
    // Room for one pod of podconfig's 100m, and the instance asks for two.
    const rc = compositionManifest(fixture("hello", "HelloWorldService", "helloworldservices"), {
      respolicy: {
        spec: {
          policy: {
            podconfig: {
              requests: { cpu: "100m", memory: "64Mi" },
              limits: { cpu: "200m", memory: "128Mi" },
            },
            quota: {
              "requests.cpu": "150m",
              "requests.memory": "1Gi",
              "limits.cpu": "2",
              "limits.memory": "2Gi",
            },
          },
        },
      },
    });
    expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
    await waitForCrd(cluster, CRD);
    const instance = {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "HelloWorldService",
      metadata: { name: "squeezed", namespace: kp },
      spec: { greeting: "hi", replicas: 2 },
    };
    expect(
      (await cluster.kubectl(["create", "-f", manifests.write("inst", instance)])).stderr,
    ).toBe("");
    const ready = await waitFor(
      async () => {
        const c = await readyOf("helloworldservice", "squeezed");
        return c?.message.includes("ResourceQuota") ? c : undefined;
      },
      {
        what: "the instance's Ready condition to name the quota",
        timeoutMs: 90_000,
        diagnose: async () => JSON.stringify(await readyOf("helloworldservice", "squeezed")),
      },
    );
    expect(ready.status).toBe("False");
    expect(ready.message).toMatch(
      /Deployment\/[a-z0-9-]+: [01] of 2 (created|updated|available); its pods are refused by ResourceQuota kubeplus-quota \(exceeded quota: requested: requests\.cpu=100m/,
    );
  });
});
