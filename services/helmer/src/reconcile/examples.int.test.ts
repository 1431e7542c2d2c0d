import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "@kubeplus/dev";
import {
  conditionOf,
  exampleChart,
  ManifestDir,
  platformNamespace,
  serveFiles,
  sharedChart,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  waitFor,
  type RunningService,
  type TestCondition,
} from "@kubeplus/testing";

/**
 * The walkthrough's WordPress composition with two tenants, and our own WordPress + MySQL example: every tenant Ready
 * in its own fenced namespace, with its own volumes and the pod policy on its workloads.
 */
const cluster = new TestCluster();
const manifests = new ManifestDir("helmer-examples");
let kp = "";
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

interface Instance {
  metadata: { generation: number };
  status?: {
    conditions?: TestCondition[];
    observedGeneration?: number;
    helmrelease?: string;
    namespace?: string;
  };
}

const readyInstance = (plural: string, name: string): Promise<Instance> =>
  waitFor(
    async () => {
      const r = await cluster.kubectl(["get", plural, name, "-n", kp, "-o", "json"]);
      const i = r.code === 0 ? (JSON.parse(r.stdout) as Instance) : undefined;
      return conditionOf(i)?.status === "True" &&
        i?.status?.observedGeneration === i?.metadata.generation
        ? i
        : undefined;
    },
    {
      what: `${plural}/${name} Ready`,
      timeoutMs: 120_000,
      // The instance as it stands, and the objects of the namespace its status names (`<instance>-<hash>`, not its
      // name: a diagnosis of a namespace that never exists shows nothing); waitFor adds the helmer's last lines.
      diagnose: async () => {
        const shown = await cluster.kubectl(["get", plural, name, "-n", kp, "-o", "json"]);
        const namespace =
          shown.code === 0 ? (JSON.parse(shown.stdout) as Instance).status?.namespace : undefined;
        const objects = namespace ? await cluster.diagnose(namespace) : "(no status.namespace yet)";
        return `${shown.stdout}${shown.stderr}\n${objects}`;
      },
    },
  );

const create = async (object: object, file: string): Promise<void> => {
  const r = await cluster.kubectl(["create", "-f", manifests.write(file, object)]);
  expect(r.stderr).toBe("");
};
const jsonpath = async (args: string[], path: string): Promise<string> =>
  (await cluster.kubectl([...args, "-o", `jsonpath=${path}`])).stdout;

function composition(file: string, chartURL: string): Record<string, unknown> {
  const rc = parse(readFileSync(file, "utf8")) as {
    metadata: Record<string, unknown>;
    spec: { newResource: Record<string, unknown> };
  };
  rc.metadata.namespace = kp;
  rc.spec.newResource.chartURL = chartURL;
  return rc;
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kpx");
  charts = await serveFiles({
    "/wordpress-chart-0.0.4.tgz": sharedChart("wordpress-chart-0.0.4.tgz"),
    "/wordpress-mysql-0.1.0.tgz": exampleChart(cluster.state.tools.helm, "wordpress-mysql"),
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"));
  const walkthrough = composition(
    join(repoRoot, "e2e", "fixtures", "wordpress-service-composition.yaml"),
    `${charts.url}/wordpress-chart-0.0.4.tgz`,
  );
  // The walkthrough's quota (100m CPU requested in all) cannot hold its chart's two pods once each gets the pod
  // policy's 100m request; the original never applied pod policies, so it never noticed. Room for both:
  const policy = (walkthrough.spec as { respolicy: { spec: { policy: { quota: object } } } })
    .respolicy.spec.policy;
  policy.quota = {
    "requests.cpu": "400m",
    "requests.memory": "4Gi",
    "limits.cpu": "1",
    "limits.memory": "8Gi",
  };
  await create(walkthrough, "walkthrough");
  await create(
    composition(
      join(repoRoot, "examples", "compositions", "wordpress-mysql-composition.yaml"),
      `${charts.url}/wordpress-mysql-0.1.0.tgz`,
    ),
    "wordpress-mysql",
  );
  for (const crd of ["wordpressservices", "wordpressmysqlservices"]) {
    await waitFor(
      async () =>
        (
          await cluster.kubectl([
            "wait",
            "--for=condition=Established",
            `crd/${crd}.platformapi.kubeplus`,
            "--timeout=2s",
          ])
        ).code === 0,
      { what: `the ${crd} CRD`, timeoutMs: 60_000 },
    );
  }
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: [
      "wordpressservices.platformapi.kubeplus",
      "wordpressmysqlservices.platformapi.kubeplus",
    ],
    services: [helmer],
  });
  await charts.close();
});

