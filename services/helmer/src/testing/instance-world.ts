import type { ObjectEvent } from "../reconcile/kube-events.js";
import type { Condition, Instance, InstanceStatus, ResourceComposition } from "@kubeplus/api";
import { wordpressComposition } from "@kubeplus/api/fixtures";
import type { FetchedChart, RenderedObject } from "@kubeplus/charts";
import type { Logger } from "@kubeplus/runtime";
import type { FleetDecision } from "../reconcile/fleet.js";
import {
  INSTANCE_FINALIZER,
  IsolationRefusal,
  type InstanceEvent,
  type InstanceReconcileDeps,
  type NamespaceClaim,
} from "../reconcile/instance/deps.js";
import { reconcileInstance } from "../reconcile/instance/reconcile.js";
import type { NotReadyObject } from "../reconcile/readiness.js";
import type { ReconcileResult } from "../reconcile/work-queue.js";
import { mergePatch } from "./merge-patch.js";

/** One revision of the fake release history, as helm's storage keeps it. */
export interface Revision {
  revision: number;
  status: string;
  chart: string;
  values: Record<string, unknown>;
  manifest: string;
}

export const chartOf = (version: string): FetchedChart => ({
  metadata: { name: "wordpress-chart", version },
  digest: `sha256:${version}`,
  files: new Map(),
  values: {},
  valuesYaml: "",
  crds: [],
  path: `/charts/${version}.tgz`,
});

/** What the fake chart renders for some values: a Deployment, and a Pod with a hostPath volume when asked. */
export function renderFor(values: Record<string, unknown>): RenderedObject[] {
  const objects: RenderedObject[] = [
    { object: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "app" } } },
    { object: { apiVersion: "v1", kind: "Service", metadata: { name: "app" } } },
  ];
  if (typeof values.hostPath === "string")
    objects.push({
      object: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "debug" },
        spec: { volumes: [{ name: "host", hostPath: { path: values.hostPath } }] },
      },
    });
  return objects;
}

const manifestOf = (objects: readonly RenderedObject[]): string =>
  objects.map((o) => `---\n${JSON.stringify(o.object)}`).join("\n");

/**
 * A fake of everything an instance reconcile touches, with the semantics that matter to its decisions: a release
 * history that helm's operations move as helm moves it (install, upgrade, a failure recorded as a failed revision,
 * rollback to the last good revision, uninstall), a status that merge patches land in, a namespace, a fleet slot.
 * The isolation check refuses hostPath volumes unless the composition allows `hostPath`.
 */
export class InstanceWorld {
  instance: Instance;
  rc: ResourceComposition;
  chart = chartOf("1.0.0");
  releases: Revision[] = [];
  readonly calls: string[] = [];
  readonly events: InstanceEvent[] = [];
  /** The Kubernetes Events recorded about the instance. */
  readonly kubeEvents: ObjectEvent[] = [];
  /** Workloads not Current yet (by readiness.ts's verdict). */
  notReady: NotReadyObject[] = [];
  /** When it returns a message, helm's next install/upgrade of these values fails with it. */
  helmFails: (values: Record<string, unknown>) => string | undefined = () => undefined;
  /**
   * The helmer dies while helm runs: the revision stays pending-<operation> and that reconcile never finishes (a new
   * helmer's reconcile comes next).
   */
  crashHelm = false;
  rollbackFails = false;
  /** The composition's chart cannot be fetched. */
  chartError: string | undefined;
  /** While set, fetching the chart waits for it (a slow download). */
  chartFetch: Promise<void> | undefined;
  fleet: FleetDecision = "go";
  slotsReleased = 0;
  namespaceClaim: NamespaceClaim = { state: "ours" };
  namespaceOwner: "this" | "other" = "this";
  namespaceExists = true;
  finalizersSet: string[][] = [];
  statusWrites = 0;
  /** The controller's logger, when a test reads what the reconciles log. */
  log: Logger | undefined;

