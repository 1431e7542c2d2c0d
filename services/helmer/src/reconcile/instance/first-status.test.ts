import { describe, expect, it } from "vitest";
import { chartOf, InstanceWorld } from "../../testing/instance-world.js";
import { reportQueued, reportRetrying } from "./reconcile.js";

/** Lets every promise that can settle now settle (the reconcile runs up to its next real wait). */
const settled = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe("a new instance says what it waits for before anything slow", () => {
  it("says Preparing (its namespace and chart) while the chart is still being fetched, before helm runs", async () => {
    const w = new InstanceWorld();
    let fetched = (): void => undefined;
    w.chartFetch = new Promise((r) => (fetched = r));
    const running = w.reconcile();
    await settled();
    expect(w.calls).toEqual([]);
    expect(w.condition()).toMatchObject({ status: "False", reason: "Preparing" });
    expect(w.condition()?.message).toMatch(/preparing namespace t1-[0-9a-f]{8} and fetching chart/);
    expect(w.condition("Reconciling")).toMatchObject({ status: "True", reason: "Preparing" });
    expect(w.instance.status?.namespace).toMatch(/^t1-[0-9a-f]{8}$/);
    fetched();
    await running;
    expect(w.calls).toEqual(["install 1.0.0"]);
    expect(w.condition()).toMatchObject({ status: "True", reason: "Ready" });
  });

  it("never says Preparing again once it has said anything (a resync of a Ready instance stays Ready)", async () => {
    const w = new InstanceWorld();
    await w.reconcile();
    expect(w.condition()?.reason).toBe("Ready");
    let fetched = (): void => undefined;
    w.chartFetch = new Promise((r) => (fetched = r));
    const running = w.reconcile();
    await settled();
    expect(w.condition()?.reason).toBe("Ready");
    fetched();
    await running;
    expect(w.condition()?.reason).toBe("Ready");
  });

  it.each([
    [
      "its composition failed to fetch its chart",
      (w: InstanceWorld) => {
        const ready = w.rc.status?.conditions?.[0];
        if (ready)
          Object.assign(ready, {
            status: "False",
            reason: "ChartUnavailable",
            message: "GET chart: 503",
          });
      },
      /waiting for ResourceComposition kubeplus\/wp to register its current spec \(ChartUnavailable: GET chart: 503\)/,
    ],
    [
      "its composition's new spec is not registered yet",
      (w: InstanceWorld) => {
        w.rc.metadata.generation = 2;
      },
      /waiting for ResourceComposition .* to register its current spec \(Registered: served\)/,
    ],
  ])("says CompositionNotReady when %s, and runs nothing", async (_what, arrange, message) => {
    const w = new InstanceWorld();
    arrange(w);
    const result = await w.reconcile();
    expect(w.calls).toEqual([]);
    expect(w.condition()).toMatchObject({ status: "False", reason: "CompositionNotReady" });
    expect(w.condition()?.message).toMatch(message);
    expect(w.condition("Reconciling")?.status).toBe("True");
    expect(w.condition("Stalled")?.status).not.toBe("True");
    expect(result.requeueAfterMs).toBeGreaterThan(0);
  });

  it("keeps a Ready instance Ready while its composition registers a new spec (the release still serves)", async () => {
    const w = new InstanceWorld();
    await w.reconcile();
    expect(w.condition()?.reason).toBe("Ready");
    w.rc.metadata.generation = 2;
    await w.reconcile();
    expect(w.calls).toEqual(["install 1.0.0"]);
    expect(w.condition()).toMatchObject({ status: "True", reason: "Ready" });
    expect(w.condition("Reconciling")).toMatchObject({
      status: "True",
      reason: "CompositionNotReady",
    });
  });

  it("records a Kubernetes Event on each change of its state (kubectl describe, the console), not on a resync", async () => {
    const w = new InstanceWorld();
    await w.reconcile();
    expect(w.kubeEvents.map((e) => `${e.type} ${e.reason}`)).toEqual([
      "Normal Preparing",
      "Normal Installing",
      "Normal Ready",
    ]);
    expect(w.kubeEvents.at(-1)?.message).toMatch(/is ready in namespace t1-/);
    await w.reconcile();
    expect(w.kubeEvents).toHaveLength(3);
    w.chart = chartOf("2.0.0");
    w.fleet = "halted";
    await w.reconcile();
    // Ready kept True: the event tells what it is doing instead (Reconciling's reason).
    expect(w.kubeEvents.at(-1)).toMatchObject({ type: "Normal", reason: "UpgradeHalted" });
  });

  it("says Queued, with the reconciles ahead of it, while it waits for a worker", async () => {
    const w = new InstanceWorld();
    await reportQueued(w.instance, 3, w.deps());
    expect(w.condition()).toMatchObject({
      status: "False",
      reason: "Queued",
      message: "waiting for a free worker of the helmer: 3 reconciles ahead of it",
    });
    expect(w.condition("Reconciling")?.status).toBe("True");
    expect(w.instance.status?.namespace).toMatch(/^t1-[0-9a-f]{8}$/);
  });

  it("says Retrying with the error when a reconcile failed on something that may pass, unless it is Ready", async () => {
    const w = new InstanceWorld();
    const timeout = Object.assign(new Error("HTTP-Code: 504"), {
      body: JSON.stringify({ message: "etcdserver: request timed out" }),
    });
    await reportRetrying(w.instance, timeout, 3_200, w.deps());
    expect(w.condition()).toMatchObject({
      status: "False",
      reason: "Retrying",
      message: "etcdserver: request timed out; trying again in 4 s",
    });
    expect(w.condition("Stalled")?.status).not.toBe("True");
    await w.reconcile();
    expect(w.condition()?.reason).toBe("Ready");
    await reportRetrying(w.instance, timeout, 3_200, w.deps());
    expect(w.condition()?.reason).toBe("Ready");
  });
});
