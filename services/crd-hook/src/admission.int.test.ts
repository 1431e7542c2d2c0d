import { X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "@kubeplus/dev";
import {
  serveFiles,
  serviceEnv,
  sharedChart,
  startService,
  TestCluster,
  waitFor,
  type RunningService,
  tearDownPlatform,
  compositionManifest,
  freePort,
  makeArchive,
  startCrdHook,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const kp = `kp-${Date.now().toString(36)}`;
let helmer: RunningService | undefined;
let hook: RunningService | undefined;
let charts: Awaited<ReturnType<typeof serveFiles>>;
let hookPort = 0;
const dir = mkdtempSync(join(tmpdir(), "crd-hook-int-"));

const startHelmer = (): Promise<RunningService> =>
  startService(
    "helmer",
    serviceEnv(cluster.state, { KUBEPLUS_NAMESPACE: kp, CHART_CACHE_DIR: join(dir, "cache") }),
    (l) => l.msg === "helmer started",
  );
const startHook = (): Promise<RunningService> => startCrdHook(cluster, kp, hookPort);

function servedCertificate(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host: "127.0.0.1", port: hookPort, rejectUnauthorized: false },
      () => {
        resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? "");
        socket.end();
      },
    );
    socket.on("error", reject);
  });
}

function manifest(name: string, object: object): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(object));
  return file;
}

function composition(
  name: string,
  resource: { kind: string; plural: string },
  chartURL: string,
  chartName: string,
  extra: object = {},
) {
  return compositionManifest(
    { name, namespace: kp, ...resource, chartURL, chartName },
    extra as Record<string, unknown>,
  );
}

beforeAll(async () => {
  await cluster.core.createNamespace({
    body: { metadata: { name: kp, labels: { "kubeplus.dev/test": "true" } } },
  });
  const crdDir = join(repoRoot, "deploy", "charts", "kubeplus", "crds");
  const applied = await cluster.kubectl(["apply", "--server-side", "-f", crdDir]);
  expect(applied.stderr).toBe("");
  await cluster.kubectl([
    "wait",
    "--for=condition=Established",
    "crd/resourcecompositions.workflows.kubeplus",
  ]);
  const hostile = await makeArchive([
    { name: "grabby/Chart.yaml", content: "apiVersion: v2\nname: grabby\nversion: 0.1.0\n" },
    {
      name: "grabby/templates/ns.yaml",
      content: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: grabbed\n",
    },
    {
      name: "grabby/templates/agent.yaml",
      content:
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      hostNetwork: true\n      containers: [{name: a, image: x}]\n",
    },
  ]);
  charts = await serveFiles({
    "/wordpress-chart-0.0.4.tgz": sharedChart("wordpress-chart-0.0.4.tgz"),
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
    "/grabby-0.1.0.tgz": hostile,
  });
  hookPort = await freePort();
  helmer = await startHelmer();
  hook = await startHook();
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: ["wordpressservices.platformapi.kubeplus"],
    services: [hook, helmer],
    webhooks: true,
  });
  await charts.close();
});

