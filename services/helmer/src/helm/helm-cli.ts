import { runCommand } from "@kubeplus/charts";
import {
  inSpan,
  Outcome,
  secondsSince,
  SpanKind,
  SpanStatusCode,
  type HelmMetrics,
} from "@kubeplus/runtime";

export interface HelmOptions {
  readonly helmBin: string;
  readonly kubeconfig?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** kubeplus_helm_run_duration_seconds{action,outcome}. */
  readonly metrics?: HelmMetrics;
}

/** The release a helm command names: after `upgrade --install`, else right after the action. */
const releaseOf = (args: readonly string[]): string =>
  (args[0] === "upgrade" ? args[2] : args[1]) ?? "";

/**
 * One helm process, timed by its action (the first argument), in a span `helm <action>` (action, release, namespace,
 * outcome; never the values). A non-zero exit is a failure.
 */
function helm(
  o: HelmOptions,
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const action = args[0] === "upgrade" ? "upgrade-install" : (args[0] ?? "");
  const namespace = args[args.indexOf("--namespace") + 1] ?? "";
  return inSpan(
    `helm ${action}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "kubeplus.helm.action": action,
        "kubeplus.helm.release": releaseOf(args),
        "k8s.namespace.name": namespace,
      },
    },
    async (span) => {
      const started = performance.now();
      let outcome: Outcome = Outcome.Failure;
      try {
        const r = await runCommand(o.helmBin, args, {
          timeoutMs: o.timeoutMs,
          ...(stdin !== undefined ? { stdin } : {}),
          ...(o.env ? { env: o.env } : {}),
        });
        if (r.code === 0) outcome = Outcome.Success;
        // Its exit code only: helm's stderr can quote the chart's templates and values.
        else span.setStatus({ code: SpanStatusCode.ERROR, message: `exit code ${String(r.code)}` });
        return r;
      } finally {
        span.setAttribute("kubeplus.helm.outcome", outcome);
        o.metrics?.ran(action, outcome, secondsSince(started));
      }
    },
  );
}

export class HelmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HelmError";
  }
}

function common(o: HelmOptions, namespace: string): string[] {
  return ["--namespace", namespace, ...(o.kubeconfig ? ["--kubeconfig", o.kubeconfig] : [])];
}

function firstLines(text: string, n = 6): string {
  return text.trim().split("\n").slice(0, n).join("\n");
}

export interface ReleaseRequest {
  readonly release: string;
  readonly namespace: string;
  readonly chartPath: string;
  readonly values: Record<string, unknown>;
  /** A post-renderer plugin and its arguments (the pod policy). */
  readonly postRenderer?: { readonly name: string; readonly args: readonly string[] };
}

/** `helm upgrade --install` with the instance's spec as values (stdin). */
export async function upgradeInstall(o: HelmOptions, req: ReleaseRequest): Promise<void> {
  const r = await helm(
    o,
    [
      "upgrade",
      "--install",
      req.release,
      req.chartPath,
      "--values",
      "-",
      "--history-max",
      "5",
      // The release owns what its chart declares: a field another manager took over (an HPA scaling .spec.replicas)
      // must not fail the upgrade; that controller asserts its value again, as with Helm 3's three-way merge.
      "--force-conflicts",
      // The apiserver validates every object it is sent (server-side apply); fetching and parsing the cluster's whole
      // OpenAPI document on each run doubled helm's CPU per release and loaded the apiserver as much again.
      "--disable-openapi-validation",
      // The chart's crds/ are applied by the helmer, only of the groups the composition declares: helm runs with
      // rights in the instance's namespace only, and must not create cluster-scoped objects.
      "--skip-crds",
      ...(req.postRenderer
        ? [
            "--post-renderer",
            req.postRenderer.name,
            ...req.postRenderer.args.flatMap((a) => ["--post-renderer-args", a]),
          ]
        : []),
      ...common(o, req.namespace),
    ],
    JSON.stringify(req.values),
  );
  if (r.code !== 0) throw new HelmError(firstLines(r.stderr));
}

/** `helm uninstall`; a release that is already gone is fine. */
export async function uninstall(o: HelmOptions, release: string, namespace: string): Promise<void> {
  const r = await helm(o, ["uninstall", release, "--ignore-not-found", ...common(o, namespace)]);
  if (r.code !== 0)
    throw new HelmError(`helm uninstall ${release} failed: ${firstLines(r.stderr)}`);
}

/**
 * `helm rollback` to the latest revision that was deployed successfully (helm's default when no revision is given
 * is the previous one, which may itself be a failed attempt). Returns the revision rolled back to, or undefined
 * when the release has never been deployed.
 */
export async function rollbackToLastDeployed(
  o: HelmOptions,
  release: string,
  namespace: string,
): Promise<number | undefined> {
  const history = await helm(o, [
    "history",
    release,
    "--max",
    "10",
    "--output",
    "json",
    ...common(o, namespace),
  ]);
  if (history.code !== 0)
    throw new HelmError(`helm history ${release} failed: ${firstLines(history.stderr)}`);
  const revisions = JSON.parse(history.stdout || "[]") as { revision: number; status: string }[];
  const good = revisions
    .filter((r) => r.status === "deployed" || r.status === "superseded")
    .map((r) => r.revision)
    .sort((a, b) => b - a)[0];
  if (good === undefined) return undefined;
  const r = await helm(o, [
    "rollback",
    release,
    String(good),
    "--force-conflicts",
    ...common(o, namespace),
  ]);
  if (r.code !== 0) throw new HelmError(`helm rollback ${release} failed: ${firstLines(r.stderr)}`);
  return good;
}
