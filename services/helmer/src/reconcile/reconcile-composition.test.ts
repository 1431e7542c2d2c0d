import { describe, expect, it } from "vitest";
import type { ResourceComposition, ResourceCompositionStatus } from "@kubeplus/api";
import { wordpressComposition } from "@kubeplus/api/fixtures";
import type { CompositionDeps } from "@kubeplus/admission";
import type { FetchedChart } from "@kubeplus/charts";
import { mergePatch } from "../testing/merge-patch.js";
import type { FleetProgress } from "./fleet.js";
import type { Member } from "./rollout.js";
import {
  COMPOSITION_FINALIZER,
  reconcileComposition,
  reconcileFleet,
  type CompositionReconcileDeps,
  type ListedInstance,
} from "./reconcile-composition.js";

const KEY = "kubeplus/wp";
const NOW = new Date("2026-12-02T10:00:00Z");

const chartOf = (version: string): FetchedChart => ({
  metadata: { name: "wordpress-chart", version },
  digest: `sha256:${version}`,
  files: new Map(),
  values: {},
  valuesYaml: "",
  crds: [],
  path: `/charts/${version}.tgz`,
});

const checks: CompositionDeps = {
  servedResources: () => Promise.resolve([]),
  crdOwner: () => KEY,
  render: () =>
    Promise.resolve({
      version: 1,
      chart: { name: "wordpress-chart", version: "0.0.5", digest: "sha256:0.0.5" },
      objects: [{ apiVersion: "v1", kind: "Service", metadata: { name: "wp" } }],
      values: {},
    }),
  lintContext: (allow) => ({ allow, storageClasses: new Map(), isNamespaced: () => undefined }),
  missingPermissions: () => Promise.resolve([]),
  allocatable: () => ({ cpu: 28, memory: 112 * 2 ** 30 }),
};

/** Registered at generation 1 on chart 0.0.4, two instances still to move to it. */
const registeredStatus: ResourceCompositionStatus = {
  status: "WordpressService is served",
  observedGeneration: 1,
  conditions: [
    {
      type: "Ready",
      status: "True",
      reason: "Registered",
      message:
        "WordpressService is served as wordpressservices.platformapi.kubeplus/v1alpha1 (chart wordpress-chart 0.0.4)",
      lastTransitionTime: "2026-12-01T00:00:00Z",
      observedGeneration: 1,
    },
  ],
  crd: "wordpressservices.platformapi.kubeplus",
  chart: { name: "wordpress-chart", version: "0.0.4", digest: "sha256:0.0.4" },
  instances: {
    chart: "wordpress-chart-0.0.4",
    total: 2,
    upgraded: 0,
    pending: 2,
    failed: 0,
    inFlight: 0,
    halted: false,
  },
};

/**
 * The cluster as both reconciles see it: `server` is the status in etcd (merge patches applied in the order they
 * land); `cached` is the watch cache's copy, which stays as it was read. `upgraded` instances are on the chart.
 */
function world(o: {
  generation: number;
  chart: FetchedChart;
  holdRegistration?: Promise<void>;
  instances?: ListedInstance[];
  allowIncompatible?: boolean;
}) {
  const cached: ResourceComposition = {
    ...wordpressComposition({ uid: "u1", status: structuredClone(registeredStatus) }),
  };
  cached.metadata = {
    ...cached.metadata,
    generation: o.generation,
    finalizers: [COMPOSITION_FINALIZER],
  };
  if (o.allowIncompatible) cached.spec = { ...cached.spec, upgrade: { allowIncompatible: true } };
  const server: { status: ResourceCompositionStatus } = {
    status: structuredClone(registeredStatus),
  };
  const state = {
    upgraded: 0,
    writingRegistration: false,
    applied: [] as string[],
    events: [] as string[],
    members: undefined as Member[] | undefined,
  };
  const registered = new Map<string, { name: string; version: string; digest: string }>();
  const deps: CompositionReconcileDeps = {
    get: () => cached,
    chart: () => Promise.resolve(o.chart),
    checks,
    apply: (object) => {
      state.applied.push(`${object.kind}/${String(object.metadata.name)}`);
      return Promise.resolve();
    },
    crdEstablished: () => Promise.resolve(true),
    writeStatus: async (_rc, fields) => {
      // The registration's write (the first with conditions) is held until the test lets it land.
      if ("conditions" in fields && o.holdRegistration && !state.writingRegistration) {
        state.writingRegistration = true;
        await o.holdRegistration;
      }
      server.status = mergePatch(server.status, fields) as ResourceCompositionStatus;
    },
    setFinalizers: () => Promise.resolve(),
    listInstances: () => Promise.resolve(o.instances ?? []),
    deleteInstance: () => Promise.resolve(),
    deleteCrds: () => Promise.resolve(0),
    fleet: (_rc, chart): FleetProgress => ({
      chart: `${chart.name}-${chart.version}`,
      total: 2,
      upgraded: state.upgraded,
      pending: 2 - state.upgraded,
      failed: 0,
      pinned: 0,
      inFlight: 0,
      halted: false,
    }),
    members: () => state.members,
    registered: (_rc, chart) => registered.set(KEY, chart),
    registeredChart: (namespace, name) => registered.get(`${namespace}/${name}`),
    emitProgress: () => undefined,
    event: (_rc, type, reason) => {
      state.events.push(`${type} ${reason}`);
      return Promise.resolve();
    },
    now: () => NOW,
  };
  return { deps, server, state, cached };
}