describe("ResourceComposition admission", () => {
  it("creates the walkthrough's composition (chart served locally) and records who created it", async () => {
    const wp = composition(
      "wordpress-service-composition",
      { kind: "WordpressService", plural: "wordpressservices" },
      `${charts.url}/wordpress-chart-0.0.4.tgz`,
      "wordpress-chart",
      {
        respolicy: {
          apiVersion: "workflows.kubeplus/v1alpha1",
          kind: "ResourcePolicy",
          metadata: { name: "wordpress-service-policy" },
          spec: {
            policy: {
              // With a quota, containers without resources need podconfig's defaults (issue 24.2).
              podconfig: {
                nodeSelector: "values.nodeName",
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
      },
    );
    const created = await cluster.kubectl(["create", "-f", manifest("wp", wp), "-o", "json"]);
    expect(created.stderr).toBe("");
    const stored = JSON.parse(created.stdout) as {
      metadata: { annotations: Record<string, string> };
    };
    expect(stored.metadata.annotations.accountidentity).toBe("kubernetes-admin");
  });

  it("denies a bad composition with one message naming every problem", async () => {
    const bad = composition(
      "bad",
      { kind: "Service", plural: "Bad_Plural" },
      `${charts.url}/grabby-0.1.0.tgz`,
      "grabby",
      {
        respolicy: { spec: { policy: { quota: { "requests.cpu": "1" } } } },
      },
    );
    const result = await cluster.kubectl(["create", "-f", manifest("bad", bad)]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'admission webhook "platform-as-code.crd-binding.v1" denied the request: ResourceComposition bad was refused (5 problems):',
    );
    expect(result.stderr).toContain(
      "spec.newResource.resource.plural: 'Bad_Plural' is not a valid plural",
    );
    expect(result.stderr).toContain(
      "chart grabby: Namespace/grabbed: Namespace object is not allowed in the chart. The chart creates a Namespace",
    );
    expect(result.stderr).toContain(
      "chart grabby: DaemonSet/agent spec.template.spec.hostNetwork: uses the node's network (hostNetwork)",
    );
    expect(result.stderr).toContain(
      "If quota is specified, specify all four values: requests.cpu, requests.memory, limits.cpu, limits.memory. Give all four values or none: requests.memory, limits.cpu, limits.memory missing",
    );
    expect(result.stderr).toContain(
      "spec.newResource.resource.kind: Resource with Kind Name Service exists in the cluster. Kind Service is already served by the cluster (services.core/v1)",
    );
    const listed = await cluster.kubectl(["get", "resourcecompositions", "-n", kp, "-o", "name"]);
    expect(listed.stdout).not.toContain("bad");
  });

  it("denies an unreachable chart and a chartName that does not match, saying what to do", async () => {
    const missing = await cluster.kubectl([
      "create",
      "-f",
      manifest(
        "m",
        composition(
          "m",
          { kind: "MissingApp", plural: "missingapps" },
          "file:///missing-1.0.0.tgz",
          "missing",
        ),
      ),
    ]);
    expect(missing.stderr).toContain(
      "upload it first with 'kubectl upload chart missing-1.0.0.tgz'",
    );
    const wrongName = await cluster.kubectl([
      "create",
      "-f",
      manifest(
        "w",
        composition(
          "w",
          { kind: "WrongName", plural: "wrongnames" },
          `${charts.url}/hello-world-chart-0.0.3.tgz`,
          "hello-world",
        ),
      ),
    ]);
    expect(wrongName.stderr).toContain("set chartName to 'hello-world-chart'");
  });
});

describe("instance admission", () => {
  beforeAll(async () => {
    // The helmer's composition controller registers the generated CRD (with spec.nodeName, for node isolation).
    await waitFor(
      async () =>
        (
          await cluster.kubectl([
            "wait",
            "--for=condition=Established",
            "crd/wordpressservices.platformapi.kubeplus",
            "--timeout=2s",
          ])
        ).code === 0,
      { what: "the helmer to register wordpressservices.platformapi.kubeplus", timeoutMs: 60_000 },
    );
  });

  const instance = (name: string, spec: object = { resourceName: "wp-for-tenant1" }) =>
    manifest(name, {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "WordpressService",
      metadata: { name, namespace: kp },
      spec,
    });

  it("admits a tenant, recording its creator, and denies names that do not fit the release", async () => {
    const good = await waitFor(
      async () => {
        const r = await cluster.kubectl(["create", "-f", instance("wp-tenant1"), "-o", "json"]);
        return r.code === 0 ? r : undefined;
      },
      { what: "wp-tenant1 to be admitted" },
    );
    expect(
      (JSON.parse(good.stdout) as { metadata: { annotations: Record<string, string> } }).metadata
        .annotations.accountidentity,
    ).toBe("kubernetes-admin");
    const long = await cluster.kubectl(["create", "-f", instance(`wp-${"x".repeat(40)}`)]);
    expect(long.stderr).toContain("WordpressService instance names may have at most 36 characters");
  });

  it("denies a tenant pinned to a node that does not exist", async () => {
    const result = await cluster.kubectl([
      "create",
      "-f",
      instance("wp-pinned", { resourceName: "x", nodeName: "no-such-node" }),
    ]);
    // The original's words first, then ours.
    expect(result.stderr).toContain("spec.nodeName: Invalid node name specified no-such-node.");
    expect(result.stderr).toContain('Node "no-such-node" does not exist');
    expect(result.stderr).toContain("use one of kwok-node-0, kwok-node-1, kwok-node-2");
    const ok = await cluster.kubectl([
      "create",
      "-f",
      instance("wp-pinned", { resourceName: "x", nodeName: "kwok-node-1" }),
    ]);
    expect(ok.stderr).toBe("");
  });

  it("enforces a license's instance limit", async () => {
    await cluster.core.createNamespacedConfigMap({
      namespace: kp,
      body: {
        metadata: { name: "wordpressservice-license", annotations: { allowed_instances: "2" } },
        data: { license_file: "ok" },
      },
    });
    const denied = await waitFor(
      async () => {
        const r = await cluster.kubectl(["create", "-f", instance("wp-tenant3")]);
        return r.code !== 0 ? r : undefined;
      },
      { what: "the license to be enforced" },
    );
    expect(denied.stderr).toContain(
      "Allowed number of instances reached. Update license for WordpressService and then re-try. The license for WordpressService allows 2 instance(s) and 2 exist",
    );
    await cluster.core.deleteNamespacedConfigMap({
      name: "wordpressservice-license",
      namespace: kp,
    });
  });

  it("survives a restart: same certificate from its Secret, same knowledge of compositions from the cluster", async () => {
    const before = await servedCertificate();
    await hook!.stop("SIGKILL");
    hook = await startHook();
    expect(await servedCertificate()).toBe(before);
    const secret = await cluster.core.readNamespacedSecret({ name: "crd-hook-tls", namespace: kp });
    expect(
      new X509Certificate(Buffer.from(secret.data!["tls.crt"]!, "base64")).fingerprint256,
    ).toBe(before);
    const long = await cluster.kubectl(["create", "-f", instance(`wp-${"y".repeat(40)}`)]);
    expect(long.stderr).toContain("WordpressService instance names may have at most 36 characters");
  });
});

describe("without the helmer", () => {
  it("denies a composition at once with 'renderer unavailable, retry' instead of hanging", async () => {
    await helmer!.stop();
    helmer = undefined;
    const started = Date.now();
    const result = await cluster.kubectl([
      "create",
      "-f",
      manifest(
        "h",
        composition(
          "hello",
          { kind: "HelloWorldService", plural: "helloworldservices" },
          `${charts.url}/hello-world-chart-0.0.3.tgz`,
          "hello-world-chart",
        ),
      ),
    ]);
    expect(result.stderr).toContain(
      "the chart renderer (helmer) is unavailable, retry in a moment",
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    helmer = await startHelmer();
  });
});
