import { describe, expect, it } from "vitest";
import type { ResourceComposition, ResourceCompositionStatus } from "@kubeplus/api";
import { wordpressComposition } from "@kubeplus/api/fixtures";
import type { CompositionDeps } from "@kubeplus/admission";
import type { FetchedChart } from "@kubeplus/charts";
import { mergePatch } from "../testing/merge-patch.js";
import type { FleetProgress } from "./fleet.js";
import {
  COMPOSITION_FINALIZER,
  reconcileComposition,
  reconcileFleet,
  type CompositionReconcileDeps,
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
function world(o: { generation: number; chart: FetchedChart; holdRegistration?: Promise<void> }) {
  const cached: ResourceComposition = {
    ...wordpressComposition({ uid: "u1", status: structuredClone(registeredStatus) }),
  };
  cached.metadata = {
    ...cached.metadata,
    generation: o.generation,
    finalizers: [COMPOSITION_FINALIZER],
  };
  const server: { status: ResourceCompositionStatus } = {
    status: structuredClone(registeredStatus),
  };
  const state = { upgraded: 0, writingRegistration: false };
  const registered = new Map<string, { name: string; version: string; digest: string }>();
  const deps: CompositionReconcileDeps = {
    get: () => cached,
    chart: () => Promise.resolve(o.chart),
    checks,
    apply: () => Promise.resolve(),
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
    listInstances: () => Promise.resolve([]),
    deleteInstance: () => Promise.resolve(),
    deleteCrds: () => Promise.resolve(0),
    fleet: (_rc, chart): FleetProgress => ({
      chart: `${chart.name}-${chart.version}`,
      total: 2,
      upgraded: state.upgraded,
      pending: 2 - state.upgraded,
      failed: 0,
      inFlight: 0,
      halted: false,
    }),
    registered: (_rc, chart) => registered.set(KEY, chart),
    registeredChart: (namespace, name) => registered.get(`${namespace}/${name}`),
    emitProgress: () => undefined,
    event: () => Promise.resolve(),
    now: () => NOW,
  };
  return { deps, server, state };
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
