// Attacks on tenant isolation through a chart and a tenant's own values, as a consumer (and a hostile chart) would try
// them, with the helmer running as the provider's identity (no cluster-admin), as it does in a cluster. Every attack
// is checked by what the cluster holds afterwards, not by what the helmer says alone. Legitimate use of the same
// values (extraDeploy, namespaceOverride, tpl) inside the instance's own namespace is a normal journey here too.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccessNames,
  ClusterIO,
  deleteIdentity,
  grantConsumerKinds,
  issueKubeconfig,
  setUpConsumer,
  setUpProvider,
  type IdentityRef,
} from "@kubeplus/access";
import {
  compositionManifest,
  conditionOf,
  exampleChart,
  instanceNamespace,
  ManifestDir,
  minimalChart,
  platformNamespace,
  ROOMY_POLICY,
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
const manifests = new ManifestDir("attacks-tenancy");
const io = new ClusterIO(cluster.kc, "test");
const KIND = "WebAppService";
const PLURAL = "webappservices";
const CRD = `${PLURAL}.platformapi.kubeplus`;
/** What a tenant must never read: the provider's stored kubeconfig, in the KubePlus namespace. */
const PROVIDER_SECRET = `${AccessNames.Provider}-kubeconfig`;
let kp = "";
/** Alice's shop's namespace (`shop-<hash of its UID>`). */
let shopNs = "";
let provider: IdentityRef;
let providerFile = "";
let aliceFile = "";
let malloryFile = "";
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

async function kubeconfigFor(ref: IdentityRef): Promise<string> {
  const issued = await issueKubeconfig(io, ref, {
    clusterName: ref.serviceAccount,
    durationSeconds: 3600,
  });
  const path = join(manifests.dir, `${ref.serviceAccount}.json`);
  writeFileSync(path, JSON.stringify(issued.config), { mode: 0o600 });
  return path;
}

/** An instance of the Bitnami-style chart, created by a consumer with its own kubeconfig. */
async function createInstance(
  consumer: "alice" | "mallory",
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  const manifest = {
    apiVersion: "platformapi.kubeplus/v1alpha1",
    kind: KIND,
    // The creator, as crd-hook's mutating webhook records it at admission (crd-hook does not run in this file: the
    // helmer must refuse on its own, since the webhook can be down).
    metadata: {
      name,
      namespace: kp,
      annotations: { accountidentity: `system:serviceaccount:${kp}:${consumer}` },
    },
    spec,
  };
  const created = await cluster.kubectl(
    ["create", "-f", manifests.write(name, manifest)],
    consumer === "alice" ? aliceFile : malloryFile,
  );
  expect(created.stderr).toBe("");
}

async function readyOf(name: string): Promise<TestCondition | undefined> {
  const got = await cluster.kubectl(["get", PLURAL, name, "-n", kp, "-o", "json"]);
  return got.code === 0 ? conditionOf(JSON.parse(got.stdout) as never) : undefined;
}

/** Waits until the instance's Ready condition has one of the reasons, and returns it. */
async function settled(name: string, reasons: readonly string[]): Promise<TestCondition> {
  return waitFor(
    async () => {
      const ready = await readyOf(name);
      return ready && reasons.includes(ready.reason) ? ready : undefined;
    },
    { what: `${name} to be ${reasons.join(" or ")}`, timeoutMs: 90_000 },
  );
}

async function exists(kind: string, name: string, namespace: string): Promise<boolean> {
  return (await cluster.kubectl(["get", kind, name, "-n", namespace])).code === 0;
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "atk");
  provider = { namespace: kp, serviceAccount: AccessNames.Provider };
  await setUpProvider(io, provider, []);
  providerFile = await kubeconfigFor(provider);
  await cluster.kubectl([
    "create",
    "secret",
    "generic",
    PROVIDER_SECRET,
    "-n",
    kp,
    "--from-literal=marker=provider-credential-marker",
  ]);
  for (const consumer of ["alice", "mallory"])
    await setUpConsumer(io, { namespace: kp, serviceAccount: consumer });
  aliceFile = await kubeconfigFor({ namespace: kp, serviceAccount: "alice" });
  malloryFile = await kubeconfigFor({ namespace: kp, serviceAccount: "mallory" });
  charts = await serveFiles({
    "/webapp-extras-0.1.0.tgz": exampleChart(cluster.state.tools.helm, "webapp-extras"),
    // A hostile chart: its crds/ folder holds a ConfigMap for the KubePlus namespace.
    "/crds-configmap-0.1.0.tgz": await minimalChart("crds-configmap", [
      {
        name: "crds-configmap/crds/planted.yaml",
        content: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: planted\n  namespace: ${kp}\ndata:\n  by: chart\n`,
      },
    ]),
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"), {
    KUBECONFIG: providerFile,
  });
  const rc = compositionManifest(
    {
      name: "webapp",
      namespace: kp,
      kind: KIND,
      plural: PLURAL,
      chartURL: `${charts.url}/webapp-extras-0.1.0.tgz`,
      chartName: "webapp-extras",
    },
    ROOMY_POLICY,
  );
  const created = await cluster.kubectl(["create", "-f", manifests.write("rc", rc)], providerFile);
  expect(created.stderr).toBe("");
  await waitForCrd(cluster, CRD);
  await grantConsumerKinds(io, [PLURAL], "platformapi.kubeplus");
  // Alice's shop: the Bitnami-style values used as intended, inside its own namespace. That namespace is named
  // after the instance's UID, so namespaceOverride can name it only once the instance exists: set just below.
  await createInstance("alice", "shop", {
    appName: "shop",
    greeting: "Welcome to {{ .Values.appName }} in {{ .Release.Namespace }}",
    extraDeploy: [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "extra-settings", namespace: "{{ .Release.Namespace }}" },
        data: { owner: "{{ .Values.appName }}" },
      },
    ],
  });
  shopNs = await instanceNamespace(cluster, { plural: PLURAL, namespace: kp, name: "shop" });
  const patched = await cluster.kubectl(
    [
      "patch",
      PLURAL,
      "shop",
      "-n",
      kp,
      "--type",
      "merge",
      "-p",
      JSON.stringify({ spec: { namespaceOverride: shopNs } }),
    ],
    aliceFile,
  );
  expect(patched.stderr).toBe("");
}, 240_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: [CRD, "crdsconfigmapservices.platformapi.kubeplus"],
    services: [helmer],
  });
  for (const consumer of ["alice", "mallory"])
    await deleteIdentity(io, { namespace: kp, serviceAccount: consumer });
  await deleteIdentity(io, provider);
  await charts.close();
}, 240_000);

describe("attacks on tenancy through a chart and a tenant's values", () => {
  it("legitimate extraDeploy, namespaceOverride and tpl work inside the instance's own namespace", async () => {
    // Settled at the generation that set namespaceOverride.
    const ready = await waitFor(
      async () => {
        const got = await cluster.kubectl(["get", PLURAL, "shop", "-n", kp, "-o", "json"]);
        const shop = JSON.parse(got.stdout) as {
          metadata: { generation: number };
          status?: { observedGeneration?: number; conditions?: TestCondition[] };
        };
        const c = conditionOf(shop);
        return shop.status?.observedGeneration === shop.metadata.generation &&
          c &&
          ["Ready", "IsolationRefused", "InstallFailed"].includes(c.reason)
          ? c
          : undefined;
      },
      { what: "shop to settle with its namespaceOverride", timeoutMs: 90_000 },
    );
    expect(ready).toMatchObject({ status: "True", reason: "Ready" });
    const extra = await cluster.kubectl([
      "get",
      "configmap",
      "extra-settings",
      "-n",
      shopNs,
      "-o",
      "jsonpath={.data.owner}",
    ]);
    expect(extra.stdout).toBe("shop");
    const page = await cluster.kubectl([
      "get",
      "configmap",
      "webappservice-shop-page",
      "-n",
      shopNs,
      "-o",
      "jsonpath={.data.index\\.html}",
    ]);
    expect(page.stdout).toBe(`Welcome to shop in ${shopNs}`);
    // The chart's own ServiceAccount, Role and RoleBinding are allowed.
    expect(await exists("rolebinding", "webappservice-shop-webapp", shopNs)).toBe(true);
  });

  it("a RoleBinding in the KubePlus namespace, put there through extraDeploy, is refused: the consumer never becomes the provider", async () => {
    await createInstance("mallory", "m-bind", {
      extraDeploy: [
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: "pwn", namespace: kp },
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "ClusterRole",
            name: AccessNames.TenantRole,
          },
          subjects: [{ kind: "ServiceAccount", name: "mallory", namespace: kp }],
        },
      ],
    });
    const ready = await settled("m-bind", ["Ready", "IsolationRefused", "InstallFailed"]);
    expect(ready.reason).toBe("IsolationRefused");
    expect(ready.message).toContain(`RoleBinding/pwn metadata.namespace: is '${kp}'`);
    expect(await exists("rolebinding", "pwn", kp)).toBe(false);
    const read = await cluster.kubectl(["get", "secret", PROVIDER_SECRET, "-n", kp], malloryFile);
    expect(read.code).not.toBe(0);
    expect(read.stderr).toMatch(/forbidden/);
  });

  it("a tpl value with lookup cannot copy the provider's Secret: helm runs with rights in the instance's namespace only", async () => {
    await createInstance("mallory", "m-lookup", {
      extraDeploy: [
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "loot" },
          stringData: {
            stolen: `{{ (lookup "v1" "Secret" "${kp}" "${PROVIDER_SECRET}").data | toJson }}`,
          },
        },
      ],
    });
    const ready = await settled("m-lookup", ["Ready", "IsolationRefused", "InstallFailed"]);
    expect(ready.status).toBe("False");
    expect(ready.message).toMatch(/forbidden/);
    const lootNs = await instanceNamespace(cluster, {
      plural: PLURAL,
      namespace: kp,
      name: "m-lookup",
    });
    const loot = await cluster.kubectl(["get", "secret", "loot", "-n", lootNs, "-o", "json"]);
    const marker = Buffer.from("provider-credential-marker").toString("base64");
    expect(loot.stdout).not.toContain(marker);
    expect(loot.code).not.toBe(0);
  });

  it("namespaceOverride naming another tenant's namespace is refused, and nothing lands in that tenant's fence", async () => {
    // Learnt somehow (a Service's DNS name gives it away): the attack must not depend on its being secret.
    await createInstance("mallory", "m-neighbour", { namespaceOverride: shopNs });
    const ready = await settled("m-neighbour", ["Ready", "IsolationRefused", "InstallFailed"]);
    expect(ready.reason).toBe("IsolationRefused");
    const own = await instanceNamespace(cluster, {
      plural: PLURAL,
      namespace: kp,
      name: "m-neighbour",
    });
    expect(ready.message).toContain(`is '${shopNs}', outside this instance's namespace '${own}'`);
    expect(await exists("deployment", "webappservice-m-neighbour-webapp", shopNs)).toBe(false);
  });

  it("namespaceOverride to the KubePlus namespace with the provider's ServiceAccount is refused: no consumer pod next to NATS", async () => {
    await createInstance("mallory", "m-kubeplus", {
      namespaceOverride: kp,
      serviceAccount: { create: false, name: AccessNames.Provider },
    });
    const ready = await settled("m-kubeplus", ["Ready", "IsolationRefused", "InstallFailed"]);
    expect(ready.reason).toBe("IsolationRefused");
    expect(ready.message).toContain(
      `Deployment/webappservice-m-kubeplus-webapp metadata.namespace`,
    );
    expect(ready.message).toContain(
      `spec.template.spec.serviceAccountName: runs as ServiceAccount '${AccessNames.Provider}'`,
    );
    expect(await exists("deployment", "webappservice-m-kubeplus-webapp", kp)).toBe(false);
  });

  it("a RoleBinding to cluster-admin inside the instance's own namespace is refused", async () => {
    await createInstance("mallory", "m-admin", {
      extraDeploy: [
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: "admin-here" },
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "ClusterRole",
            name: "cluster-admin",
          },
          subjects: [
            { kind: "ServiceAccount", name: "default", namespace: "{{ .Release.Namespace }}" },
          ],
        },
      ],
    });
    const ready = await settled("m-admin", ["Ready", "IsolationRefused", "InstallFailed"]);
    expect(ready.reason).toBe("IsolationRefused");
    expect(ready.message).toContain(
      "RoleBinding/admin-here roleRef: binds ClusterRole 'cluster-admin'",
    );
    const own = await instanceNamespace(cluster, {
      plural: PLURAL,
      namespace: kp,
      name: "m-admin",
    });
    expect(await exists("rolebinding", "admin-here", own)).toBe(false);
  });

  it("a chart's crds/ folder holding anything but CRDs of the composition's groups refuses the composition, and nothing of it is applied", async () => {
    const rc = compositionManifest({
      name: "crds-configmap",
      namespace: kp,
      kind: "CrdsConfigmapService",
      plural: "crdsconfigmapservices",
      chartURL: `${charts.url}/crds-configmap-0.1.0.tgz`,
      chartName: "crds-configmap",
    });
    const created = await cluster.kubectl(
      ["create", "-f", manifests.write("rc-crds", rc)],
      providerFile,
    );
    expect(created.stderr).toBe("");
    const ready = await waitFor(
      async () => {
        const got = await cluster.kubectl([
          "get",
          "resourcecomposition",
          "crds-configmap",
          "-n",
          kp,
          "-o",
          "json",
        ]);
        const c = conditionOf(JSON.parse(got.stdout) as never);
        return c && c.reason !== "Registering" ? c : undefined;
      },
      { what: "the composition to be judged", timeoutMs: 60_000 },
    );
    expect(ready).toMatchObject({ status: "False", reason: "ValidationFailed" });
    expect(ready.message).toContain("crds/ document 1 (ConfigMap/planted)");
    expect(await exists("configmap", "planted", kp)).toBe(false);
  });
});