/** What every tenant namespace must hold: the fences, the quota and the limits, before and beside the chart. */
async function expectFenced(namespace: string): Promise<void> {
  const objects = await cluster.kubectl([
    "get",
    "networkpolicy,resourcequota,limitrange",
    "-n",
    namespace,
    "-o",
    "name",
  ]);
  expect(objects.stdout.trim().split("\n").sort()).toEqual([
    "limitrange/kubeplus-limits",
    "networkpolicy.networking.k8s.io/kubeplus-egress",
    "networkpolicy.networking.k8s.io/restrict-cross-ns-traffic",
    "resourcequota/kubeplus-quota",
  ]);
}

describe("the walkthrough's WordPress and our WordPress + MySQL example", () => {
  it("runs two walkthrough tenants, each Ready on its own node with its own volume and pod policy", async () => {
    for (const [i, tenant] of ["wp-tenant1", "wp-tenant2"].entries()) {
      await create(
        {
          apiVersion: "platformapi.kubeplus/v1alpha1",
          kind: "WordpressService",
          metadata: { name: tenant, namespace: kp },
          spec: { resourceName: `wp-for-tenant${i + 1}`, nodeName: `kwok-node-${i + 1}` },
        },
        tenant,
      );
    }
    const namespaces: string[] = [];
    for (const [i, tenant] of ["wp-tenant1", "wp-tenant2"].entries()) {
      const ready = await readyInstance("wordpressservices", tenant);
      const ns = ready.status?.namespace ?? "";
      namespaces.push(ns);
      expect(ns).toMatch(new RegExp(`^${tenant}-[0-9a-f]{8}$`));
      expect(ready.status?.helmrelease).toBe(`${ns}:wordpressservice-${tenant}`);
      await expectFenced(ns);
      const deploy = ["get", "deployment", "mysql", "-n", ns];
      expect(
        await jsonpath(deploy, "{.spec.template.spec.nodeSelector.kubernetes\\.io/hostname}"),
      ).toBe(`kwok-node-${i + 1}`);
      expect(
        JSON.parse(await jsonpath(deploy, "{.spec.template.spec.containers[0].resources}")),
      ).toEqual({
        requests: { cpu: "100m", memory: "1Gi" },
        limits: { cpu: "200m", memory: "2Gi" },
      });
      const claim = ["get", "pvc", "mysql-pv-claim", "-n", ns];
      expect(await jsonpath(claim, "{.status.phase}")).toBe("Bound");
    }
    // Each tenant's claim is bound to a volume of its own.
    const volumes = await jsonpath(
      ["get", "pv"],
      '{range .items[*]}{.spec.claimRef.namespace}{"/"}{.spec.claimRef.name}{"\\n"}{end}',
    );
    expect(volumes.split("\n")).toEqual(
      expect.arrayContaining(namespaces.map((ns) => `${ns}/mysql-pv-claim`)),
    );
  }, 240_000);

  it("runs our WordPress + MySQL example and keeps its generated database password across an upgrade", async () => {
    await create(
      {
        apiVersion: "platformapi.kubeplus/v1alpha1",
        kind: "WordpressMysqlService",
        metadata: { name: "site1", namespace: kp },
        spec: { tenantName: "site1", nodeName: "kwok-node-2" },
      },
      "site1",
    );
    const site1 = (await readyInstance("wordpressmysqlservices", "site1")).status?.namespace ?? "";
    await expectFenced(site1);
    const secret = ["get", "secret", "wordpressmysqlservice-site1-db", "-n", site1];
    const before = await jsonpath(secret, "{.data.password}");
    expect(before).not.toBe("");
    const patched = await cluster.kubectl([
      "patch",
      "wordpressmysqlservice",
      "site1",
      "-n",
      kp,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { wordpress: { replicas: 2 } } }),
    ]);
    expect(patched.stderr).toBe("");
    await readyInstance("wordpressmysqlservices", "site1");
    expect(await jsonpath(secret, "{.data.password}")).toBe(before);
    const web = ["get", "deployment", "wordpressmysqlservice-site1-wordpress", "-n", site1];
    expect(await jsonpath(web, "{.status.availableReplicas}")).toBe("2");
  }, 240_000);
});
