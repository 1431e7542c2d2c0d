import type { KubeConfig } from "@kubernetes/client-node";
import { AccessNames, ClusterIO, Paths } from "@kubeplus/access";
import type { KubeTarget } from "./kubeconfig.js";

/** What a plugin needs from its process, injected (main.ts passes the real ones). */
export interface PluginIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Loads lazily: the Kubernetes client is loaded only by commands that talk to a cluster (fast --help). */
  readonly loadKubeconfig: (target: KubeTarget) => Promise<KubeConfig>;
}

/** A mistake in how the plugin was called: printed with a pointer to --help. */
export class UsageError extends Error {}

/**
 * Runs a plugin body: every failure is one line on stderr; exit code 2 for a usage error (with a pointer to --help), 1
 * for anything else (the cluster refused or failed, or something was not found); nothing on stderr on success.
 */
export async function runPlugin(
  name: string,
  io: PluginIO,
  body: () => Promise<void>,
): Promise<number> {
  try {
    await body();
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const usage =
      err instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
    io.err(`error: ${(err as Error).message}`);
    if (usage) io.err(`Run kubectl ${name} --help for usage.`);
    return usage ? 2 : 1;
  }
}

/**
 * The namespace KubePlus runs in: the one given, else the kubeconfig's context namespace when the provider lives
 * there, else where the provider's cluster binding points (readable by an administrator).
 */
export async function findKubeplusNamespace(kc: KubeConfig, given?: string): Promise<string> {
  if (given) return given;
  const io = new ClusterIO(kc, "kubectl-kubeplus");
  const context = kc.getContextObject(kc.getCurrentContext())?.namespace;
  if (context) {
    const sa = await io
      .get(Paths.serviceAccount(context, AccessNames.Provider))
      .catch(() => undefined);
    if (sa) return context;
  }
  const binding = await io
    .get<{ subjects?: { namespace?: string }[] }>(Paths.clusterRoleBinding(AccessNames.Provider))
    .catch(() => undefined);
  const found = binding?.subjects?.[0]?.namespace;
  if (found) return found;
  throw new UsageError(
    "cannot find the KubePlus namespace with this kubeconfig: pass -n/--namespace <namespace>",
  );
}
