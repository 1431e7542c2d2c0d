import type { Instance, ResourceComposition } from "@kubeplus/api";
import { parseManifests, type FetchedChart, type RenderedObject } from "@kubeplus/charts";
import { apiErrorMessage } from "@kubeplus/kube/lite";
import type { InstancePlan } from "../instance-desired.js";
import type { ReconcileResult } from "../work-queue.js";
import { RETRY_FAILED_MS, type Converging, type InstanceReconcileDeps } from "./deps.js";
import { refused, refusalOfServed } from "./refusal.js";
import { decideHelmAction } from "./state.js";
import { InstanceReason, reportFailure } from "./status.js";

/**
 * The objects of a release that already serves this spec on this chart, as it applied them (its manifest and hooks,
 * in `helm template`'s layout): no helm run for a readiness poll or a resync. The chart is rendered only when the
 * stored manifest cannot be read. Undefined when helm has work to do (it renders then, and the post-render step
 * checks isolation).
 */
async function servedObjects(
  c: Pick<Converging, "instance" | "plan" | "chart" | "chartStatus" | "release">,
  deps: InstanceReconcileDeps,
): Promise<RenderedObject[] | undefined> {
  if (!c.release || decideHelmAction(c).kind !== "none") return undefined;
  try {
    return parseManifests(c.release.manifest);
  } catch {
    return deps.render(c.chart, c.plan, c.instance.spec);
  }
}

/**
 * What every Helm action works from: the composition's chart, the release's latest revision, and (when the release
 * already serves the spec) its objects, checked for isolation again. A failure is reported; the result says when to
 * look again.
 */
export async function prepare(
  instance: Instance,
  rc: ResourceComposition,
  plan: InstancePlan,
  deps: InstanceReconcileDeps,
): Promise<Converging | ReconcileResult> {
  let chart: FetchedChart;
  try {
    chart = await deps.chart(rc);
  } catch (err) {
    await reportFailure(
      { instance, plan },
      { reason: InstanceReason.ChartUnavailable, message: apiErrorMessage(err) },
      deps,
    );
    return { requeueAfterMs: RETRY_FAILED_MS };
  }
  const chartStatus = {
    name: chart.metadata.name,
    version: chart.metadata.version,
    ref: `${chart.metadata.name}-${chart.metadata.version}`,
    digest: chart.digest,
  };
  const release = await deps.release(plan);
  let rendered: RenderedObject[] | undefined;
  try {
    rendered = await servedObjects({ instance, plan, chart, chartStatus, release }, deps);
  } catch (err) {
    const reason = instance.status?.chart
      ? InstanceReason.UpgradeFailed
      : InstanceReason.InstallFailed;
    await reportFailure({ instance, plan }, { reason, message: apiErrorMessage(err) }, deps);
    return { requeueAfterMs: deps.resyncMs };
  }
  const refusal = refusalOfServed(rc, plan, rendered, deps);
  if (refusal) return refused({ instance, plan }, refusal, deps);
  return { instance, rc, plan, chart, chartStatus, release, ...(rendered ? { rendered } : {}) };
}
