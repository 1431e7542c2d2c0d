import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ManifestDir,
  makeArchive,
  platformNamespace,
  serveFiles,
  sharedChart,
  startHelmer,
  TestCluster,
  waitFor,
  type RunningService,
  tearDownPlatform,
  type TestCondition,
  compositionManifest,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("helmer-rc");
let kp = "";
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

type Condition = TestCondition;
interface Rc {
  status?: {
    conditions?: Condition[];
    crd?: string;
    chart?: { name: string; version: string };
    observedGeneration?: number;
  };
}

const manifest = (name: string, object: object): string => manifests.write(name, object);

async function composition(name: string): Promise<Rc> {
  const r = await cluster.kubectl(["get", "resourcecomposition", name, "-n", kp, "-o", "json"]);
  return JSON.parse(r.stdout) as Rc;
}

const ready = (rc: Rc): Condition | undefined =>
  rc.status?.conditions?.find((c) => c.type === "Ready");

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kpc");
  const grabby = await makeArchive([
    { name: "grabby/Chart.yaml", content: "apiVersion: v2\nname: grabby\nversion: 0.1.0\n" },
    {
      name: "grabby/templates/ns.yaml",
      content: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: grabbed\n",
    },
  ]);
  charts = await serveFiles({
    "/wordpress-chart-0.0.4.tgz": sharedChart("wordpress-chart-0.0.4.tgz"),
    "/grabby-0.1.0.tgz": grabby,
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"));
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: ["wordpressservices.platformapi.kubeplus"],
    services: [helmer],
  });
  await charts.close();
});

