import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { repoRoot, webhookClientCaFile } from "@kubeplus/dev";
import type { TestCluster } from "./cluster.js";
import { testWebhookName } from "./leftovers.js";
import { serviceEnv, startService, type RunningService } from "./services.js";
import { waitFor } from "./wait.js";

/** A standard condition as the platform writes it. */
export interface TestCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export function conditionOf(
  object: { status?: { conditions?: TestCondition[] } } | undefined,
  type = "Ready",
): TestCondition | undefined {
  return object?.status?.conditions?.find((c) => c.type === type);
}

/**
 * The namespace the helmer put an instance's release in (`status.namespace`), once it has reported one. Instance
 * namespaces are named `<instance>-<hash of its UID>`, never after the instance alone: tests read it, as users do.
 */
export async function instanceNamespace(
  cluster: TestCluster,
  instance: { plural: string; namespace: string; name: string },
  timeoutMs = 90_000,
): Promise<string> {
  return waitFor(
    async () => {
      const got = await cluster.kubectl([
        "get",
        instance.plural,
        instance.name,
        "-n",
        instance.namespace,
        "-o",
        "jsonpath={.status.namespace}",
      ]);
      return got.code === 0 && got.stdout.trim() !== "" ? got.stdout.trim() : undefined;
    },
    { what: `the namespace of ${instance.namespace}/${instance.name}`, timeoutMs },
  );
}

/** A scratch folder for manifests that tests hand to kubectl. */
export class ManifestDir {
  readonly dir: string;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  }

  /** Writes the object as YAML and returns the file's path. */
  write(name: string, object: object): string {
    const file = join(this.dir, `${name}.yaml`);
    writeFileSync(file, stringify(object));
    return file;
  }
}

/**
 * A KubePlus namespace for one test file (not deleted per test: its services outlive single tests), with the platform
 * CRDs installed and Established.
 */
export async function platformNamespace(cluster: TestCluster, prefix: string): Promise<string> {
  const namespace = `${prefix}-${Date.now().toString(36)}`;
  await cluster.core.createNamespace({
    body: { metadata: { name: namespace, labels: { "kubeplus.dev/test": "true" } } },
  });
  const applied = await cluster.kubectl([
    "apply",
    "--server-side",
    "-f",
    join(repoRoot, "deploy", "charts", "kubeplus", "crds"),
  ]);
  if (applied.code !== 0) throw new Error(`installing the platform CRDs failed: ${applied.stderr}`);
  await cluster.kubectl([
    "wait",
    "--for=condition=Established",
    "crd/resourcecompositions.workflows.kubeplus",
  ]);
  return namespace;
}

/** The helmer as a real process for the KubePlus namespace `namespace`. */
export function startHelmer(
  cluster: TestCluster,
  namespace: string,
  cacheDir: string,
  env: Record<string, string> = {},
): Promise<RunningService> {
  return startService(
    "helmer",
    // A fixed replica name: a helmer restarted after a crash takes its own Lease back at once, as a pod would.
    serviceEnv(cluster.state, {
      KUBEPLUS_NAMESPACE: namespace,
      CHART_CACHE_DIR: cacheDir,
      POD_NAME: `helmer-${namespace}`,
      ...env,
    }),
    (l) => l.msg === "leading: controllers started",
  );
}

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * crd-hook as a real process serving its webhooks on a loopback port (the apiserver calls it by URL), answering only
 * clients with the apiserver's webhook client certificate (the local control plane's AdmissionConfiguration). Its
 * webhook configurations are named after the file's KubePlus namespace (testWebhookName, as startService names every
 * test crd-hook's), so that they are this file's alone and removed before the next file whatever happens to this one
 * (leftovers.ts).
 */
export function startCrdHook(
  cluster: TestCluster,
  namespace: string,
  port: number,
): Promise<RunningService> {
  return startService(
    "crd-hook",
    serviceEnv(cluster.state, {
      KUBEPLUS_NAMESPACE: namespace,
      PORT: String(port),
      HOST: "127.0.0.1",
      WEBHOOK_URL: `https://127.0.0.1:${port}`,
      CLIENT_CA_FILE: webhookClientCaFile(cluster.state.runDir),
    }),
    (l) => l.msg === "crd-hook started",
  );
}

/**
 * The console as a real process on a free loopback port, with no Kubernetes credential of its own (no KUBECONFIG in
 * its environment): it reaches the control plane's apiserver only with the signed-in users' credentials. `webDir`:
 * the built web app (default: the package's dist/web). Resolves once it listens; `url` is its address.
 */
