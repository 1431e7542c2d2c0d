// The helmer running as the provider's ServiceAccount (no cluster-admin): it creates each tenant's namespace, binds
// itself the tenant role there, installs the release, and grants the instance's creator read access to it alone.
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
  ROOMY_POLICY,
  waitForCrd,
  ManifestDir,
  platformNamespace,
  serveFiles,
  sharedChart,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  waitFor,
  type RunningService,
  instanceNamespace,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("helmer-provider");
const io = new ClusterIO(cluster.kc, "test");
let kp = "";
let provider: IdentityRef;
let providerFile = "";
let aliceFile = "";
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

async function kubeconfigFor(ref: IdentityRef, file: string): Promise<string> {
  const issued = await issueKubeconfig(io, ref, {
    clusterName: ref.serviceAccount,
    durationSeconds: 3600,
  });
  const path = join(manifests.dir, file);
  writeFileSync(path, JSON.stringify(issued.config), { mode: 0o600 });
  return path;
}

const instance = (name: string) => ({
  apiVersion: "platformapi.kubeplus/v1alpha1",
  kind: "HelloWorldService",
  // The creator, as crd-hook's mutating webhook records it at admission (crd-hook does not run in this test).
  metadata: {
    name,
    namespace: kp,
    annotations: { accountidentity: `system:serviceaccount:${kp}:alice` },
  },
  spec: { greeting: `hello ${name}`, replicas: 1 },
});

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kpp");
  provider = { namespace: kp, serviceAccount: AccessNames.Provider };
  await setUpProvider(io, provider, []);
  providerFile = await kubeconfigFor(provider, "provider.json");
  await setUpConsumer(io, { namespace: kp, serviceAccount: "alice" });
  aliceFile = await kubeconfigFor({ namespace: kp, serviceAccount: "alice" }, "alice.json");
  charts = await serveFiles({
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"), {
    KUBECONFIG: providerFile,
  });
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: ["helloworldservices.platformapi.kubeplus"],
    services: [helmer],
  });
  await deleteIdentity(io, { namespace: kp, serviceAccount: "alice" });
  await deleteIdentity(io, provider);
  await charts.close();
});

describe("the helmer as the provider identity", () => {
  it("registers the API, releases each tenant into a namespace it fences, and lets the creator read it, nothing more", async () => {
    expect(helmer.logs().find((l) => l.msg === "helmer started")?.identity).toBe(
      `system:serviceaccount:${kp}:${AccessNames.Provider}`,
    );
    const rc = compositionManifest(
      {
        name: "hello",
        namespace: kp,
        kind: "HelloWorldService",
        plural: "helloworldservices",
        chartURL: `${charts.url}/hello-world-chart-0.0.3.tgz`,
        chartName: "hello-world-chart",
      },
      ROOMY_POLICY,
    );
    // The provider itself registers the composition.
    const created = await cluster.kubectl(
      ["create", "-f", manifests.write("rc", rc)],
      providerFile,
    );
    expect(created.stderr).toBe("");
    await waitForCrd(cluster, "helloworldservices.platformapi.kubeplus");
    await grantConsumerKinds(io, ["helloworldservices"], "platformapi.kubeplus");
    for (const name of ["pa1", "pa2"])
      expect(
        (await cluster.kubectl(["create", "-f", manifests.write(name, instance(name))], aliceFile))
          .stderr,
      ).toBe("");
    for (const name of ["pa1", "pa2"])
      await waitFor(
        async () => {
          const r = await cluster.kubectl([
            "get",
            "helloworldservice",
            name,
            "-n",
            kp,
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
          ]);
          return r.stdout === "True";
        },
        {
          what: `${name} to be Ready, installed by the provider identity`,
          timeoutMs: 90_000,
          diagnose: async () =>
            `${helmer
              .logs()
              .filter((l) => Number(l.level) >= 40)
              .slice(-3)
              .map((l) => String(l.msg) + " " + JSON.stringify(l.err).slice(0, 400))
              .join("\n")}\n${await cluster.diagnose(name)}`,
        },
      );
    const pa1 = await instanceNamespace(cluster, {
      plural: "helloworldservices",
      namespace: kp,
      name: "pa1",
    });
    const binding = await cluster.rbac.readNamespacedRoleBinding({
      name: AccessNames.TenantRole,
      namespace: pa1,
    });
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: AccessNames.Provider, namespace: kp },
    ]);
    // The creator reads its instance's pods and their logs, and cannot change them.
    const pods = await cluster.kubectl(["get", "pods", "-n", pa1, "-o", "name"], aliceFile);
    expect(pods.stderr).toBe("");
    expect(pods.stdout).toContain("pod/");
    const logs = await cluster.kubectl(
      ["logs", "-n", pa1, pods.stdout.trim().split("\n")[0] ?? ""],
      aliceFile,
    );
    expect(logs.stderr).toBe("");
    expect(logs.stdout).toContain("listening on :8080");
    const denied = await cluster.kubectl(["delete", "deployment", "--all", "-n", pa1], aliceFile);
    expect(denied.stderr).toContain("forbidden");
    const foreign = await cluster.kubectl(["get", "pods", "-n", "kube-system"], aliceFile);
    expect(foreign.stderr).toContain("forbidden");
  });

  it("deletes a tenant, namespace and all, as the provider", async () => {
    const pa2 = await instanceNamespace(cluster, {
      plural: "helloworldservices",
      namespace: kp,
      name: "pa2",
    });
    expect((await cluster.kubectl(["get", "namespace", pa2])).code).toBe(0);
    await cluster.kubectl(["delete", "helloworldservice", "pa2", "-n", kp], aliceFile);
    await waitFor(async () => (await cluster.kubectl(["get", "namespace", pa2])).code !== 0, {
      what: "pa2's namespace to be gone",
      timeoutMs: 90_000,
    });
  });
});