const settle = async (until: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !until(); i++) await new Promise((r) => setTimeout(r, 1));
};

describe("two reconciles of one composition at once (its registration and its fleet counts)", () => {
  it("keeps the newer fleet counts when the registration computed before them lands after them", async () => {
    let release = (): void => undefined;
    const hold = new Promise<void>((r) => (release = r));
    const { deps, server, state } = world({
      generation: 1,
      chart: chartOf("0.0.4"),
      holdRegistration: hold,
    });
    const registration = reconcileComposition(KEY, deps);
    await settle(() => state.writingRegistration);
    expect(state.writingRegistration).toBe(true);
    // Meanwhile an instance reaches the chart, and the fleet path counts it and writes first.
    state.upgraded = 1;
    await reconcileFleet(KEY, deps);
    expect(server.status.instances).toMatchObject({ upgraded: 1, pending: 1 });
    release();
    await registration;
    expect(server.status.instances).toMatchObject({ upgraded: 1, pending: 1 });
    expect(server.status.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("keeps the newer registration when fleet counts made from an older cached status land after it", async () => {
    // The spec changed (generation 2, chart 0.0.5): the registration writes first; the cache still shows generation
    // 1's status when the fleet path runs.
    const { deps, server, state } = world({ generation: 2, chart: chartOf("0.0.5") });
    await reconcileComposition(KEY, deps);
    expect(server.status.chart?.version).toBe("0.0.5");
    state.upgraded = 1;
    await reconcileFleet(KEY, deps);
    expect(server.status.chart).toEqual({
      name: "wordpress-chart",
      version: "0.0.5",
      digest: "sha256:0.0.5",
    });
    expect(server.status.observedGeneration).toBe(2);
    const ready = server.status.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "True", observedGeneration: 2 });
    expect(ready?.message).toContain("chart wordpress-chart 0.0.5");
    expect(server.status.instances).toMatchObject({ chart: "wordpress-chart-0.0.5", upgraded: 1 });
  });
});

describe("the rollout's waves (reconcileFleet)", () => {
  const member = (name: string, standing: Member["standing"]): Member => ({
    key: `t/${name}`,
    labels: {},
    standing,
    ready: true,
  });

  it("records the canary's soak, says it in an event, and looks again when the soak ends", async () => {
    const { deps, server, state, cached } = world({ generation: 1, chart: chartOf("0.0.4") });
    cached.spec = {
      ...cached.spec,
      upgrade: { canary: { count: 1, soakSeconds: 120 }, waveSize: 1 },
    };
    state.members = [member("a", "upgraded"), member("b", "pending"), member("c", "pending")];
    const result = await reconcileFleet(KEY, deps);
    expect(server.status.rollout).toMatchObject({
      chart: "wordpress-chart-0.0.4",
      digest: "sha256:0.0.4",
      phase: "Soaking",
      wave: 1,
      waves: 3,
      canaryReadyAt: NOW.toISOString(),
    });
    expect(result.requeueAfterMs).toBe(120_000);
    expect(state.events).toContain("Normal RolloutSoaking");
  });

  it("opens the next wave once the recorded soak has passed, and says nothing new when nothing changed", async () => {
    const { deps, server, state, cached } = world({ generation: 1, chart: chartOf("0.0.4") });
    cached.spec = {
      ...cached.spec,
      upgrade: { canary: { count: 1, soakSeconds: 60 }, waveSize: 1 },
    };
    cached.status = {
      ...cached.status,
      rollout: {
        digest: "sha256:0.0.4",
        phase: "Rolling",
        wave: 2,
        waves: 3,
        canaryReadyAt: new Date(NOW.getTime() - 61_000).toISOString(),
      },
    };
    state.members = [member("a", "upgraded"), member("b", "pending"), member("c", "pending")];
    const result = await reconcileFleet(KEY, deps);
    expect(server.status.rollout).toMatchObject({ phase: "Rolling", wave: 2, waves: 3 });
    expect(result.requeueAfterMs).toBeUndefined();
    expect(state.events.filter((e) => e.includes("Rollout"))).toEqual([]);
  });
});

describe("the compatibility gate of a chart change", () => {
  const narrowed = (version: string): FetchedChart => ({
    ...chartOf(version),
    values: { replicas: 1 },
    valuesSchema: {
      type: "object",
      properties: { replicas: { type: "integer", minimum: 1, maximum: 3 } },
    },
  });
  const fits: ListedInstance = {
    namespace: "a",
    name: "fits",
    deleting: false,
    spec: { replicas: 2 },
  };
  const breaks: ListedInstance = {
    namespace: "b",
    name: "breaks",
    deleting: false,
    spec: { replicas: 5, legacy: "x" },
  };
  const crdApplied = (applied: string[]): boolean =>
    applied.includes("CustomResourceDefinition/wordpressservices.platformapi.kubeplus");

  it("holds the whole rollout when some instance's values do not fit, listing them field by field", async () => {
    const { deps, server, state } = world({
      generation: 2,
      chart: narrowed("0.0.5"),
      instances: [fits, breaks],
    });
    const result = await reconcileComposition(KEY, deps);
    expect(result).toEqual({ requeueAfterMs: 30_000 });
    expect(crdApplied(state.applied)).toBe(false);
    expect(server.status.chart?.digest).toBe("sha256:0.0.4");
    expect(server.status.compatibility).toEqual({
      chart: "wordpress-chart-0.0.5",
      digest: "sha256:0.0.5",
      checked: 2,
      incompatibleCount: 1,
      incompatible: [
        {
          namespace: "b",
          name: "breaks",
          problems: [
            {
              path: "spec.legacy",
              kind: "removed",
              detail: "the new chart has no such value: it would be dropped from the instance",
            },
            { path: "spec.replicas", kind: "invalid", detail: "must be <= 3 (now 5)" },
          ],
        },
      ],
    });
    const ready = server.status.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "UpgradeBlocked" });
    expect(ready?.message).toMatch(
      /^chart wordpress-chart-0\.0\.5 is not rolled out: the values of 1 of 2 instance\(s\) do not fit it: b\/breaks \(spec\.legacy: .*; spec\.replicas: must be <= 3 \(now 5\)\)\. .*allowIncompatible/,
    );
    expect(server.status.conditions?.find((c) => c.type === "Stalled")?.status).toBe("True");
    expect(state.events).toEqual(["Warning UpgradeBlocked"]);
  });

  it("goes ahead on the compatible instances when the provider allows it, with the others listed", async () => {
    const { deps, server, state } = world({
      generation: 2,
      chart: narrowed("0.0.5"),
      instances: [fits, breaks],
      allowIncompatible: true,
    });
    await reconcileComposition(KEY, deps);
    expect(crdApplied(state.applied)).toBe(true);
    expect(server.status.chart?.digest).toBe("sha256:0.0.5");
    expect(server.status.compatibility?.incompatible?.map((i) => i.name)).toEqual(["breaks"]);
    expect(server.status.conditions?.find((c) => c.type === "Ready")?.reason).toBe("Registered");
  });

  it("registers a chart every instance fits, and says so", async () => {
    const { deps, server, state } = world({
      generation: 2,
      chart: narrowed("0.0.5"),
      instances: [fits],
    });
    await reconcileComposition(KEY, deps);
    expect(crdApplied(state.applied)).toBe(true);
    expect(server.status.compatibility).toMatchObject({
      checked: 1,
      incompatibleCount: 0,
      incompatible: [],
    });
  });

  it("does not run on the chart already registered, nor judge deleting instances", async () => {
    const same = world({ generation: 1, chart: chartOf("0.0.4"), instances: [breaks] });
    await reconcileComposition(KEY, same.deps);
    expect(same.server.status.compatibility).toBeUndefined();
    const deleting = world({
      generation: 2,
      chart: narrowed("0.0.5"),
      instances: [fits, { ...breaks, deleting: true }],
    });
    await reconcileComposition(KEY, deleting.deps);
    expect(crdApplied(deleting.state.applied)).toBe(true);
  });
});
