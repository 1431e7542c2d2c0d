// The provider and consumer identities, proven with the generated kubeconfigs making real requests: every allowed
// action succeeds, every denied one is refused by the apiserver (RBAC or an admission policy), and
// create -> update -> revoke -> delete leaves the cluster as it was.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chartYaml,
  makeArchive,
  ManifestDir,
  platformNamespace,
  TestCluster,
  waitFor,
} from "@kubeplus/testing";

const run = promisify(execFile);
const cluster = new TestCluster();
const CLI = fileURLToPath(new URL("../../cli/dist/provider-kubeconfig/main.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "provider-kubeconfig-"));
const manifests = new ManifestDir("provider-kubeconfig");

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function providerKubeconfig(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run("node", [CLI, ...args, "-k", cluster.state.kubeconfig], {
      cwd: work,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const pluginDir = join(work, "bin");

/** kubectl with the plugins on PATH, found through its own plugin discovery. */
async function kubectlPlugin(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(cluster.state.tools.kubectl, args, {
      cwd: work,
      env: { ...process.env, PATH: `${pluginDir}:${process.env.PATH ?? ""}` },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

let kpNamespace = "";
let provider = "";
let before = "";

/** What create/update/delete may touch: cluster-wide RBAC and policies, and the namespace's identity objects. */
async function accessSnapshot(): Promise<string> {
  const clusterWide = await cluster.kubectl([
    "get",
    "clusterroles,clusterrolebindings,validatingadmissionpolicies,validatingadmissionpolicybindings",
    "-o",
    "name",
  ]);
  const inNamespace = await cluster.kubectl([
    "get",
    "serviceaccounts,secrets,configmaps,rolebindings",
    "-n",
    kpNamespace,
    "-o",
    "name",
  ]);
  const ns = await cluster.kubectl(["get", "namespace", kpNamespace, "-o", "json"]);
  const meta = (JSON.parse(ns.stdout) as { metadata: { labels?: object; annotations?: object } })
    .metadata;
  return JSON.stringify({
    clusterWide: clusterWide.stdout.split("\n").sort(),
    inNamespace: inNamespace.stdout.split("\n").sort(),
    labels: meta.labels,
    annotations: meta.annotations ?? {},
  });
}

/** kubectl as the given kubeconfig; expects the apiserver to refuse, and returns its message. */
async function denied(kubeconfig: string, args: string[]): Promise<string> {
  const result = await cluster.kubectl(args, kubeconfig);
  expect(result.code, `expected "kubectl ${args.join(" ")}" to be refused`).not.toBe(0);
  expect(result.stderr).toMatch(/Forbidden|forbidden/);
  return result.stderr;
}

async function allowed(kubeconfig: string, args: string[]): Promise<string> {
  const result = await cluster.kubectl(args, kubeconfig);
  expect(result.stderr, `"kubectl ${args.join(" ")}"`).toBe("");
  expect(result.code).toBe(0);
  return result.stdout;
}

function managedNamespace(name: string, security = "baseline"): object {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      labels: {
        "app.kubernetes.io/managed-by": "kubeplus",
        "pod-security.kubernetes.io/enforce": security,
      },
    },
  };
}

/** The provider's RoleBinding in an instance namespace, as the helmer makes it. */
function tenantBinding(namespace: string): object {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: {
      name: "kubeplus-saas-provider-tenant",
      namespace,
      labels: {
        "app.kubernetes.io/managed-by": "kubeplus",
        "kubeplus.dev/identity": "kubeplus-saas-provider",
      },
    },
    roleRef: {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: "kubeplus-saas-provider-tenant",
    },
    subjects: [{ kind: "ServiceAccount", name: "kubeplus-saas-provider", namespace: kpNamespace }],
  };
}

function crd(group: string, kind: string): object {
  const plural = `${kind.toLowerCase()}s`;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: "v1alpha1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: "object",
              "x-kubernetes-preserve-unknown-fields": true,
            },
          },
        },
      ],
    },
  };
}

