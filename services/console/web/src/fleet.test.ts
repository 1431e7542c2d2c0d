import { describe, expect, it } from "vitest";
import { chartVersions, failingInstances, fleetSummary, rolloutText } from "./fleet.js";

const cond = (type: string, status: string, reason: string, message = "") => ({
  type,
  status,
  reason,
  message,
});
const inst = (
  name: string,
  version: string | undefined,
  ...conditions: ReturnType<typeof cond>[]
) => ({
  metadata: { name, namespace: "team-a" },
  status: { conditions, ...(version ? { chart: { version } } : {}) },
});

describe("rolloutText", () => {
  const summary = (status: Record<string, unknown>) =>
    fleetSummary({ metadata: { name: "hello" }, status });

  it("says the helmer's phase, wave and message when it records them", () => {
    expect(
      rolloutText(
        summary({
          instances: { total: 3, upgraded: 1, pending: 2 },
          rollout: { phase: "Soaking", wave: 1, waves: 3, message: "the canary is on the chart" },
        }),
      ),
    ).toBe("soaking (wave 1 of 3): the canary is on the chart");
  });

  it("falls back on the counts before the helmer records a rollout", () => {
    expect(rolloutText(summary({ instances: { total: 3, upgraded: 3, pending: 0 } }))).toBe("done");
    expect(rolloutText(summary({ instances: { total: 3, pending: 2, halted: true } }))).toBe(
      "halted: 2 held",
    );
    expect(rolloutText(summary({ instances: { total: 3, pending: 2 } }))).toBe("rolling out");
  });
});

describe("fleetSummary", () => {
  it("reads the composition's fleet counts and chart version", () => {
    const f = fleetSummary({
      metadata: { name: "hello" },
      spec: { newResource: { resource: { kind: "HelloWorldService" } } },
      status: {
        chart: { version: "0.0.3" },
        conditions: [cond("Ready", "True", "Registered")],
        instances: { total: 5, upgraded: 2, pending: 2, failed: 1, inFlight: 1, halted: true },
      },
    });
    expect(f).toEqual({
      name: "hello",
      kind: "HelloWorldService",
      chartVersion: "0.0.3",
      ready: "True",
      reason: "Registered",
      total: 5,
      upgraded: 2,
      pending: 2,
      failed: 1,
      inFlight: 1,
      halted: true,
      pinned: 0,
      phase: "",
      wave: 0,
      waves: 0,
      rolloutMessage: "",
      incompatible: 0,
    });
  });

  it("reads a composition without status as an empty fleet", () => {
    const f = fleetSummary({ metadata: { name: "new" } });
    expect([f.total, f.halted, f.chartVersion]).toEqual([0, false, ""]);
  });
});

describe("chartVersions", () => {
  it("counts instances per chart version, most first", () => {
    const list = [inst("a", "0.0.2"), inst("b", "0.0.3"), inst("c", "0.0.3"), inst("d", undefined)];
    expect(chartVersions(list)).toEqual([
      { version: "0.0.3", count: 2 },
      { version: "", count: 1 },
      { version: "0.0.2", count: 1 },
    ]);
  });
});

describe("failingInstances", () => {
  it("lists instances that fail with their reason, not those on their way", () => {
    const list = [
      inst("ok", "1", cond("Ready", "True", "Ready")),
      inst("installing", "1", cond("Ready", "False", "Installing")),
      inst("held", "1", cond("Ready", "False", "UpgradeHalted", "rollout halted")),
      inst(
        "broken",
        "1",
        cond("Ready", "False", "Progressing"),
        cond("Stalled", "True", "JobFailed", "job x failed"),
      ),
      inst("refused", "1", cond("Ready", "False", "IsolationRefused", "hostPath")),
    ];
    expect(failingInstances(list).map((f) => [f.name, f.reason, f.message])).toEqual([
      ["held", "UpgradeHalted", "rollout halted"],
      ["broken", "JobFailed", "job x failed"],
      ["refused", "IsolationRefused", "hostPath"],
    ]);
  });
});
