import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig, type Cluster, type Context, type User } from "@kubernetes/client-node";

/** Which kubeconfig and context a command acts with (-k/--kubeconfig and --context). */
export interface KubeTarget {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

/** The parts of one kubeconfig file that kubectl merges. */
export interface KubeconfigParts {
  readonly clusters: readonly Cluster[];
  readonly users: readonly User[];
  readonly contexts: readonly Context[];
  readonly currentContext?: string | undefined;
}

/**
 * Merges kubeconfig files as kubectl merges $KUBECONFIG: for clusters, users and contexts, the first file that defines
 * a name wins; the current-context is the first file's that sets one.
 */
export function mergeKubeconfigs(files: readonly KubeconfigParts[]): KubeconfigParts {
  const firstByName = <T extends { name: string }>(lists: (readonly T[])[]): T[] => {
    const seen = new Map<string, T>();
    for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  return {
    clusters: firstByName(files.map((f) => f.clusters)),
    users: firstByName(files.map((f) => f.users)),
    contexts: firstByName(files.map((f) => f.contexts)),
    currentContext: files.map((f) => f.currentContext).find((c) => c !== undefined && c !== ""),
  };
}

/** The files $KUBECONFIG lists, in order, without empty entries or repeats (kubectl's reading). */
export function kubeconfigPaths(env: string | undefined): string[] {
  return [...new Set((env ?? "").split(":").filter((p) => p !== ""))];
}

/** Selects --context when given (it must exist), and checks the result points at a cluster. */
export function selectContext(kc: KubeConfig, context: string | undefined, source: string): void {
  if (context !== undefined) {
    if (!kc.getContextObject(context))
      throw new Error(
        `context "${context}" does not exist in ${source} (contexts: ${kc.contexts.map((c) => c.name).join(", ") || "none"})`,
      );
    kc.setCurrentContext(context);
  }
  const current = kc.getCurrentContext();
  if (!current) throw new Error(`${source} has no current context: pass --context <name>`);
  if (!kc.getCurrentCluster())
    throw new Error(`context "${current}" in ${source} names a cluster that is not defined`);
}

/**
 * The kubeconfig a command acts with, found as kubectl finds it: the path given (-k), else $KUBECONFIG (its files
 * merged; files that do not exist are skipped, as kubectl skips them), else ~/.kube/config; then --context. A missing
 * file is a clear error, never a silent fall-back to localhost.
 */
export function loadUserKubeconfig(
  target: KubeTarget | string | undefined,
  envKubeconfig: string | undefined,
): KubeConfig {
  const { kubeconfig: path, context } =
    typeof target === "object" ? target : { kubeconfig: target, context: undefined };
  const kc = new KubeConfig();
  if (path !== undefined) {
    if (!existsSync(path)) throw new Error(`kubeconfig ${path} does not exist`);
    kc.loadFromFile(path);
    selectContext(kc, context, `kubeconfig ${path}`);
    return kc;
  }
  const listed = kubeconfigPaths(envKubeconfig);
  const paths = listed.length > 0 ? listed : [join(homedir(), ".kube", "config")];
  const found = paths.filter((p) => existsSync(p));
  if (found.length === 0)
    throw new Error(
      `no kubeconfig found (${paths.join(":")}): pass -k/--kubeconfig <path> or set KUBECONFIG`,
    );
  // Each file is read on its own first, so that its relative certificate paths resolve against its own folder.
  const parts = found.map((p) => {
    const one = new KubeConfig();
    one.loadFromFile(p);
    return {
      clusters: one.clusters,
      users: one.users,
      contexts: one.contexts,
      currentContext: one.currentContext,
    };
  });
  const merged = mergeKubeconfigs(parts);
  kc.loadFromOptions({
    clusters: merged.clusters,
    users: merged.users,
    contexts: merged.contexts,
    currentContext: merged.currentContext ?? "",
  });
  selectContext(kc, context, found.length === 1 ? `kubeconfig ${found[0]}` : `KUBECONFIG`);
  return kc;
}