const suffix = Date.now().toString(36);
const tenant = `kp-tenant-${suffix}`;
const consumerNs = { alice: `kp-alice-${suffix}`, bob: `kp-bob-${suffix}` };
const appKind = `App${suffix.replace(/[^a-z]/g, "")}`;
const appPlural = `${appKind.toLowerCase()}s`;

beforeAll(async () => {
  await run("node", [
    fileURLToPath(new URL("../../cli/dist/install-plugins/main.js", import.meta.url)),
    pluginDir,
  ]);
  kpNamespace = await platformNamespace(cluster, "kp-access");
  before = await accessSnapshot();
  const created = await providerKubeconfig(["create", kpNamespace]);
  expect(created.stderr).toBe("");
  expect(created.code).toBe(0);
  expect(created.stdout).toContain("Provider kubeconfig created: kubeplus-saas-provider.json");
  provider = join(work, "kubeplus-saas-provider.json");
});

afterAll(async () => {
  for (const ns of [tenant, consumerNs.alice, consumerNs.bob])
    await cluster.kubectl(["delete", "namespace", ns, "--ignore-not-found", "--wait=false"]);
  await cluster.kubectl([
    "delete",
    "crd",
    `${appPlural}.platformapi.kubeplus`,
    "--ignore-not-found",
  ]);
  await cluster.kubectl(["delete", "namespace", kpNamespace, "--wait=false"]);
});

