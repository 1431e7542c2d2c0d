import { describe, expect, it } from "vitest";
import { InstanceWorld } from "../../testing/instance-world.js";
import { RETRY_FAILED_MS } from "./deps.js";

describe("install", () => {
  it("installs a new instance, waits for its workloads, then says Ready once", async () => {
    const w = new InstanceWorld();
    w.notReady = [
      { id: "Deployment/app", status: "InProgress", message: "0 of 1 replicas available" },
    ];
    const first = await w.reconcile();
    expect(w.calls).toEqual(["install 1.0.0"]);
    expect(w.condition()).toMatchObject({ status: "False", reason: "Progressing" });
    expect(w.condition()?.message).toContain("Deployment/app: 0 of 1 replicas available");
    expect(w.condition("Reconciling")?.status).toBe("True");
    expect(first.requeueAfterMs).toBeLessThanOrEqual(1_000);
    w.notReady = [];
    await w.reconcile();
    await w.reconcile();
    expect(w.calls).toEqual(["install 1.0.0"]); // no second helm run for an installed spec
    expect(w.condition()).toMatchObject({ status: "True", reason: "Ready", observedGeneration: 1 });
    expect(w.condition("Reconciling")?.status).toBe("False");
    expect(w.instance.status?.chart).toMatchObject({ ref: "wordpress-chart-1.0.0" });
    expect(w.instance.status?.inventory?.map((o) => `${o.kind}/${o.name}`)).toEqual([
      "Service/app",
      "Deployment/app",
    ]);
    expect(w.events.map((e) => e.subject)).toEqual(["InstanceReady"]);
  });

  it.each([
    [
      "a failed install is uninstalled and Stalled with helm's error",
      (w: InstanceWorld) => {
        w.helmFails = () => "helm: context deadline exceeded";
      },
      {
        calls: ["install 1.0.0", "uninstall"],
        reason: "InstallFailed",
        message: "context deadline exceeded",
        requeue: RETRY_FAILED_MS,
        event: "InstanceFailed",
      },
    ],
    [
      "an unreachable chart runs no helm at all",
      (w: InstanceWorld) => {
        w.chartError = "GET https://charts.example/app.tgz: 503";
      },
      {
        calls: [],
        reason: "ChartUnavailable",
        message: "503",
        requeue: RETRY_FAILED_MS,
        event: "InstanceFailed",
      },
    ],
  ])("%s", async (_what, arrange, expected) => {
    const w = new InstanceWorld();
    arrange(w);
    const result = await w.reconcile();
    expect(w.calls).toEqual(expected.calls);
    expect(w.releases).toEqual([]);
    expect(w.condition()).toMatchObject({ status: "False", reason: expected.reason });
    expect(w.condition()?.message).toContain(expected.message);
    expect(w.condition("Stalled")?.status).toBe("True");
    expect(w.instance.status?.error).toContain(expected.message);
    expect(result.requeueAfterMs).toBe(expected.requeue);
    expect(w.events.map((e) => e.subject)).toEqual([expected.event]);
    // Reported again unchanged: not published twice.
    await w.reconcile();
    expect(w.events).toHaveLength(1);
  });

  it("installs again once the spec that failed is changed, and clears the failure", async () => {
    const w = new InstanceWorld({ greeting: "boom" });
    w.helmFails = (v) => (v.greeting === "boom" ? "helm: pre-install hook failed" : undefined);
    await w.reconcile();
    expect(w.condition()?.reason).toBe("InstallFailed");
    w.setSpec({ greeting: "fine" });
    await w.reconcile();
    expect(w.condition()).toMatchObject({ status: "True", observedGeneration: 2 });
    expect(w.instance.status?.error).toBe("");
    expect(w.condition("Stalled")?.status).toBe("False");
  });
});