describe("composition controller (no webhook running: the controller judges on its own)", () => {
  it("registers the generated API for the walkthrough's composition and reports it in status, Events and objects", async () => {
    const wp = compositionManifest(
      {
        name: "wordpress-service-composition",
        namespace: kp,
        kind: "WordpressService",
        plural: "wordpressservices",
        chartURL: `${charts.url}/wordpress-chart-0.0.4.tgz`,
        chartName: "wordpress-chart",
      },
      {
        respolicy: {
          apiVersion: "workflows.kubeplus/v1alpha1",
          kind: "ResourcePolicy",
          metadata: { name: "wordpress-service-policy" },
          spec: {
            resource: {
              kind: "WordpressService",
              group: "platformapi.kubeplus",
              version: "v1alpha1",
            },
            policy: {
              // With a quota, containers without resources need podconfig's defaults (issue 24.2).
              podconfig: {
                requests: { cpu: "50m", memory: "256Mi" },
                limits: { cpu: "100m", memory: "1Gi" },
              },
              quota: {
                "requests.cpu": "100m",
                "requests.memory": "1Gi",
                "limits.cpu": "200m",
                "limits.memory": "2Gi",
              },
            },
          },
        },
        resmonitor: {
          apiVersion: "workflows.kubeplus/v1alpha1",
          kind: "ResourceMonitor",
          metadata: { name: "wordpress-service-monitor" },
          spec: {
            resource: {
              kind: "WordpressService",
              group: "platformapi.kubeplus",
              version: "v1alpha1",
            },
            monitorRelationships: "all",
          },
        },
      },
    );
    expect((await cluster.kubectl(["create", "-f", manifest("wp", wp)])).stderr).toBe("");
    const rc = await waitFor(
      async () => {
        const c = await composition("wordpress-service-composition");
        return ready(c)?.status === "True" ? c : undefined;
      },
      {
        what: "the composition to become Ready",
        timeoutMs: 60_000,
        diagnose: async () =>
          JSON.stringify(await composition("wordpress-service-composition"), null, 2) +
          "\n" +
          helmer
            .logs()
            .slice(-20)
            .map((l) => JSON.stringify(l))
            .join("\n"),
      },
    );
    expect(ready(rc)).toMatchObject({
      reason: "Registered",
      message: expect.stringContaining(
        "WordpressService is served as wordpressservices.platformapi.kubeplus/v1alpha1 (chart wordpress-chart 0.0.4",
      ) as string,
    });
    expect(rc.status).toMatchObject({
      crd: "wordpressservices.platformapi.kubeplus",
      chart: { name: "wordpress-chart", version: "0.0.4" },
      observedGeneration: 1,
    });

    const table = await cluster.kubectl(["get", "resourcecompositions", "-n", kp]);
    expect(table.stdout).toMatch(
      /wordpress-service-composition\s+WordpressService\s+wordpress-chart\s+True\s+Registered/,
    );
    const instances = await cluster.kubectl(["get", "wordpressservices", "-n", kp]);
    expect(instances.code).toBe(0);
    expect(instances.stderr).toMatch(/No resources found/);
    const policy = await cluster.kubectl([
      "get",
      "resourcepolicy",
      "wordpress-service-policy",
      "-n",
      kp,
      "-o",
      "jsonpath={.spec.policy.quota.limits\\.memory}",
    ]);
    expect(policy.stdout).toBe("2Gi");
    const monitor = await cluster.kubectl([
      "get",
      "resourcemonitor",
      "wordpress-service-monitor",
      "-n",
      kp,
      "-o",
      "jsonpath={.spec.monitorRelationships}",
    ]);
    expect(monitor.stdout).toBe("all");
    const usage = await cluster.core.readNamespacedConfigMap({
      name: "wordpressservice-usage",
      namespace: kp,
    });
    expect(usage.data?.spec).toContain(
      "kind: WordpressService\nmetadata:\n  name: sample-wordpressservice\n  # annotations:\n",
    );
    const events = await cluster.kubectl([
      "get",
      "events",
      "-n",
      kp,
      "--field-selector",
      "reason=Registered",
      "-o",
      "jsonpath={.items[*].involvedObject.name}",
    ]);
    expect(events.stdout).toContain("wordpress-service-composition");
  });

  it("reports on every ResourcePolicy and ResourceMonitor: the embedded ones Applied, one made on its own not applied and why", async () => {
    const readyOf = async (kind: string, name: string): Promise<Condition | undefined> => {
      const r = await cluster.kubectl(["get", kind, name, "-n", kp, "-o", "json"]);
      if (r.code !== 0) return undefined;
      return ready(JSON.parse(r.stdout) as Rc);
    };
    const applied = (kind: string, name: string): Promise<Condition> =>
      waitFor(
        async () => {
          const c = await readyOf(kind, name);
          return c?.reason === "Applied" ? c : undefined;
        },
        { what: `${kind}/${name} Applied`, timeoutMs: 30_000 },
      );
    expect(await applied("resourcepolicy", "wordpress-service-policy")).toMatchObject({
      status: "True",
      message:
        "from ResourceComposition wordpress-service-composition: its pod policy and quota apply to every WordpressService instance",
    });
    expect((await applied("resourcemonitor", "wordpress-service-monitor")).message).toContain(
      "the metrics-collector meters every WordpressService instance",
    );
    const table = await cluster.kubectl(["get", "resourcepolicies", "-n", kp]);
    expect(table.stdout).toMatch(/wordpress-service-policy\s+WordpressService\s+True/);

    const standalone = (name: string, kind: string): string =>
      manifest(name, {
        apiVersion: "workflows.kubeplus/v1alpha1",
        kind: "ResourcePolicy",
        metadata: { name, namespace: kp },
        spec: {
          resource: { kind, group: "platformapi.kubeplus", version: "v1alpha1" },
          policy: { podconfig: { requests: { cpu: "50m" } } },
        },
      });
    for (const [name, kind] of [
      ["extra-policy", "WordpressService"],
      ["stray-policy", "NoSuchService"],
    ] as const)
      expect((await cluster.kubectl(["create", "-f", standalone(name, kind)])).stderr).toBe("");
    const judged = (name: string): Promise<Condition> =>
      waitFor(
        async () => {
          const c = await readyOf("resourcepolicy", name);
          return c?.status === "False" ? c : undefined;
        },
        { what: `resourcepolicy/${name} judged`, timeoutMs: 30_000 },
      );
    expect(await judged("extra-policy")).toMatchObject({
      reason: "NotEmbedded",
      message:
        "not applied: KubePlus uses the ResourcePolicy embedded in ResourceComposition wordpress-service-composition (spec.respolicy); move this spec there and delete this object",
    });
    expect(await judged("stray-policy")).toMatchObject({
      reason: "KindNotRegistered",
      message: expect.stringContaining(
        `no ResourceComposition in namespace ${kp} registers kind 'NoSuchService' in group platformapi.kubeplus`,
      ) as string,
    });
  });

  it("judges a composition it should refuse: Ready=False, Stalled, every problem in the message, no CRD", async () => {
    const bad = compositionManifest(
      {
        name: "grabby",
        namespace: kp,
        kind: "GrabbyApp",
        plural: "grabbyapps",
        chartURL: `${charts.url}/grabby-0.1.0.tgz`,
        chartName: "grabby",
      },
      { respolicy: { spec: { policy: { quota: { "requests.cpu": "1" } } } } },
    );
    expect((await cluster.kubectl(["create", "-f", manifest("bad", bad)])).stderr).toBe("");
    const rc = await waitFor(
      async () => {
        const c = await composition("grabby");
        return ready(c)?.status === "False" ? c : undefined;
      },
      { what: "the bad composition to be judged", timeoutMs: 60_000 },
    );
    expect(ready(rc)?.reason).toBe("ValidationFailed");
    expect(ready(rc)?.message).toContain("ResourceComposition grabby was refused (2 problems)");
    expect(ready(rc)?.message).toContain(
      "chart grabby: Namespace/grabbed: Namespace object is not allowed in the chart. The chart creates a Namespace",
    );
    expect(rc.status?.conditions?.find((c) => c.type === "Stalled")?.status).toBe("True");
    const crd = await cluster.kubectl(["get", "crd", "grabbyapps.platformapi.kubeplus"]);
    expect(crd.stderr).toContain("NotFound");
  });
});