describe("provider-kubeconfig", () => {
  it("answers --help with every action and flag, and refuses bad usage with exit code 1", async () => {
    const help = await providerKubeconfig(["--help"]);
    expect(help.code).toBe(0);
    for (const word of ["create", "update", "revoke", "extract", "delete"])
      expect(help.stdout).toContain(word);
    for (const flag of ["--kubeconfig", "--apiserverurl", "--filename", "--clustername"])
      expect(help.stdout).toContain(flag);
    for (const flag of ["--permissionfile", "--consumer", "--duration", "--legacy-token"])
      expect(help.stdout).toContain(flag);

    const noFile = await providerKubeconfig(["update", kpNamespace]);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain("pass -p/--permissionfile");
    const badAction = await providerKubeconfig(["destroy", kpNamespace]);
    expect(badAction.code).toBe(1);
    expect(badAction.stderr).toContain('got "destroy"');
    const missing: CliResult = await run("node", [CLI, "create", "x", "-k", "/nonexistent"]).then(
      (r) => ({ ...r, code: 0 }),
      (e: unknown) => e as CliResult,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("kubeconfig /nonexistent does not exist");
  });

  it("writes a kubeconfig a reviewer would sign: cluster CA, namespace, bound expiring token; create again is idempotent", async () => {
    const config = JSON.parse(readFileSync(provider, "utf8")) as {
      clusters: { cluster: Record<string, string> }[];
      contexts: { context: { namespace: string } }[];
      users: { user: { token: string } }[];
    };
    const ca = await cluster.core.readNamespacedConfigMap({
      name: "kube-root-ca.crt",
      namespace: kpNamespace,
    });
    const clusterEntry = config.clusters[0]?.cluster ?? {};
    expect(clusterEntry["insecure-skip-tls-verify"]).toBeUndefined();
    expect(Buffer.from(clusterEntry["certificate-authority-data"] ?? "", "base64").toString()).toBe(
      ca.data?.["ca.crt"],
    );
    expect(config.contexts[0]?.context.namespace).toBe(kpNamespace);
    // A bound token (a JWT with an expiry about a year away), not a legacy Secret token.
    const token = config.users[0]?.user.token ?? "";
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as {
      exp: number;
    };
    const days = (claims.exp * 1000 - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(360);
    expect(days).toBeLessThan(367);
    const secrets = await cluster.core.listNamespacedSecret({ namespace: kpNamespace });
    expect(secrets.items.map((s) => s.metadata?.name)).toContain(
      "kubeplus-saas-provider-kubeconfig",
    );
    expect(secrets.items.map((s) => s.type)).not.toContain("kubernetes.io/service-account-token");

    const again = await providerKubeconfig(["create", kpNamespace, "-s", "127.0.0.1:6443"]);
    expect(again.code).toBe(0);
    const redone = JSON.parse(readFileSync(provider, "utf8")) as typeof config;
    expect(redone.clusters[0]?.cluster.server).toBe("https://127.0.0.1:6443");
    await providerKubeconfig(["extract", kpNamespace]);
    expect(
      await allowed(provider, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]),
    ).toBe(`system:serviceaccount:${kpNamespace}:kubeplus-saas-provider`);
  });

  it("lets the provider do its job: compositions, its CRDs and webhooks, managed namespaces and what charts put in them", async () => {
    await allowed(provider, ["get", "resourcecompositions", "-n", kpNamespace, "-o", "name"]);
    await allowed(provider, [
      "create",
      "-f",
      manifests.write("app-crd", crd("platformapi.kubeplus", appKind)),
    ]);
    await allowed(provider, [
      "create",
      "-f",
      manifests.write("tenant-ns", managedNamespace(tenant)),
    ]);
    await allowed(provider, [
      "create",
      "rolebinding",
      "kubeplus-saas-provider-tenant",
      "-n",
      tenant,
      "--clusterrole",
      "kubeplus-saas-provider-tenant",
      `--serviceaccount=${kpNamespace}:kubeplus-saas-provider`,
    ]);
    await waitFor(
      async () => {
        const r = await cluster.kubectl(["get", "secrets", "-n", tenant], provider);
        if (r.code !== 0) throw new Error(r.stderr);
        return true;
      },
      { what: "the tenant RoleBinding to take effect" },
    );
    await allowed(provider, ["create", "deployment", "web", "--image=nginx", "-n", tenant]);
    await allowed(provider, [
      "create",
      "secret",
      "generic",
      "db",
      "--from-literal=p=x",
      "-n",
      tenant,
    ]);
    await allowed(provider, ["get", "secret", "db", "-n", tenant]);
    const webhook = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: `kubeplus-test-${suffix}` },
      webhooks: [
        {
          name: "test.kubeplus.dev",
          admissionReviewVersions: ["v1"],
          sideEffects: "None",
          clientConfig: {
            service: { namespace: kpNamespace, name: "crd-hook", path: "/validate" },
          },
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
    };
    await allowed(provider, ["create", "-f", manifests.write("webhook-ok", webhook)]);
    await allowed(provider, ["delete", "validatingwebhookconfiguration", webhook.metadata.name]);
  });

  it("installs a chart shaped like KubePlus's own with helm and the provider kubeconfig, and uninstalls it", async () => {
    // What the deploy chart holds: the platform CRDs (crds/), a ServiceAccount with a Role, a Deployment, a Service,
    // a PodDisruptionBudget, a NetworkPolicy and a webhook configuration of KubePlus's own groups.
    const crdsDir = fileURLToPath(new URL("../../deploy/charts/kubeplus/crds", import.meta.url));
    const crdFiles = ["resourcecompositions", "resourcepolicies", "resourcemonitors"].map((n) => ({
      name: `kubeplus-like/crds/${n}.workflows.kubeplus.yaml`,
      content: readFileSync(join(crdsDir, `${n}.workflows.kubeplus.yaml`), "utf8"),
    }));
    const templates = `apiVersion: v1
kind: ServiceAccount
metadata: {name: kp-like}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kp-like}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kp-like}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kp-like}
subjects: [{kind: ServiceAccount, name: kp-like, namespace: "{{ .Release.Namespace }}"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: kp-like}
spec:
  replicas: 1
  selector: {matchLabels: {app: kp-like}}
  template:
    metadata: {labels: {app: kp-like}}
    spec:
      serviceAccountName: kp-like
      securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: helmer
          image: kubeplus/helmer
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata: {name: kp-like}
spec: {selector: {app: kp-like}, ports: [{port: 443}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: kp-like}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: kp-like}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: kp-like}
spec: {podSelector: {}, policyTypes: [Ingress], ingress: [{from: [{podSelector: {}}]}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: kubeplus-like-{{ .Release.Namespace }}}
webhooks:
  - name: like.kubeplus.dev
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Ignore
    clientConfig: {service: {name: kp-like, namespace: "{{ .Release.Namespace }}", path: /validate}}
    rules: [{apiGroups: [workflows.kubeplus], apiVersions: ["*"], operations: [CREATE], resources: ["*"]}]
`;
    const chart = join(work, "kubeplus-like.tgz");
    writeFileSync(
      chart,
      await makeArchive([
        { name: "kubeplus-like/Chart.yaml", content: chartYaml("kubeplus-like") },
        { name: "kubeplus-like/templates/all.yaml", content: templates },
        ...crdFiles,
      ]),
    );
    const helm = async (args: string[]): Promise<CliResult> => {
      try {
        const { stdout, stderr } = await run(
          cluster.state.tools.helm,
          [...args, "--kubeconfig", provider],
          {
            cwd: work,
            env: { ...process.env, HOME: work },
          },
        );
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
      }
    };
    const installed = await helm(["install", "kp-like", chart, "-n", kpNamespace]);
    expect(installed.stderr).toBe("");
    expect(installed.stdout).toContain("STATUS: deployed");
    expect(await allowed(provider, ["get", "deployment", "kp-like", "-o", "name"])).toBe(
      "deployment.apps/kp-like\n",
    );
    const uninstalled = await helm(["uninstall", "kp-like", "-n", kpNamespace]);
    expect(uninstalled.stderr).toBe("");
    expect(
      (
        await cluster.kubectl([
          "get",
          "validatingwebhookconfiguration",
          `kubeplus-like-${kpNamespace}`,
        ])
      ).code,
    ).not.toBe(0);
  });

  it("refuses the provider everything outside what KubePlus manages, escalation attempts included", async () => {
    await cluster.kubectl([
      "create",
      "secret",
      "generic",
      "foreign",
      "-n",
      "default",
      "--from-literal=a=b",
    ]);
    await denied(provider, ["get", "secrets", "-n", "kube-system"]);
    await denied(provider, ["get", "secret", "foreign", "-n", "default"]);
    await denied(provider, ["get", "pods", "-A"]);
    await denied(provider, ["create", "deployment", "x", "--image=nginx", "-n", "default"]);
    await denied(provider, [
      "create",
      "clusterrolebinding",
      `escalate-${suffix}`,
      "--clusterrole=cluster-admin",
      `--serviceaccount=${kpNamespace}:kubeplus-saas-provider`,
    ]);
    await denied(provider, [
      "create",
      "rolebinding",
      "escalate",
      "-n",
      "kube-system",
      "--clusterrole=cluster-admin",
      `--serviceaccount=${kpNamespace}:kubeplus-saas-provider`,
    ]);
    await denied(provider, ["get", "pods", "--as=someone", "--as-group=system:masters"]);
    await denied(provider, [
      "create",
      "clusterrole",
      `x-${suffix}`,
      "--verb=get",
      "--resource=pods",
    ]);
    // A foreign namespace cannot be made "managed", and managed ones cannot drop Pod Security.
    expect(
      await denied(provider, [
        "label",
        "namespace",
        "default",
        "app.kubernetes.io/managed-by=kubeplus",
      ]),
    ).toContain("not managed by KubePlus");
    expect(await denied(provider, ["create", "namespace", `plain-${suffix}`])).toContain(
      "app.kubernetes.io/managed-by=kubeplus",
    );
    expect(
      await denied(provider, [
        "create",
        "-f",
        manifests.write("priv-ns", managedNamespace(`priv-${suffix}`, "privileged")),
      ]),
    ).toContain("Pod Security");
    await denied(provider, [
      "label",
      "--overwrite",
      "namespace",
      tenant,
      "pod-security.kubernetes.io/enforce=privileged",
    ]);
    expect(
      await denied(provider, [
        "create",
        "-f",
        manifests.write("foreign-crd", crd("example.com", "Widget")),
      ]),
    ).toContain("example.com is not one");
    const hostile = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: `kubeplus-pods-${suffix}` },
      webhooks: [
        {
          name: "pods.kubeplus.dev",
          admissionReviewVersions: ["v1"],
          sideEffects: "None",
          clientConfig: { url: "https://127.0.0.1:1/mutate" },
          rules: [
            { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
          ],
          failurePolicy: "Ignore",
        },
      ],
    };
    expect(
      await denied(provider, ["create", "-f", manifests.write("webhook-pods", hostile)]),
    ).toContain("may intercept only");
    // Approving a certificate signing request (a way to mint any client identity).
    const csrName = `csr-${suffix}`;
    const { stdout: csrPem } = await run("sh", [
      "-c",
      `openssl req -new -newkey rsa:2048 -nodes -keyout /dev/null -subj "/CN=mallory/O=system:masters" 2>/dev/null`,
    ]);
    await cluster.kubectl([
      "create",
      "-f",
      manifests.write("csr", {
        apiVersion: "certificates.k8s.io/v1",
        kind: "CertificateSigningRequest",
        metadata: { name: csrName },
        spec: {
          request: Buffer.from(csrPem).toString("base64"),
          signerName: "kubernetes.io/kube-apiserver-client",
          usages: ["client auth"],
        },
      }),
    ]);
    await denied(provider, ["certificate", "approve", csrName]);
    await cluster.kubectl(["delete", "csr", csrName]);
  });

  it("gives a consumer its granted instance kinds in its own namespace, and nothing else", async () => {
    await waitFor(
      async () => {
        const r = await cluster.kubectl(["get", appPlural]);
        if (r.code !== 0) throw new Error(r.stderr);
        return true;
      },
      { what: "the app CRD to be served" },
    );
    for (const name of ["alice", "bob"] as const) {
      const r = await providerKubeconfig(["create", consumerNs[name], "-c", name]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(`Consumer kubeconfig created: ${name}.json`);
    }
    const alice = join(work, "alice.json");
    const bob = join(work, "bob.json");
    // Nothing granted yet.
    await denied(alice, ["get", appPlural]);
    const granted = await kubectlPlugin(["grantpermission", "consumer", appPlural, provider]);
    expect(granted.stderr).toBe("");
    expect(granted.stdout).toContain(`consumers may manage ${appPlural}`);
    const app = (name: string) => ({
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: appKind,
      metadata: { name },
      spec: { replicas: 1 },
    });
    await waitFor(
      async () => {
        const r = await cluster.kubectl(["get", appPlural], alice);
        if (r.code !== 0) throw new Error(r.stderr);
        return true;
      },
      { what: "the grant to take effect" },
    );
    await allowed(alice, ["create", "-f", manifests.write("alice-app", app("shop"))]);
    await allowed(alice, [
      "patch",
      appPlural,
      "shop",
      "--type=merge",
      "-p",
      '{"spec":{"replicas":2}}',
    ]);
    expect(
      await allowed(alice, ["get", appPlural, "shop", "-o", "jsonpath={.spec.replicas}"]),
    ).toBe("2");
    await allowed(bob, ["create", "-f", manifests.write("bob-app", app("blog"))]);
    // Not another consumer's instances, not Secrets, not workloads directly, not compositions.
    await denied(alice, ["get", appPlural, "blog", "-n", consumerNs.bob]);
    await denied(alice, ["get", "secrets"]);
    await denied(alice, ["run", "x", "--image=nginx"]);
    await denied(alice, ["create", "deployment", "x", "--image=nginx"]);
    await denied(alice, ["get", "resourcecompositions", "-n", kpNamespace]);
    await denied(alice, ["get", "secrets", "-n", "kube-system"]);
    const shown = await kubectlPlugin([
      "show",
      "consumer",
      "permissions",
      consumerNs.alice,
      "alice",
      "-k",
      cluster.state.kubeconfig,
    ]);
    expect(shown.stderr).toBe("");
    expect(shown.stdout).toMatch(
      new RegExp(`${appPlural}\\.platformapi\\.kubeplus\\s+\\[\\]\\s+\\[\\]\\s+\\[get`),
    );
    expect(shown.stdout).not.toContain("secrets");
    await allowed(alice, ["delete", appPlural, "shop"]);
    const gone = await providerKubeconfig(["delete", consumerNs.alice, "-c", "alice"]);
    expect(gone.code).toBe(0);
    await waitFor(
      async () => {
        const r = await cluster.kubectl(["get", appPlural], alice);
        if (r.code === 0) throw new Error("alice's token still works");
        return true;
      },
      { what: "alice's token to stop working once her identity is deleted" },
    );
  });

  it("retrieves the stored kubeconfigs and shows the provider's permissions with the plugins", async () => {
    const retrieved = await kubectlPlugin(["retrieve", "kubeconfig", "provider", "-k", provider]);
    expect(retrieved.stderr).toBe("");
    expect(JSON.parse(retrieved.stdout)).toEqual(JSON.parse(readFileSync(provider, "utf8")));
    const moved = await kubectlPlugin([
      "retrieve",
      "kubeconfig",
      "provider",
      "-s",
      "https://api.example.com:6443",
      "-k",
      cluster.state.kubeconfig,
    ]);
    expect(moved.stderr).toBe("");
    expect(
      (JSON.parse(moved.stdout) as { clusters: { cluster: { server: string } }[] }).clusters[0]
        ?.cluster.server,
    ).toBe("https://api.example.com:6443");
    const bad = await kubectlPlugin(["retrieve", "kubeconfig", "someone", "-k", provider]);
    // A usage error: the plugins' documented exit code 2 (cli/README.md).
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("provider or consumer");

    // As the administrator (impersonating the provider) and as the provider itself: the same rules.
    const asAdmin = await kubectlPlugin([
      "show",
      "provider",
      "permissions",
      "-k",
      cluster.state.kubeconfig,
    ]);
    expect(asAdmin.stderr).toBe("");
    expect(asAdmin.stdout).toContain(`system:serviceaccount:${kpNamespace}:kubeplus-saas-provider`);
    expect(asAdmin.stdout).toMatch(
      /customresourcedefinitions\.apiextensions\.k8s\.io\s+\[\]\s+\[\]/,
    );
    expect(asAdmin.stdout).toContain("kubeplus-saas-provider-namespaces:");
    expect(asAdmin.stdout).not.toMatch(/impersonate|certificatesigningrequests/);
    const asProvider = await kubectlPlugin([
      "show",
      "provider",
      "permissions",
      "-k",
      provider,
      "-o",
      "json",
    ]);
    const rules = JSON.parse(asProvider.stdout) as { resourceRules: { resources?: string[] }[] };
    expect(rules.resourceRules.flatMap((r) => r.resources ?? [])).toContain("namespaces");
    // In a namespace it does not manage, the provider holds no namespaced rights at all.
    const foreign = await kubectlPlugin([
      "show",
      "provider",
      "permissions",
      "default",
      "-k",
      provider,
      "-o",
      "json",
    ]);
    const foreignRules = JSON.parse(foreign.stdout) as {
      resourceRules: { resources?: string[] }[];
    };
    expect(foreignRules.resourceRules.flatMap((r) => r.resources ?? [])).not.toContain("secrets");
  });

  it("revokes from a role in the original's layout (a ClusterRole named after the consumer, bound by a ClusterRoleBinding) and exits non-zero when nothing matched", async () => {
    const ns = await cluster.freshNamespace("kp-carol");
    const role = `carol-${suffix}`;
    // What a user of the original has: the ServiceAccount, and a ClusterRole and ClusterRoleBinding of its name.
    await cluster.kubectl(["create", "serviceaccount", role, "-n", ns]);
    await cluster.kubectl([
      "create",
      "clusterrole",
      role,
      "--verb=get,list,delete",
      "--resource=pods,services",
    ]);
    await cluster.kubectl([
      "create",
      "clusterrolebinding",
      role,
      `--clusterrole=${role}`,
      `--serviceaccount=${ns}:${role}`,
    ]);
    const canI = async (verb: string, resource: string): Promise<string> =>
      (
        await cluster.kubectl([
          "auth",
          "can-i",
          verb,
          resource,
          "-n",
          ns,
          `--as=system:serviceaccount:${ns}:${role}`,
        ])
      ).stdout.trim();
    writeFileSync(join(work, "carol-pods.json"), '{"perms": {"": [{"pods": ["delete"]}]}}');
    const revoked = await providerKubeconfig(["revoke", ns, "-c", role, "-p", "carol-pods.json"]);
    expect(revoked.stderr).toBe("");
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`from ClusterRole ${role}`);
    await waitFor(async () => (await canI("delete", "pods")) === "no", {
      what: "the trimmed role to take effect",
    });
    expect(await canI("get", "pods")).toBe("yes");
    expect(await canI("delete", "services")).toBe("yes");
    // The same again: nothing matched, so it says what it looked for and exits 1.
    const again = await providerKubeconfig(["revoke", ns, "-c", role, "-p", "carol-pods.json"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `nothing revoked: ${ns}/${role} holds none of these permissions (delete pods) in ClusterRole`,
    );
    const nobody = await providerKubeconfig([
      "revoke",
      ns,
      "-c",
      "nobody",
      "-p",
      "carol-pods.json",
    ]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain(`nothing revoked: ${ns}/nobody has no role`);
    expect(nobody.stderr).toContain("ClusterRole nobody or nobody-update bound to");
    // Everything else: the role is left empty, so it goes with its binding (as the original does).
    writeFileSync(
      join(work, "carol-all.json"),
      '{"perms": {"": [{"pods": ["*"]}, {"services": ["*"]}]}}',
    );
    const all = await providerKubeconfig(["revoke", ns, "-c", role, "-p", "carol-all.json"]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain("now empty and deleted with its binding");
    expect((await cluster.kubectl(["get", "clusterrole", role])).code).not.toBe(0);
    expect((await cluster.kubectl(["get", "clusterrolebinding", role])).code).not.toBe(0);
    await cluster.kubectl(["delete", "configmap", `${role}-perms`, "-n", ns, "--ignore-not-found"]);
  });

  it("refuses to delete the provider through a namespace that is not the provider's, and touches nothing", async () => {
    // A tenant binding as the helmer makes it, which a wrong delete used to take away with everything else.
    const instanceNs = `kp-inst-${suffix}`;
    await cluster.kubectl([
      "create",
      "-f",
      manifests.write("inst-ns", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: instanceNs,
          labels: {
            "app.kubernetes.io/managed-by": "kubeplus",
            managedby: "kubeplus",
            "kubeplus.dev/kind": appKind,
            "kubeplus.dev/instance": "inst",
            "kubeplus.dev/instance-namespace": kpNamespace,
          },
        },
      }),
    ]);
    await cluster.kubectl([
      "create",
      "-f",
      manifests.write("inst-binding", tenantBinding(instanceNs)),
    ]);
    const snapshot = async (): Promise<string> =>
      JSON.stringify([
        await accessSnapshot(),
        (
          await cluster.kubectl([
            "get",
            "rolebindings",
            "-A",
            "-l",
            "kubeplus.dev/identity=kubeplus-saas-provider",
            "-o",
            "name",
          ])
        ).stdout,
      ]);
    const untouched = await snapshot();
    for (const ns of [consumerNs.bob, `absent-${suffix}`, "default"]) {
      const wrong = await providerKubeconfig(["delete", ns]);
      expect(wrong.code, `delete ${ns}`).toBe(1);
      expect(wrong.stdout).toBe("");
      expect(wrong.stderr).toContain(
        `the KubePlus provider of this cluster is in namespace ${kpNamespace}, not ${ns}; nothing was deleted`,
      );
    }
    expect(await snapshot()).toBe(untouched);
    await allowed(provider, ["get", "secrets", "-n", instanceNs, "-o", "name"]);
  });

  it("restores the provider's RoleBinding in every instance namespace when it is created again after a delete", async () => {
    const instanceNs = `kp-inst-${suffix}`;
    const deleted = await providerKubeconfig(["delete", kpNamespace]);
    expect(deleted.code).toBe(0);
    expect(
      (
        await cluster.kubectl([
          "get",
          "rolebinding",
          "kubeplus-saas-provider-tenant",
          "-n",
          instanceNs,
        ])
      ).code,
    ).not.toBe(0);
    // Deleted, there is no provider anywhere: a second delete is refused rather than reported done.
    const twice = await providerKubeconfig(["delete", kpNamespace]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`there is no KubePlus provider in namespace ${kpNamespace}`);
    const created = await providerKubeconfig(["create", kpNamespace]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    // Other instance namespaces may be left by earlier test files: this one must be among those restored.
    expect(created.stdout).toMatch(
      new RegExp(
        `Restored the provider's RoleBinding kubeplus-saas-provider-tenant in \\d+ instance namespace\\(s\\): .*\\b${instanceNs}\\b`,
      ),
    );
    const restored = await cluster.kubectl([
      "get",
      "rolebinding",
      "kubeplus-saas-provider-tenant",
      "-n",
      instanceNs,
      "-o",
      "json",
    ]);
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject(tenantBinding(instanceNs));
    // The provider can act on what it manages there again (what the helmer needs to uninstall a release).
    await waitFor(
      async () => {
        const r = await cluster.kubectl(["get", "secrets", "-n", instanceNs], provider);
        if (r.code !== 0) throw new Error(r.stderr);
        return true;
      },
      { what: "the restored RoleBinding to take effect" },
    );
    await allowed(provider, ["create", "configmap", "probe", "-n", instanceNs]);
    await allowed(provider, ["delete", "configmap", "probe", "-n", instanceNs]);
    await cluster.kubectl(["delete", "namespace", instanceNs, "--wait=false"]);
  });

  it("grants with update -p, takes exactly that away with revoke -p, and delete leaves the cluster as it was", async () => {
    const perms = join(work, "perms.json");
    writeFileSync(
      perms,
      JSON.stringify({
        perms: {
          "rbac.authorization.k8s.io": [{ clusterroles: ["get", "list"] }],
          "non-apigroup": [{ "nonResourceURL::/metrics": ["get"] }],
        },
      }),
    );
    await denied(provider, ["get", "clusterroles"]);
    const updated = await providerKubeconfig(["update", kpNamespace, "-p", "perms.json"]);
    expect(updated.stdout).toContain("Provider permissions updated");
    await waitFor(
      async () => {
        const r = await cluster.kubectl(["get", "clusterroles"], provider);
        if (r.code !== 0) throw new Error(r.stderr);
        return true;
      },
      { what: "the update to take effect" },
    );
    writeFileSync(
      perms.replace("perms", "list"),
      "perms:\n  rbac.authorization.k8s.io:\n    - clusterroles: [list]\n",
    );
    const revoked = await providerKubeconfig(["revoke", kpNamespace, "-p", "list.json"]);
    expect(revoked.stdout).toContain("Provider permissions revoked");
    await waitFor(
      async () => {
        const r = await cluster.kubectl(["get", "clusterroles"], provider);
        if (r.code === 0) throw new Error("list still allowed");
        return true;
      },
      { what: "the revoke to take effect" },
    );
    await allowed(provider, ["get", "clusterrole", "view", "-o", "name"]);
    // Revoking what is no longer held did nothing: it says so, and exits non-zero.
    const again = await providerKubeconfig(["revoke", kpNamespace, "-p", "list.json"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `nothing revoked: ${kpNamespace}/kubeplus-saas-provider holds none of these permissions (list clusterroles.rbac.authorization.k8s.io)`,
    );
    await providerKubeconfig(["revoke", kpNamespace, "-p", "perms.json"]);
    await cluster.kubectl(["delete", "namespace", tenant, "--wait=false"]);

    const deleted = await providerKubeconfig(["delete", kpNamespace]);
    expect(deleted.code).toBe(0);
    await cluster.kubectl(["delete", "namespace", consumerNs.bob, "--wait=false"]);
    await providerKubeconfig(["delete", consumerNs.bob, "-c", "bob"]);
    await waitFor(
      async () => {
        const now = await accessSnapshot();
        if (now !== before) throw new Error(`differs:\n${now}\n${before}`);
        return true;
      },
      { what: "the cluster to be as it was before create" },
    );
  });
});