export async function startConsole(
  cluster: TestCluster,
  options: { webDir?: string; env?: Record<string, string> } = {},
): Promise<RunningService & { url: string }> {
  const caData = cluster.kc.getCurrentCluster()?.caData;
  if (!caData)
    throw new Error("the control plane's kubeconfig embeds no CA (certificate-authority-data)");
  const caFile = join(mkdtempSync(join(tmpdir(), "console-ca-")), "apiserver-ca.crt");
  writeFileSync(caFile, Buffer.from(caData, "base64"));
  const service = await startService(
    "console",
    {
      PATH: process.env.PATH,
      PORT: "0",
      BIND_ADDRESS: "127.0.0.1",
      HEALTH_PORT: "0",
      HEALTH_HOST: "127.0.0.1",
      CONSOLE_APISERVER_URL: cluster.state.apiServerUrl,
      CONSOLE_APISERVER_CA_FILE: caFile,
      LOG_LEVEL: "debug",
      ...(options.webDir ? { CONSOLE_WEB_DIR: options.webDir } : {}),
      ...options.env,
    },
    (l) => l.msg === "console started",
  );
  const started = service.logs().find((l) => l.msg === "console started");
  return Object.assign(service, { url: `http://${String(started?.address)}` });
}

export interface TearDownOptions {
  readonly namespace: string;
  /** `<plural>.<group>` of generated kinds whose instances and CRD go. */
  readonly generatedCrds: readonly string[];
  readonly services: readonly (RunningService | undefined)[];
  /** Remove crd-hook's webhook configurations too (they fail closed). */
  readonly webhooks?: boolean;
}

/**
 * Tears a platform test down in the only safe order: instances while the helmer still runs (they carry its
 * finalizer), then the compositions (at once: a later test file's helmer must not find them), then the services, the
 * webhook configurations, the generated CRDs and the namespace. Every wait is bounded, and the services and webhook
 * configurations go even when an earlier step fails; what a timed-out teardown still leaves, the next file's setup
 * removes (file-setup.ts).
 */
export async function tearDownPlatform(cluster: TestCluster, o: TearDownOptions): Promise<void> {
  try {
    for (const crd of o.generatedCrds) {
      await cluster.kubectl([
        "delete",
        crd,
        "--all",
        "-n",
        o.namespace,
        "--wait=true",
        "--timeout=60s",
        "--ignore-not-found",
      ]);
    }
    await cluster.kubectl([
      "delete",
      "resourcecompositions",
      "--all",
      "-n",
      o.namespace,
      "--wait=true",
      "--timeout=60s",
    ]);
  } finally {
    for (const service of o.services) await service?.stop();
    if (o.webhooks) {
      await cluster.kubectl([
        "delete",
        "validatingwebhookconfiguration,mutatingwebhookconfiguration",
        testWebhookName(o.namespace),
        "--ignore-not-found",
      ]);
    }
  }
  for (const crd of o.generatedCrds)
    await cluster.kubectl(["delete", "crd", crd, "--ignore-not-found", "--timeout=60s"]);
  await cluster.core.deleteNamespace({ name: o.namespace }).catch(() => undefined);
}

export interface CompositionFixture {
  readonly name: string;
  readonly namespace: string;
  readonly kind: string;
  readonly plural: string;
  readonly chartURL: string;
  readonly chartName: string;
  readonly group?: string;
  readonly version?: string;
}

/** A ResourceComposition manifest for tests; `spec` adds respolicy, resmonitor, isolation and the like. */
export function compositionManifest(
  f: CompositionFixture,
  spec: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: "workflows.kubeplus/v1alpha1",
    kind: "ResourceComposition",
    metadata: { name: f.name, namespace: f.namespace },
    spec: {
      newResource: {
        resource: {
          kind: f.kind,
          group: f.group ?? "platformapi.kubeplus",
          version: f.version ?? "v1alpha1",
          plural: f.plural,
        },
        chartURL: f.chartURL,
        chartName: f.chartName,
      },
      ...spec,
    },
  };
}

/** Waits until the CRD (e.g. `helloworldservices.platformapi.kubeplus`) is Established. */
export async function waitForCrd(
  cluster: TestCluster,
  crd: string,
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(
    async () =>
      (await cluster.kubectl(["wait", "--for=condition=Established", `crd/${crd}`, "--timeout=2s"]))
        .code === 0,
    { what: `the CRD ${crd} to be Established`, timeoutMs },
  );
}

/** A pod policy and a quota with room for a few small pods: what the hello-world tests give their compositions. */
export const ROOMY_POLICY = {
  respolicy: {
    spec: {
      policy: {
        podconfig: {
          requests: { cpu: "100m", memory: "64Mi" },
          limits: { cpu: "200m", memory: "128Mi" },
        },
        quota: {
          "requests.cpu": "1",
          "requests.memory": "1Gi",
          "limits.cpu": "2",
          "limits.memory": "2Gi",
        },
      },
    },
  },
} as const;
