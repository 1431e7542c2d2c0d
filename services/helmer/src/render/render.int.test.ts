import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "@kubeplus/contracts";
import {
  connectNatsAs,
  type RunningService,
  serveFiles,
  serviceEnv,
  sharedChart,
  startService,
  TestCluster,
} from "@kubeplus/testing";
import {
  UPLOADED_CHART_DIGEST_ANNOTATION,
  UPLOADED_CHART_FILE_ANNOTATION,
  UPLOADED_CHART_KEY,
  UPLOADED_CHART_LABEL,
  digestOf,
  uploadedChartConfigMapName,
} from "@kubeplus/charts";

const cluster = new TestCluster();
let helmer: RunningService;
let nc: NatsConnection;
let charts: Awaited<ReturnType<typeof serveFiles>>;
let namespace: string;

beforeAll(async () => {
  namespace = `helmer-${Date.now().toString(36)}`;
  await cluster.core.createNamespace({
    body: { metadata: { name: namespace, labels: { "kubeplus.dev/test": "true" } } },
  });
  charts = await serveFiles({
    "/wordpress-chart-0.0.4.tgz": sharedChart("wordpress-chart-0.0.4.tgz"),
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
  });
  helmer = await startService(
    "helmer",
    serviceEnv(cluster.state, {
      KUBEPLUS_NAMESPACE: namespace,
      CHART_CACHE_DIR: `${cluster.state.runDir}/helmer-test-cache`,
    }),
    (l) => l.msg === "helmer started",
  );
  // Renders are served once the helmer is on NATS (its TLS handshake may finish after "helmer started").
  await helmer.waitForLog((l) => l.msg === "connected to NATS");
  nc = await connectNatsAs(cluster.state, "crd-hook");
});

afterAll(async () => {
  await nc.close();
  await helmer.stop();
  await charts.close();
  await cluster.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe("helmer render over NATS", () => {
  it("fetches a chart over HTTP, renders it with the pinned helm and replies with its objects and values", async () => {
    const reply = await request(
      nc,
      "HelmerRender",
      {
        version: 1,
        chartURL: `${charts.url}/wordpress-chart-0.0.4.tgz`,
        chartName: "wordpress-chart",
        values: { resourceName: "wp-for-tenant1" },
      },
      { timeoutMs: 20_000 },
    );
    expect(reply.chart).toMatchObject({ name: "wordpress-chart", version: "0.0.4" });
    expect(reply.values).toEqual({ resourceName: "wp-stack1" });
    const names = reply.objects.map(
      (o) => `${String(o.kind)}/${(o.metadata as { name: string }).name}`,
    );
    expect(names).toEqual(
      expect.arrayContaining([
        "PersistentVolumeClaim/wp-for-tenant1",
        "Deployment/wp-for-tenant1",
        "Service/wordpress-mysql",
        "Deployment/mysql",
      ]),
    );
  });

  it("serves a repeated request from its caches without fetching again", async () => {
    const url = `${charts.url}/hello-world-chart-0.0.3.tgz`;
    const before = charts.requests.filter((r) => r.endsWith("hello-world-chart-0.0.3.tgz")).length;
    for (let i = 0; i < 3; i++) {
      await request(
        nc,
        "HelmerRender",
        { version: 1, chartURL: url, chartName: "hello-world-chart" },
        { timeoutMs: 20_000 },
      );
    }
    expect(
      charts.requests.filter((r) => r.endsWith("hello-world-chart-0.0.3.tgz")).length - before,
      JSON.stringify(charts.requests),
    ).toBe(1);
  });

  it("renders a chart uploaded into the cluster (file:///), read from its ConfigMap", async () => {
    const archive = sharedChart("hello-world-chart-0.0.3.tgz");
    await cluster.core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: {
          name: uploadedChartConfigMapName("hello-world-chart-0.0.3.tgz"),
          labels: { [UPLOADED_CHART_LABEL]: "true" },
          annotations: {
            [UPLOADED_CHART_FILE_ANNOTATION]: "hello-world-chart-0.0.3.tgz",
            [UPLOADED_CHART_DIGEST_ANNOTATION]: digestOf(archive),
          },
        },
        binaryData: { [UPLOADED_CHART_KEY]: archive.toString("base64") },
      },
    });
    const reply = await (async () => {
      for (let i = 0; ; i++) {
        try {
          return await request(
            nc,
            "HelmerRender",
            {
              version: 1,
              chartURL: "file:///hello-world-chart-0.0.3.tgz",
              chartName: "hello-world-chart",
            },
            { timeoutMs: 20_000 },
          );
        } catch (err) {
          if (i > 20) throw err;
          await new Promise((r) => setTimeout(r, 200)); // the watch delivers the ConfigMap shortly
        }
      }
    })();
    expect(reply.chart.digest).toBe(digestOf(archive));
    expect(reply.objects.map((o) => o.kind)).toEqual(["Service", "Deployment"]);
  });

  it("answers with a typed, actionable error for a missing upload, a 404 and a wrong chartName", async () => {
    await expect(
      request(
        nc,
        "HelmerRender",
        { version: 1, chartURL: "file:///nope-1.0.0.tgz", chartName: "nope" },
        { timeoutMs: 20_000 },
      ),
    ).rejects.toMatchObject({
      code: "ChartUnavailable",
      message: expect.stringMatching(
        /upload it first with 'kubectl upload chart nope-1.0.0.tgz'/,
      ) as string,
    });
    await expect(
      request(
        nc,
        "HelmerRender",
        { version: 1, chartURL: `${charts.url}/missing.tgz`, chartName: "missing" },
        { timeoutMs: 20_000 },
      ),
    ).rejects.toMatchObject({
      code: "ChartUnavailable",
      message: expect.stringMatching(/HTTP 404/) as string,
    });
    await expect(
      request(
        nc,
        "HelmerRender",
        { version: 1, chartURL: `${charts.url}/wordpress-chart-0.0.4.tgz`, chartName: "wordpress" },
        { timeoutMs: 20_000 },
      ),
    ).rejects.toMatchObject({
      code: "ChartInvalid",
      message: expect.stringMatching(/set chartName to 'wordpress-chart'/) as string,
    });
  });
});
