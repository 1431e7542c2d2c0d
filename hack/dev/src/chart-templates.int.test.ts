// The KubePlus chart as `helm template` (the pinned helm) renders it: image digests, PodDisruptionBudgets, topology
// spread, resources, the values schema's refusals, and the `helm test` pods. No cluster is used; the file is an
// integration test only because the pinned helm exists once `make tools` ran, which `make test` does after the unit
// tests (a clean clone has no helm before that).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import type { ToolPaths } from "./components.js";
import { repoRoot } from "./paths.js";
import { freePorts } from "./ports.js";
import { ensureTools } from "./tools.js";

const run = promisify(execFile);
const chart = join(repoRoot, "deploy", "charts", "kubeplus");
const SERVICES = ["crd-hook", "helmer", "kubeconfig-generator", "metrics-collector"];
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
let tools: ToolPaths | undefined;
let helm = "";

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  command?: string[];
  resources?: unknown;
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  restartPolicy?: string;
  nodeSelector?: Record<string, string>;
  topologySpreadConstraints?: Record<string, unknown>[];
  volumes?: {
    name: string;
    secret?: { secretName: string; items?: { key: string }[] };
    configMap?: { name: string; items?: { key: string; path: string }[] };
  }[];
  enableServiceLinks?: boolean;
}
interface Rendered {
  kind: string;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown> & {
    template?: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  };
  data?: Record<string, string>;
  automountServiceAccountToken?: boolean;
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/** `helm template` with these --set (or --set-json, when the value starts with {, [ or null) values. */
async function render(
  sets: Record<string, string> = {},
  extra: string[] = [],
): Promise<Rendered[]> {
  const args = Object.entries(sets).flatMap(([k, v]) =>
    /^[[{]|^null$/.test(v) ? ["--set-json", `${k}=${v}`] : ["--set", `${k}=${v}`],
  );
  const { stdout } = await run(
    helm,
    ["template", "kp", chart, "-n", "kubeplus", ...args, ...extra],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return parseAllDocuments(stdout)
    .map((d) => d.toJSON() as Rendered | null)
    .filter((o): o is Rendered => o !== null);
}

/** The error `helm template` exits with for these values. */
async function refusal(sets: Record<string, string>): Promise<string> {
  try {
    await render(sets);
  } catch (err) {
    return String((err as { stderr?: string }).stderr);
  }
  throw new Error(`helm template accepted ${JSON.stringify(sets)}`);
}

const workloads = (objects: Rendered[]): Rendered[] =>
  objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
const podSpec = (o: Rendered): PodSpec => {
  const spec = o.spec.template?.spec;
  if (!spec) throw new Error(`${o.kind} ${o.metadata.name} has no pod template`);
  return spec;
};
const byName = (objects: Rendered[], kind: string, name: string): Rendered => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const pdbs = (objects: Rendered[]): string[] =>
  objects
    .filter((o) => o.kind === "PodDisruptionBudget")
    .map((o) => o.metadata.name)
    .sort();
const isHelmTest = (o: Rendered): boolean => o.metadata.annotations?.["helm.sh/hook"] === "test";

/** A `helm test` pod as the restricted profile wants it, running one of the ConfigMap's scripts with node. */
function expectRestrictedTestPod(pod: Rendered, scripts: Rendered): void {
  const spec = pod.spec as unknown as PodSpec;
  const name = pod.metadata.name;
  expect(spec.restartPolicy, name).toBe("Never");
  // restricted: non-root, seccomp RuntimeDefault, no privilege escalation, every capability dropped.
  expect(spec.securityContext, name).toMatchObject({
    runAsNonRoot: true,
    seccompProfile: { type: "RuntimeDefault" },
  });
  const c = spec.containers[0];
  expect(c?.securityContext, name).toMatchObject({
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
  });
  // The crd-hook image (it holds /usr/bin/node), which the nodes have wherever KubePlus runs.
  expect(c?.image, name).toBe("localhost/kubeplus/crd-hook:0.1.0");
  expect(c?.command?.[0], name).toBe("/usr/bin/node");
  const script = c?.command?.[1]?.replace("/tests/", "") ?? "";
  expect(Object.keys(scripts.data ?? {}), name).toContain(script);
  expect(spec.nodeSelector, name).toEqual({ "kubeplus.dev/real-node": "true" });
  // The services' Services and budgets select by app.kubernetes.io/name: never a test pod.
  expect(pod.metadata.labels?.["app.kubernetes.io/name"], name).toBeUndefined();
}

beforeAll(() => {
  tools = ensureTools(process.env);
  helm = tools.helm;
});

describe("the chart's images", () => {
  it("runs <registry>/<service>:<appVersion> by default, and <registry>/<service>@<digest> for a pinned one", async () => {
    const plain = await render();
    const appVersion = (
      parse(readFileSync(join(chart, "Chart.yaml"), "utf8")) as {
        appVersion: string;
      }
    ).appVersion;
    for (const s of SERVICES)
      expect(podSpec(byName(plain, "Deployment", s)).containers[0]?.image).toBe(
        `ghcr.io/kubeplus-ts/${s}:${appVersion}`,
      );
    const pinned = await render({
      "image.registry": "registry.example.com/kp",
      "image.tag": "9.9.9",
      "image.digests.helmer": DIGEST,
    });
    expect(podSpec(byName(pinned, "Deployment", "helmer")).containers[0]?.image).toBe(
      `registry.example.com/kp/helmer@${DIGEST}`,
    );
    // The others keep their tag.
    expect(podSpec(byName(pinned, "Deployment", "crd-hook")).containers[0]?.image).toBe(
      "registry.example.com/kp/crd-hook:9.9.9",
    );
  });

  it("refuses a digest that is not sha256:<64 lowercase hex>, and a digest for a service it does not know", async () => {
    for (const bad of ["sha256:abc", `sha512:${"0".repeat(64)}`, DIGEST.toUpperCase(), "latest"]) {
      expect(await refusal({ "image.digests.crd-hook": bad })).toMatch(
        /image\/digests\/crd-hook.*does not match pattern/,
      );
    }
    expect(await refusal({ "image.digests.nats": DIGEST })).toMatch(
      /additional properties 'nats' not allowed/,
    );
  });
});

describe("the chart's PodDisruptionBudgets", () => {
  it("are rendered by default only for components with more than one pod: crd-hook's two", async () => {
    const objects = await render();
    expect(pdbs(objects)).toEqual(["crd-hook"]);
    const pdb = byName(objects, "PodDisruptionBudget", "crd-hook");
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: {
        matchLabels: { "app.kubernetes.io/name": "crd-hook", "app.kubernetes.io/instance": "kp" },
      },
    });
    // The budget's selector picks exactly crd-hook's pods.
    const labels = byName(objects, "Deployment", "crd-hook").spec.template?.metadata?.labels;
    expect(labels).toMatchObject(
      (pdb.spec.selector as { matchLabels: Record<string, string> }).matchLabels,
    );
  });

  it("follow the replicas, take minAvailable in place of maxUnavailable, and go when disabled", async () => {
    const scaled = await render({ "helmer.replicas": "2", "crdHook.replicas": "1" });
    expect(pdbs(scaled)).toEqual(["helmer"]);
    const min = await render({ "podDisruptionBudget.minAvailable": "1" });
    expect(byName(min, "PodDisruptionBudget", "crd-hook").spec).toMatchObject({ minAvailable: 1 });
    expect(byName(min, "PodDisruptionBudget", "crd-hook").spec.maxUnavailable).toBeUndefined();
    const percent = await render({ "podDisruptionBudget.maxUnavailable": "50%" });
    expect(byName(percent, "PodDisruptionBudget", "crd-hook").spec.maxUnavailable).toBe("50%");
    expect(pdbs(await render({ "podDisruptionBudget.enabled": "false" }))).toEqual([]);
    expect(await refusal({ "podDisruptionBudget.maxUnavailable": "half" })).toMatch(
      /podDisruptionBudget\/maxUnavailable/,
    );
  });
});

describe("the chart's topology spread", () => {
  it("spreads each component's own pods over nodes, as a preference (ScheduleAnyway)", async () => {
    const objects = await render();
    for (const w of workloads(objects)) {
      const name = w.metadata.name;
      expect(podSpec(w).topologySpreadConstraints, name).toEqual([
        {
          maxSkew: 1,
          topologyKey: "kubernetes.io/hostname",
          whenUnsatisfiable: "ScheduleAnyway",
          labelSelector: {
            matchLabels: { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": "kp" },
          },
        },
      ]);
    }
  });

  it("takes the user's constraints (a labelSelector of theirs kept) and none when the list is empty", async () => {
    const zones = await render({
      topologySpreadConstraints: JSON.stringify([
        {
          maxSkew: 2,
          topologyKey: "topology.kubernetes.io/zone",
          whenUnsatisfiable: "DoNotSchedule",
        },
        {
          maxSkew: 1,
          topologyKey: "kubernetes.io/hostname",
          whenUnsatisfiable: "ScheduleAnyway",
          labelSelector: { matchLabels: { tier: "control" } },
        },
      ]),
    });
    const constraints = podSpec(byName(zones, "Deployment", "helmer")).topologySpreadConstraints;
    expect(constraints?.[0]).toMatchObject({
      maxSkew: 2,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "DoNotSchedule",
      labelSelector: { matchLabels: { "app.kubernetes.io/name": "helmer" } },
    });
    expect(constraints?.[1]?.labelSelector).toEqual({ matchLabels: { tier: "control" } });
    const none = await render({ topologySpreadConstraints: "[]" });
    for (const w of workloads(none)) expect(podSpec(w).topologySpreadConstraints).toBeUndefined();
    expect(
      await refusal({
        topologySpreadConstraints:
          '[{"maxSkew":1,"topologyKey":"x","whenUnsatisfiable":"Sometimes"}]',
      }),
    ).toMatch(/whenUnsatisfiable/);
  });
});

describe("the chart's resources", () => {
  it("gives every container the requests and limits of values.yaml, and takes overrides", async () => {
    const values = parse(readFileSync(join(chart, "values.yaml"), "utf8")) as Record<
      string,
      { resources: unknown }
    >;
    const objects = await render();
    const keys: Record<string, string> = {
      "crd-hook": "crdHook",
      helmer: "helmer",
      "kubeconfig-generator": "kubeconfigGenerator",
      "metrics-collector": "metricsCollector",
      nats: "nats",
    };
    for (const w of workloads(objects)) {
      const key = keys[w.metadata.name] ?? "";
      const resources = values[key]?.resources as {
        requests: Record<string, unknown>;
        limits: Record<string, unknown>;
      };
      expect(resources.requests.memory, w.metadata.name).toBeDefined();
      expect(resources.limits.memory, w.metadata.name).toBeDefined();
      expect(podSpec(w).containers[0]?.resources, w.metadata.name).toEqual(resources);
    }
    const raised = await render({ "helmer.resources.limits.memory": "1Gi" });
    expect(podSpec(byName(raised, "Deployment", "helmer")).containers[0]?.resources).toMatchObject({
      limits: { memory: "1Gi" },
    });
    expect(await refusal({ "helmer.resources.limits.memory": "lots" })).toMatch(
      /helmer\/resources\/limits\/memory/,
    );
  });
});

describe("the chart's tracing", () => {
  const SERVICES = ["crd-hook", "helmer", "kubeconfig-generator", "metrics-collector"];
  const otel = (objects: Rendered[], name: string): Record<string, string | undefined> =>
    Object.fromEntries(
      (podSpec(byName(objects, "Deployment", name)).containers[0]?.env ?? [])
        .filter((e) => e.name.startsWith("OTEL_"))
        .map((e) => [e.name, e.value]),
    );

  it("sets no OTEL_ variable by default, and the endpoint and ratio on every service when given", async () => {
    const off = await render();
    for (const name of SERVICES) expect(otel(off, name), name).toEqual({});
    const on = await render({ "tracing.otlpEndpoint": "http://otel-collector.monitoring:4318" }, [
      "--set-json",
      "tracing.sampleRatio=0.25",
    ]);
    for (const name of SERVICES)
      expect(otel(on, name), name).toEqual({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector.monitoring:4318",
        OTEL_TRACES_SAMPLER_ARG: "0.25",
      });
    expect(await refusal({ "tracing.otlpEndpoint": "otel:4318" })).toMatch(/tracing\/otlpEndpoint/);
  });
});

describe("the chart's console", () => {
  const RBAC = ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"];
  const isConsole = (o: Rendered): boolean =>
    o.metadata.labels?.["app.kubernetes.io/component"] === "console" ||
    o.metadata.name.includes("console");
  const env = (c: Container | undefined): Record<string, string | undefined> =>
    Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));

  it("renders nothing by default", async () => {
    const objects = await render();
    expect(objects.filter(isConsole).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    for (const w of workloads(objects))
      expect(podSpec(w).containers[0]?.image, w.metadata.name).not.toMatch(/\/console[:@]/);
  });

  it("runs one pod as a ServiceAccount of its own that is bound to nothing and has no token mounted", async () => {
    const off = await render();
    const objects = await render({ "console.enabled": "true" });
    expect(
      objects
        .filter(isConsole)
        .map((o) => `${o.kind}/${o.metadata.name}`)
        .sort(),
    ).toEqual([
      "Deployment/console",
      "NetworkPolicy/kubeplus-console",
      "Service/console",
      "ServiceAccount/kubeplus-console",
    ]);
    // No RBAC at all: the console turned on adds no Role, binding or ClusterRole, and nothing names its account.
    const rbac = (all: Rendered[]): string[] =>
      all.filter((o) => RBAC.includes(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(rbac(objects)).toEqual(rbac(off));
    const bindings = objects.filter((o) => o.kind.endsWith("Binding"));
    for (const b of bindings)
      expect(b.subjects?.map((s) => s.name) ?? [], b.metadata.name).not.toContain(
        "kubeplus-console",
      );
    expect(byName(objects, "ServiceAccount", "kubeplus-console").automountServiceAccountToken).toBe(
      false,
    );
    const deployment = byName(objects, "Deployment", "console");
    expect(deployment.spec.replicas).toBe(1);
    const spec = podSpec(deployment);
    expect(spec.serviceAccountName).toBe("kubeplus-console");
    expect(spec.automountServiceAccountToken).toBe(false);
    // No Secret of any kind (no NATS credential, no token): only the cluster's CA, from kube-root-ca.crt.
    expect(spec.volumes?.filter((v) => v.secret)).toEqual([]);
    expect(spec.volumes?.find((v) => v.name === "kube-root-ca")?.configMap).toEqual({
      name: "kube-root-ca.crt",
      items: [{ key: "ca.crt", path: "ca.crt" }],
    });
  });

  it("sets the contract's variables, probes its health port and runs under the restricted profile", async () => {
    const objects = await render({
      "console.enabled": "true",
      "console.apiServerUrl": "https://api.example.com:6443",
      "console.sessionIdleSeconds": "600",
      "image.registry": "localhost/kubeplus",
    });
    const spec = podSpec(byName(objects, "Deployment", "console"));
    const c = spec.containers[0];
    expect(c?.image).toBe("localhost/kubeplus/console:0.1.0");
    expect(env(c)).toEqual({
      PORT: "8080",
      HEALTH_PORT: "8081",
      BIND_ADDRESS: "0.0.0.0",
      CONSOLE_APISERVER_URL: "https://api.example.com:6443",
      CONSOLE_APISERVER_CA_FILE: "/var/run/kubeplus/kube-root-ca/ca.crt",
      CONSOLE_SECURE_COOKIES: "true",
      CONSOLE_SESSION_IDLE_SECONDS: "600",
      CONSOLE_SESSION_MAX_SECONDS: "28800",
      LOG_LEVEL: "info",
    });
    expect(c?.volumeMounts).toContainEqual({
      name: "kube-root-ca",
      mountPath: "/var/run/kubeplus/kube-root-ca",
      readOnly: true,
    });
    expect(c?.ports).toEqual([
      { name: "http", containerPort: 8080 },
      { name: "health", containerPort: 8081 },
    ]);
    expect(c?.livenessProbe?.httpGet).toMatchObject({ path: "/healthz", port: "health" });
    expect(c?.readinessProbe?.httpGet).toMatchObject({ path: "/readyz", port: "health" });
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    const values = parse(readFileSync(join(chart, "values.yaml"), "utf8")) as {
      console: { resources: unknown };
    };
    expect(c?.resources).toEqual(values.console.resources);
    // The in-cluster address by default (the server's own default), and the Service on the pod's HTTP port.
    const plain = await render({ "console.enabled": "true" });
    expect(env(podSpec(byName(plain, "Deployment", "console")).containers[0])).not.toHaveProperty(
      "CONSOLE_APISERVER_URL",
    );
    expect(byName(plain, "Service", "console").spec).toMatchObject({
      type: "ClusterIP",
      selector: { "app.kubernetes.io/name": "console", "app.kubernetes.io/instance": "kp" },
      ports: [{ name: "http", port: 80, targetPort: "http" }],
    });
    const pinned = await render({ "console.enabled": "true", "image.digests.console": DIGEST });
    expect(podSpec(byName(pinned, "Deployment", "console")).containers[0]?.image).toBe(
      `ghcr.io/kubeplus-ts/console@${DIGEST}`,
    );
  });

  it("lets it reach only the apiserver and DNS, and be reached on its HTTP port", async () => {
    const objects = await render({
      "console.enabled": "true",
      "networkPolicy.clusterCIDRs": '["10.244.0.0/16","10.96.0.0/12"]',
    });
    const policy = byName(objects, "NetworkPolicy", "kubeplus-console");
    expect(policy.spec).toEqual({
      podSelector: {
        matchLabels: { "app.kubernetes.io/name": "console", "app.kubernetes.io/instance": "kp" },
      },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ ports: [{ protocol: "TCP", port: 8080 }] }],
      egress: [
        {
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.244.0.0/16", "10.96.0.0/12"] } }],
          ports: [
            { protocol: "TCP", port: 443 },
            { protocol: "TCP", port: 6443 },
          ],
        },
      ],
    });
    const exact = await render({
      "console.enabled": "true",
      "console.networkPolicy.apiServerCIDRs": '["203.0.113.10/32"]',
      "console.networkPolicy.apiServerPorts": "[36443]",
    });
    expect(
      (byName(exact, "NetworkPolicy", "kubeplus-console").spec.egress as unknown[])[1],
    ).toEqual({
      to: [{ ipBlock: { cidr: "203.0.113.10/32" } }],
      ports: [{ protocol: "TCP", port: 36443 }],
    });
    const none = await render({ "console.enabled": "true", "networkPolicy.enabled": "false" });
    expect(none.filter((o) => o.kind === "NetworkPolicy")).toEqual([]);
  });

  it("refuses values the console cannot honour: replicas, a short idle time, a plain-HTTP apiserver", async () => {
    expect(await refusal({ "console.enabled": "true", "console.replicas": "2" })).toMatch(
      /additional properties 'replicas' not allowed/,
    );
    expect(await refusal({ "console.sessionIdleSeconds": "5" })).toMatch(
      /console\/sessionIdleSeconds/,
    );
    expect(await refusal({ "console.apiServerUrl": "http://api:6443" })).toMatch(
      /console\/apiServerUrl/,
    );
  });
});

describe("the chart's helm test hooks", () => {
  it("are two pods and their scripts' ConfigMap, as test hooks, made for the restricted Pod Security profile", async () => {
    const objects = await render({
      "image.registry": "localhost/kubeplus",
      nodeSelector: '{"kubeplus.dev/real-node":"true"}',
    });
    const hooks = objects.filter(isHelmTest);
    expect(hooks.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      "ConfigMap/kp-tests",
      "Pod/kp-test-crd-hook-webhook",
      "Pod/kp-test-nats-clients-only",
    ]);
    const scripts = byName(objects, "ConfigMap", "kp-tests");
    expect(Number(scripts.metadata.annotations?.["helm.sh/hook-weight"])).toBeLessThan(0);
    for (const pod of hooks.filter((o) => o.kind === "Pod")) expectRestrictedTestPod(pod, scripts);
    // The webhook test runs as the chart's identity (a dry run needs it); the NATS test has no token at all.
    const webhook = byName(objects, "Pod", "kp-test-crd-hook-webhook").spec as unknown as PodSpec;
    expect(webhook.serviceAccountName).toBe("kubeplus-saas-provider");
    const nats = byName(objects, "Pod", "kp-test-nats-clients-only").spec as unknown as PodSpec;
    expect(nats.automountServiceAccountToken).toBe(false);
    // The CA certificate only, never its key; the provider's client certificate for the positive control.
    expect(nats.volumes?.find((v) => v.name === "nats-ca")?.secret).toMatchObject({
      secretName: "kubeplus-nats-ca",
      items: [{ key: "tls.crt", path: "ca.crt" }],
    });
    expect(nats.volumes?.find((v) => v.name === "nats-credential")?.secret?.secretName).toBe(
      "kubeplus-nats-provider",
    );
  });

  it("check an external NATS not at all (it has no chart-made certificates), and use a pinned crd-hook image", async () => {
    const objects = await render({
      "nats.url": "tls://nats.messaging.svc:4222",
      "nats.credentials.secretNames.crd-hook": "a",
      "nats.credentials.secretNames.helmer": "b",
      "nats.credentials.secretNames.kubeconfig-generator": "c",
      "nats.credentials.secretNames.metrics-collector": "d",
      "image.digests.crd-hook": DIGEST,
    });
    const pods = objects.filter((o) => isHelmTest(o) && o.kind === "Pod");
    expect(pods.map((p) => p.metadata.name)).toEqual(["kp-test-crd-hook-webhook"]);
    expect((pods[0]?.spec as unknown as PodSpec).containers[0]?.image).toBe(
      `ghcr.io/kubeplus-ts/crd-hook@${DIGEST}`,
    );
  });

  it("pass helm lint", async () => {
    const { stdout } = await run(helm, ["lint", chart]);
    expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});

/**
 * The NATS `helm test` script, as the chart's ConfigMap carries it, run by node against the chart's own NATS
 * configuration and certificates (rendered by helm, served by the pinned nats-server on loopback), and against the same
 * server with client certificates no longer required: it must pass the first and fail the second.
 */
describe("the NATS helm test script", () => {
  const NS = "kp-hooks";
  const dir = mkdtempSync(join(tmpdir(), "chart-hooks-"));
  const servers: ChildProcess[] = [];
  let script = "";
  let conf = "";

  const b64 = (s: string | undefined): string => Buffer.from(s ?? "", "base64").toString();

  async function startNats(config: string, name: string): Promise<number> {
    const [port = 0, monitor = 0] = await freePorts(2);
    const file = join(dir, `${name}.conf`);
    writeFileSync(
      file,
      config
        .replaceAll("/etc/nats/tls/", `${dir}/server-`)
        .replace("port: 4222", `host: 127.0.0.1\nport: ${String(port)}`)
        .replace("http_port: 8222", `http: 127.0.0.1:${String(monitor)}`),
    );
    const server = spawn(tools?.natsServer ?? "nats-server", ["-c", file], {
      env: { POD_NAME: "nats-0" },
      stdio: "ignore",
    });
    servers.push(server);
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`http://127.0.0.1:${String(monitor)}/healthz`).catch(() => undefined);
      if (res?.ok) return port;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`nats-server (${name}) did not start`);
  }

  async function runScript(port: number): Promise<{ code: number; out: string }> {
    const env = {
      PATH: process.env.PATH ?? "",
      NATS_HOST: `nats.${NS}.svc`,
      NATS_ADDRESS: "127.0.0.1",
      NATS_PORT: String(port),
      CA_DIR: join(dir, "ca"),
      CERT_DIR: join(dir, "provider"),
    };
    try {
      const { stdout, stderr } = await run(process.execPath, [join(dir, "script.mjs")], { env });
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
    }
  }

  beforeAll(async () => {
    const { stdout } = await run(helm, ["template", "kp", chart, "-n", NS], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const docs = parseAllDocuments(stdout)
      .map((d) => d.toJSON() as Rendered | null)
      .filter((o): o is Rendered => o !== null);
    const data = (kind: string, name: string): Record<string, string> =>
      byName(docs, kind, name).data ?? {};
    script = data("ConfigMap", "kp-tests")["nats-clients-only.mjs"] ?? "";
    conf = data("ConfigMap", "kubeplus-nats-config")["nats.conf"] ?? "";
    writeFileSync(join(dir, "script.mjs"), script);
    const server = data("Secret", "kubeplus-nats-server");
    for (const key of ["ca.crt", "tls.crt", "tls.key"])
      writeFileSync(join(dir, `server-${key}`), b64(server[key]));
    // What the test pod mounts: the CA's certificate (never its key), and the provider's certificate and key.
    for (const sub of ["ca", "provider"]) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, "ca", "ca.crt"), b64(data("Secret", "kubeplus-nats-ca")["tls.crt"]));
    const provider = data("Secret", "kubeplus-nats-provider");
    writeFileSync(join(dir, "provider", "tls.crt"), b64(provider["tls.crt"]));
    writeFileSync(join(dir, "provider", "tls.key"), b64(provider["tls.key"]));
  });

  afterAll(() => {
    for (const s of servers) s.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes against the chart's NATS: refused without a client certificate, PONG with the provider's", async () => {
    expect(conf).toContain("verify_and_map: true");
    const result = await runScript(await startNats(conf, "chart"));
    expect(result.out).toMatch(/without a client certificate: refused/);
    expect(result.out).toMatch(/with the provider's client certificate: PONG/);
    expect(result.code, result.out).toBe(0);
  });

  it("fails against a NATS that answers clients without a certificate", async () => {
    // The same server, its TLS kept, client certificates no longer asked for and no users: anyone may connect.
    const open = conf
      .replace("verify_and_map: true", "verify: false")
      .replace(/authorization \{[\s\S]*?\n\}/, "");
    expect(open).not.toContain("authorization");
    const result = await runScript(await startNats(open, "open"));
    expect(result.out).toMatch(/FAIL: NATS answered a client without a certificate/);
    expect(result.code).toBe(1);
  });
});
