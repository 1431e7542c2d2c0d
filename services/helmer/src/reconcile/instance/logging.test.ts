import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "@kubeplus/runtime";
import { InstanceWorld } from "../../testing/instance-world.js";

/** A debug-level logger whose lines the test reads back (pino JSON). */
function capture(): { lines: Record<string, unknown>[]; world: InstanceWorld } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(text) as Record<string, unknown>);
      done();
    },
  });
  const world = new InstanceWorld();
  world.log = createLogger({ service: "helmer", level: "debug", destination }).child({
    component: "instances",
  });
  return { lines, world };
}

const INSTANCE = {
  kind: "WordpressService",
  namespace: "kubeplus",
  name: "t1",
  uid: "t1-uid",
  generation: 1,
};

describe("a reconcile's log", () => {
  it("names the instance on every line, says each state change at info and each step at debug", async () => {
    const { lines, world } = capture();
    world.notReady = [
      { id: "Deployment/app", status: "InProgress", message: "0 of 1 replicas available" },
    ];
    await world.reconcile();
    world.notReady = [];
    await world.reconcile();
    await world.reconcile();
    // Every line carries the instance's identity (one child logger per reconcile).
    for (const line of lines) expect(line).toMatchObject({ ...INSTANCE, component: "instances" });
    const info = lines.filter((l) => l.level === 30).map((l) => [l.msg, l.reason ?? l.action]);
    expect(info).toEqual([
      // A new instance says Preparing before its namespace, chart and helm run (first-status.test.ts).
      ["instance state changed", "Preparing"],
      ["helm action", "install"],
      ["instance state changed", "Installing"],
      ["instance state changed", "Progressing"],
      ["instance state changed", "Ready"],
    ]);
    const steps = lines.filter((l) => l.level === 20).map((l) => l.msg);
    expect(steps).toContain("reconcile started");
    expect(steps).toContain("namespace claimed and isolation objects applied");
    expect(steps).toContain("chart fetched and release read");
    expect(steps).toContain("release serves this spec; no helm action");
    // The third reconcile changed nothing: its state line is at debug.
    expect(steps).toContain("instance state unchanged");
    expect(steps.filter((m) => m === "reconcile done")).toHaveLength(3);
  });

  it("says why at info when the instance fails, with the generation it read", async () => {
    const { lines, world } = capture();
    world.helmFails = () => "helm: pre-install hook failed";
    world.setSpec({ greeting: "boom" });
    await world.reconcile();
    const failed = lines.find(
      (l) => l.msg === "instance state changed" && l.reason === "InstallFailed",
    );
    expect(failed).toMatchObject({
      ...INSTANCE,
      generation: 2,
      ready: false,
      previousReason: "Installing",
    });
    expect(String(failed?.message)).toContain("pre-install hook failed");
  });
});
