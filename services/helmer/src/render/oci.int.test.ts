// oci:// chart sources against a real OCI registry (CNCF distribution, built from the Go module proxy) on loopback:
// charts pushed with `helm push`, pulled by the helmer's pinned helm, registered as an API and released.
import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContractError, request } from "@kubeplus/contracts";
import {
  compositionManifest,
  conditionOf,
  connectNatsAs,
  ManifestDir,
  platformNamespace,
  pushChart,
  ROOMY_POLICY,
  type RunningService,
  sharedChartPath,
  startHelmer,
  startRegistry,
  tearDownPlatform,
  TestCluster,
  type TestCondition,
  type TestServer,
  waitFor,
  waitForCrd,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("helmer-oci");
const CRD = "ocihellos.platformapi.kubeplus";
let kp = "";
let registry: TestServer;
let helmer: RunningService;
let nc: NatsConnection;

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kpoci");
  registry = await startRegistry(cluster.state);
  for (const version of ["0.0.2", "0.0.3"])
    await pushChart(
      cluster.state,
      registry,
      sharedChartPath(`hello-world-chart-${version}.tgz`),
      "charts",
    );
  helmer = await startHelmer(cluster, kp, `${manifests.dir}/cache`, {
    OCI_PLAIN_HTTP_REGISTRIES: registry.host,
  });
  nc = await connectNatsAs(cluster.state, "crd-hook");
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, { namespace: kp, generatedCrds: [CRD], services: [helmer] });
  await nc.close();
  await registry.stop();
});

describe("oci:// charts", () => {
  it("pulls a pushed chart by tag, and the newest version without one", async () => {
    const ref = `oci://${registry.host}/charts/hello-world-chart`;
    const tagged = await request(
      nc,
      "HelmerRender",
      { version: 1, chartURL: `${ref}:0.0.2`, chartName: "hello-world-chart" },
      { timeoutMs: 30_000 },
    );
    expect(tagged.chart).toMatchObject({ name: "hello-world-chart", version: "0.0.2" });
    expect(tagged.objects.length).toBeGreaterThan(0);
    const newest = await request(
      nc,
      "HelmerRender",
      { version: 1, chartURL: ref, chartName: "hello-world-chart" },
      { timeoutMs: 30_000 },
    );
    expect(newest.chart).toMatchObject({ version: "0.0.3" });
  });

  it("says which reference could not be pulled for a tag the registry does not have", async () => {
    const chartURL = `oci://${registry.host}/charts/hello-world-chart:9.9.9`;
    const failure = await request(
      nc,
      "HelmerRender",
      { version: 1, chartURL, chartName: "hello-world-chart" },
      { timeoutMs: 30_000 },
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ContractError);
    expect((failure as ContractError).code).toBe("ChartUnavailable");
    expect((failure as ContractError).message).toContain(
      `helm pull oci://${registry.host}/charts/hello-world-chart failed`,
    );
  });

  it("registers a composition whose chart is in the registry, and releases an instance from it", async () => {
    const rc = compositionManifest(
      {
        name: "oci-hello",
        namespace: kp,
        kind: "OciHello",
        plural: "ocihellos",
        chartURL: `oci://${registry.host}/charts/hello-world-chart:0.0.3`,
        chartName: "hello-world-chart",
      },
      ROOMY_POLICY,
    );
    expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
    await waitForCrd(cluster, CRD);
    const file = manifests.write("instance", {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "OciHello",
      metadata: { name: "oci-one", namespace: kp },
      spec: {},
    });
    expect((await cluster.kubectl(["create", "-f", file])).code).toBe(0);
    const status = await waitFor(
      async () => {
        const r = await cluster.kubectl(["get", "ocihellos", "oci-one", "-n", kp, "-o", "json"]);
        if (r.code !== 0) return undefined;
        const i = JSON.parse(r.stdout) as {
          status?: { conditions?: TestCondition[]; chart?: unknown };
        };
        return conditionOf(i)?.status === "True" ? i.status : undefined;
      },
      {
        what: "the oci:// instance Ready",
        timeoutMs: 90_000,
        diagnose: () => cluster.diagnose("oci-one"),
      },
    );
    expect(JSON.stringify(status.chart)).toContain("0.0.3");
  });
});
