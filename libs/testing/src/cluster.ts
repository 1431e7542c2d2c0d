import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Namespace,
} from "@kubernetes/client-node";
import { inject, onTestFinished } from "vitest";
import { mintIdentity, tailFile, type ClusterState } from "@kubeplus/dev";

const run = promisify(execFile);

/** Label on every namespace the harness creates, so leftovers are easy to find and clean. */
export const TEST_LABEL = "kubeplus.dev/test";

/** The control plane the global setup started (or reused) for this run. */
export function clusterState(): ClusterState {
  return inject("cluster");
}

export function kubeConfigFromFile(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export interface KubectlResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** A handle on the running control plane for one test file: clients, namespaces, identities, diagnostics. */
export class TestCluster {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly state: ClusterState;

  constructor(state: ClusterState = clusterState()) {
    this.state = state;
    this.kc = kubeConfigFromFile(state.kubeconfig);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.apps = this.kc.makeApiClient(AppsV1Api);
    this.rbac = this.kc.makeApiClient(RbacAuthorizationV1Api);
  }

  /**
   * A fresh namespace for the current test, deleted when the test finishes. It waits for the `default`
   * ServiceAccount (the ServiceAccount admission plugin rejects pods until it exists).
   */
  async freshNamespace(prefix = "t", labels: Record<string, string> = {}): Promise<string> {
    const name = `${prefix}-${randomBytes(4).toString("hex")}`;
    const body: V1Namespace = { metadata: { name, labels: { [TEST_LABEL]: "true", ...labels } } };
    await this.core.createNamespace({ body });
    onTestFinished(async () => {
      await this.core.deleteNamespace({ name }).catch(() => undefined);
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const found = await this.core
        .readNamespacedServiceAccount({ name: "default", namespace: name })
        .then(() => true)
        .catch(() => false);
      if (found) return name;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `namespace ${name}: the default ServiceAccount never appeared\n${this.componentLogs()}`,
    );
  }

  /** A non-admin identity (client certificate): its kubeconfig path and a KubeConfig for client-node. */
  async identity(
    user: string,
    groups: readonly string[] = [],
  ): Promise<{ kubeconfig: string; kc: KubeConfig }> {
    const kubeconfig = await mintIdentity(this.state, { user, groups });
    return { kubeconfig, kc: kubeConfigFromFile(kubeconfig) };
  }

  /** Runs the real kubectl (the pinned build) against this control plane; never throws on a non-zero exit. */
  async kubectl(
    args: readonly string[],
    kubeconfig = this.state.kubeconfig,
  ): Promise<KubectlResult> {
    try {
      const { stdout, stderr } = await run(this.state.tools.kubectl, [
        "--kubeconfig",
        kubeconfig,
        ...args,
      ]);
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      return {
        stdout: e.stdout ?? "",
        stderr: e.stderr ?? "",
        code: typeof e.code === "number" ? e.code : 1,
      };
    }
  }

  /** The tail of every component's log, for failure messages. */
  componentLogs(lines = 15): string {
    return this.state.processes
      .map((p) => `--- ${p.name} (${p.log}) ---\n${tailFile(p.log, lines)}`)
      .join("\n");
  }

  /** The objects of a namespace (pods, events and more) and the component log tails: what a failing test prints. */
  async diagnose(
    namespace: string,
    kinds = "all,events,resourcequotas,limitranges",
  ): Promise<string> {
    const objects = await this.kubectl(["get", kinds, "-n", namespace, "-o", "wide"]);
    return `objects in ${namespace}:\n${objects.stdout}${objects.stderr}\n${this.componentLogs()}`;
  }
}

/**
 * The real kubectl with a folder of kubectl plugins first on PATH (as a user who installed them; `pluginDir` may list
 * several folders, PATH-style, e.g. a Node.js to run them with), run in `cwd`;
 * never throws on a non-zero exit. The kubeconfig comes through $KUBECONFIG, as the plugins read it.
 */
export function pluginKubectl(
  state: ClusterState,
  pluginDir: string,
  cwd: string,
): (args: readonly string[], kubeconfig?: string, timeoutMs?: number) => Promise<KubectlResult> {
  return async (args, kubeconfig = state.kubeconfig, timeoutMs = 0) => {
    try {
      const { stdout, stderr } = await run(state.tools.kubectl, [...args], {
        cwd,
        timeout: timeoutMs,
        env: {
          ...process.env,
          PATH: `${pluginDir}:${process.env.PATH ?? ""}`,
          KUBECONFIG: kubeconfig,
        },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === "number" ? e.code : 1,
        stdout: e.stdout ?? "",
        stderr: e.stderr ?? "",
      };
    }
  };
}
