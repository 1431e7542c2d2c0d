import { describeProblems, validateComposition, type CompositionDeps } from "@kubeplus/admission";
import {
  Annotations,
  ConditionType,
  PlatformKinds,
  setCondition,
  type Condition,
  type ResourceComposition,
  type ResourceCompositionStatus,
} from "@kubeplus/api";
import { buildInstanceCrd, buildSampleManifest, type FetchedChart } from "@kubeplus/charts";
import type { ReconcileResult } from "./work-queue.js";

/** The field manager of every object the helmer applies. */
export const FIELD_MANAGER = "kubeplus-helmer";
export const COMPOSITION_LABEL = "kubeplus.dev/composition";

export const CompositionReason = {
  Registered: "Registered",
  Registering: "Registering",
  ValidationFailed: "ValidationFailed",
  ChartUnavailable: "ChartUnavailable",
} as const;

type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
};

/** What reconciling a composition needs: the cluster (through the cache and apply), the chart store. */
export interface CompositionReconcileDeps {
  get(namespace: string, name: string): ResourceComposition | undefined;
  chart(chartURL: string, chartName: string): Promise<FetchedChart>;
  checks: CompositionDeps;
  apply(object: KubeObject): Promise<void>;
  crdEstablished(name: string): Promise<boolean>;
  writeStatus(rc: ResourceComposition, status: ResourceCompositionStatus): Promise<void>;
  event(
    rc: ResourceComposition,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void>;
  now(): Date;
}

const RECHECK_AFTER_FAILURE_MS = 60_000;
const ESTABLISH_POLL_MS = 500;
const RESYNC_MS = 5 * 60_000;

function ownerReference(rc: ResourceComposition): Record<string, unknown> {
  return {
    apiVersion: rc.apiVersion,
    kind: rc.kind,
    name: rc.metadata.name,
    uid: rc.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The ResourcePolicy and ResourceMonitor objects embedded in a composition, as objects of their own. */
export function embeddedObjects(rc: ResourceComposition): KubeObject[] {
  const name = rc.metadata.name ?? "";
  const meta = (suffix: string, given?: string): Record<string, unknown> => ({
    name: given ?? `${name}-${suffix}`,
    namespace: rc.metadata.namespace,
    labels: { [COMPOSITION_LABEL]: name },
    ownerReferences: [ownerReference(rc)],
  });
  const out: KubeObject[] = [];
  const policy = rc.spec.respolicy;
  if (policy?.spec) {
    const k = PlatformKinds.ResourcePolicy;
    out.push({
      apiVersion: `${k.group}/${k.version}`,
      kind: k.kind,
      metadata: meta("policy", policy.metadata?.name),
      spec: policy.spec,
    });
  }
  const monitor = rc.spec.resmonitor;
  if (monitor?.spec) {
    const k = PlatformKinds.ResourceMonitor;
    out.push({
      apiVersion: `${k.group}/${k.version}`,
      kind: k.kind,
      metadata: meta("monitor", monitor.metadata?.name),
      spec: monitor.spec,
    });
  }
  return out;
}

interface Verdict {
  readonly status: Condition["status"];
  readonly reason: string;
  readonly message: string;
}

function withReady(rc: ResourceComposition, verdict: Verdict, now: Date): Condition[] {
  const generation = rc.metadata.generation ?? 0;
  const ready = setCondition(
    rc.status?.conditions,
    { type: ConditionType.Ready, ...verdict, observedGeneration: generation },
    now,
  );
  const stalled = verdict.reason === CompositionReason.ValidationFailed ? "True" : "False";
  return setCondition(
    ready,
    {
      type: ConditionType.Stalled,
      status: stalled,
      reason: verdict.reason,
      message: stalled === "True" ? verdict.message : "",
      observedGeneration: generation,
    },
    now,
  );
}

async function fail(
  rc: ResourceComposition,
  reason: string,
  message: string,
  deps: CompositionReconcileDeps,
): Promise<ReconcileResult> {
  const conditions = withReady(rc, { status: "False", reason, message }, deps.now());
  await deps.writeStatus(rc, {
    ...rc.status,
    status: message.split("\n")[0] ?? message,
    observedGeneration: rc.metadata.generation ?? 0,
    conditions,
  });
  if (rc.status?.conditions?.find((c) => c.type === ConditionType.Ready)?.message !== message) {
    await deps.event(rc, "Warning", reason, message);
  }
  return { requeueAfterMs: RECHECK_AFTER_FAILURE_MS };
}

/** The sample manifest ConfigMap `<kind>-usage` (key `spec`), as the original's `kubectl man` reads it. */
function usageConfigMap(rc: ResourceComposition, chart: FetchedChart): KubeObject {
  const resource = rc.spec.newResource.resource;
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: `${resource.kind.toLowerCase()}-usage`,
      namespace: rc.metadata.namespace,
      labels: { [COMPOSITION_LABEL]: rc.metadata.name },
      ownerReferences: [ownerReference(rc)],
    },
    data: { spec: buildSampleManifest(resource, chart) },
  };
}

/** The generated CRD of a composition (with the node-isolation field when the policy names one). */
function instanceCrdFor(
  rc: ResourceComposition,
  chart: FetchedChart,
): ReturnType<typeof buildInstanceCrd> {
  const values = {
    values: chart.values,
    ...(chart.valuesSchema ? { valuesSchema: chart.valuesSchema } : {}),
    name: chart.metadata.name,
  };
  const nodeSelector = rc.spec.respolicy?.spec?.policy?.podconfig?.nodeSelector;
  const owner = {
    name: rc.metadata.name ?? "",
    namespace: rc.metadata.namespace ?? "",
    ...(nodeSelector ? { nodeSelector } : {}),
  };
  return buildInstanceCrd(rc.spec.newResource.resource, values, owner);
}

/** Step 3: the generated CRD, the chart's own CRDs, the embedded policy and monitor, the sample manifest. */
async function register(
  rc: ResourceComposition,
  chart: FetchedChart,
  deps: CompositionReconcileDeps,
): Promise<{ crdName: string; notes: number }> {
  const name = rc.metadata.name ?? "";
  const { crd, notes } = instanceCrdFor(rc, chart);
  await deps.apply(crd as unknown as KubeObject);
  for (const chartCrd of chart.crds) {
    const meta = (chartCrd.metadata ?? {}) as Record<string, unknown>;
    const labels = {
      ...((meta.labels ?? {}) as Record<string, string>),
      [COMPOSITION_LABEL]: name,
    };
    await deps.apply({ ...(chartCrd as KubeObject), metadata: { ...meta, labels } });
  }
  for (const object of [...embeddedObjects(rc), usageConfigMap(rc, chart)])
    await deps.apply(object);
  for (const note of notes)
    await deps.event(rc, "Normal", "SchemaNote", `${note.path}: ${note.note}`);
  return { crdName: crd.metadata.name, notes: notes.length };
}

/** Step 5: Ready, with what is served and from which chart. */
async function reportRegistered(
  rc: ResourceComposition,
  chart: FetchedChart,
  crdName: string,
  deps: CompositionReconcileDeps,
): Promise<void> {
  const resource = rc.spec.newResource.resource;
  const message = `${resource.kind} is served as ${crdName}/${resource.version} (chart ${chart.metadata.name} ${chart.metadata.version})`;
  const wasReady = rc.status?.conditions?.some(
    (c) => c.type === ConditionType.Ready && c.status === "True" && c.message === message,
  );
  await deps.writeStatus(rc, {
    ...rc.status,
    status: message,
    observedGeneration: rc.metadata.generation ?? 0,
    conditions: withReady(
      rc,
      { status: "True", reason: CompositionReason.Registered, message },
      deps.now(),
    ),
    crd: crdName,
    chart: { name: chart.metadata.name, version: chart.metadata.version, digest: chart.digest },
  });
  if (!wasReady) await deps.event(rc, "Normal", CompositionReason.Registered, message);
}

/**
 * Reconciles one composition, level-based:
 *  1. load it from the cache; gone or deleting: done (deletion comes with the instance controller);
 *  2. run the admission checks again (a composition created while the webhook was down is still judged);
 *  3. register the generated CRD, the chart's own CRDs, the embedded ResourcePolicy/ResourceMonitor and the sample
 *     manifest, all by server-side apply;
 *  4. wait for the CRD to be Established;
 *  5. write status (conditions with a reason on every path, observedGeneration, CRD and chart) and Events.
 */
export async function reconcileComposition(
  key: string,
  deps: CompositionReconcileDeps,
): Promise<ReconcileResult> {
  const [namespace = "", name = ""] = key.split("/");
  const rc = deps.get(namespace, name);
  if (!rc || rc.metadata.deletionTimestamp) return {};

  const creator = rc.metadata.annotations?.[Annotations.AccountIdentity];
  const checks = await validateComposition(
    rc,
    undefined,
    creator ? { username: creator } : {},
    deps.checks,
  );
  if (checks.errors.length > 0) {
    return fail(
      rc,
      CompositionReason.ValidationFailed,
      describeProblems(`ResourceComposition ${name}`, checks.errors),
      deps,
    );
  }
  let chart: FetchedChart;
  try {
    chart = await deps.chart(rc.spec.newResource.chartURL, rc.spec.newResource.chartName);
  } catch (err) {
    return fail(
      rc,
      CompositionReason.ChartUnavailable,
      err instanceof Error ? err.message : String(err),
      deps,
    );
  }
  const { crdName } = await register(rc, chart, deps);
  if (!(await deps.crdEstablished(crdName))) {
    const verdict = {
      status: "False" as const,
      reason: CompositionReason.Registering,
      message: `waiting for CRD ${crdName} to be established`,
    };
    await deps.writeStatus(rc, {
      ...rc.status,
      observedGeneration: rc.metadata.generation ?? 0,
      conditions: withReady(rc, verdict, deps.now()),
      crd: crdName,
    });
    return { requeueAfterMs: ESTABLISH_POLL_MS };
  }
  await reportRegistered(rc, chart, crdName, deps);
  return { requeueAfterMs: RESYNC_MS };
}