  constructor(spec: Record<string, unknown> = { greeting: "hello" }) {
    this.rc = wordpressComposition({
      uid: "rc-uid",
      status: {
        observedGeneration: 1,
        crd: "wordpressservices.platformapi.kubeplus",
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "Registered",
            message: "served",
            lastTransitionTime: "2026-12-01T00:00:00Z",
            observedGeneration: 1,
          },
        ],
      },
    });
    this.rc.metadata.generation = 1;
    this.instance = {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "WordpressService",
      metadata: {
        name: "t1",
        namespace: "kubeplus",
        uid: "t1-uid",
        generation: 1,
        finalizers: [INSTANCE_FINALIZER],
      },
      spec,
    };
  }

  /** The user changes the spec (a new generation). */
  setSpec(spec: Record<string, unknown>): void {
    this.instance = {
      ...this.instance,
      metadata: {
        ...this.instance.metadata,
        generation: (this.instance.metadata.generation ?? 0) + 1,
      },
      spec,
    };
  }

  condition(type = "Ready"): Condition | undefined {
    return this.instance.status?.conditions?.find((c) => c.type === type);
  }

  latest(): Revision | undefined {
    return this.releases.at(-1);
  }

  /** A reconcile that dies with the helmer while helm runs: never awaited; the world stays as helm left it. */
  async crash(): Promise<void> {
    this.crashHelm = true;
    void this.reconcile();
    await new Promise((r) => setTimeout(r, 5));
    this.crashHelm = false;
  }

  reconcile(): Promise<ReconcileResult> {
    return reconcileInstance("kubeplus", "t1", this.deps());
  }

  /** Reconciles until the result asks for no immediate requeue (at most `max` passes). */
  async settle(max = 5): Promise<ReconcileResult> {
    let result: ReconcileResult = {};
    for (let i = 0; i < max; i++) {
      result = await this.reconcile();
      if (result.requeueAfterMs !== 0) break;
    }
    return result;
  }

  private helmRun(
    values: Record<string, unknown>,
    problems: string[],
  ): RenderedObject[] | "crashed" {
    // Helm's post-render step refused: helm stops before it records or applies anything.
    if (problems.length > 0) throw new IsolationRefusal(problems);
    const objects = renderFor(values);
    const latest = this.latest();
    const operation = latest ? "upgrade" : "install";
    this.calls.push(`${operation} ${this.chart.metadata.version}`);
    const revision: Revision = {
      revision: (latest?.revision ?? 0) + 1,
      status: "deployed",
      chart: `${this.chart.metadata.name}-${this.chart.metadata.version}`,
      values: structuredClone(values),
      manifest: manifestOf(objects),
    };
    if (this.crashHelm) {
      this.releases.push({ ...revision, status: `pending-${operation}` });
      return "crashed";
    }
    const failure = this.helmFails(values);
    if (failure) {
      this.releases.push({ ...revision, status: "failed" });
      throw new Error(failure);
    }
    for (const r of this.releases) if (r.status === "deployed") r.status = "superseded";
    this.releases.push(revision);
    return objects;
  }

  private rollback(): number | undefined {
    if (this.rollbackFails) {
      this.calls.push("rollback failed");
      throw new Error("helm: rollback: no space left on device");
    }
    const good = [...this.releases]
      .reverse()
      .find((r) => r.status === "deployed" || r.status === "superseded");
    if (!good) {
      this.calls.push("rollback: none");
      return undefined;
    }
    this.calls.push(`rollback to ${good.revision}`);
    for (const r of this.releases) if (r.status === "deployed") r.status = "superseded";
    const latest = this.latest();
    this.releases.push({ ...good, revision: (latest?.revision ?? 0) + 1, status: "deployed" });
    return good.revision;
  }

  deps(): InstanceReconcileDeps {
    return {
      get: () => structuredClone(this.instance),
      composition: () => this.rc,
      namespaceLabels: () => undefined,
      namespaceExists: () => Promise.resolve(this.namespaceExists),
      reservedNamespace: () => undefined,
      claimNamespace: () => Promise.resolve(this.namespaceClaim),
      namespaceOwner: () =>
        Promise.resolve(
          !this.namespaceExists
            ? undefined
            : this.namespaceOwner === "this"
              ? { owner: "this" }
              : { owner: "other", detail: "namespace t1 belongs to kubeplus/other" },
        ) as never,
      deleteNamespace: () => {
        this.calls.push("delete namespace");
        this.namespaceExists = false;
        return Promise.resolve();
      },
      apply: () => Promise.resolve(),
      setFinalizers: (_i, finalizers) => {
        this.finalizersSet.push(finalizers);
        this.instance = {
          ...this.instance,
          metadata: { ...this.instance.metadata, finalizers },
        };
        return Promise.resolve();
      },
      writeStatus: (_i, status) => {
        this.statusWrites += 1;
        this.instance = {
          ...this.instance,
          status: mergePatch(this.instance.status, status) as InstanceStatus,
        };
        return Promise.resolve();
      },
      chart: async () => {
        await this.chartFetch;
        if (this.chartError) throw new Error(this.chartError);
        return this.chart;
      },
      render: (_c, _p, values) => Promise.resolve(renderFor(values)),
      isolationProblems: (rc, rendered) =>
        (rc.spec.isolation?.allow ?? []).includes("hostPath")
          ? []
          : rendered
              .filter((o) => JSON.stringify(o.object).includes('"hostPath"'))
              .map(
                (o) => `${String(o.object.kind)}/debug: hostPath volumes share the node's files`,
              ),
      release: () => {
        const latest = this.latest();
        return Promise.resolve(
          latest ? { ...latest, values: structuredClone(latest.values) } : undefined,
        );
      },
      upgradeInstall: async (_plan, _chart, values, checks) => {
        await Promise.resolve();
        const run = this.helmRun(values, checks.isolationProblems(renderFor(values)));
        return run === "crashed" ? new Promise<never>(() => undefined) : run;
      },
      rollback: async () => {
        await Promise.resolve();
        return this.rollback();
      },
      uninstall: () => {
        this.calls.push("uninstall");
        this.releases = [];
        return Promise.resolve();
      },
      notReady: () => Promise.resolve(this.notReady),
      fleetSlot: () => this.fleet,
      releaseFleetSlot: () => {
        this.slotsReleased += 1;
      },
      emit: (event) => this.events.push(event),
      recordEvent: (_instance, event) => {
        this.kubeEvents.push(event);
        return Promise.resolve();
      },
      resyncMs: 60_000,
      now: () => new Date("2026-12-02T10:00:00Z"),
      ...(this.log ? { log: this.log } : {}),
    };
  }
}
