// The real nodes' life cycle on this machine: a second `up` after a crash (every process killed, nothing cleaned)
// starts again in the same slot, and `down` leaves no network namespace, host interface, cgroup, mount, process or
// slot behind. Runs its own control plane beside the suite's (another slot), with kwok kept small.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { down, readState, up, type ClusterState } from "./cluster.js";

const runDir = mkdtempSync(join(tmpdir(), "kubeplus-real-nodes-"));
const report = (): void => undefined;

const netns = (): string[] =>
  execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter(Boolean);
const links = (): string[] =>
  execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(": ")[1]?.split("@")[0] ?? "")
    .filter(Boolean);
const mountsUnder = (dir: string): string[] =>
  readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p.startsWith(dir));
const cgroups = (slot: number): string[] =>
  readdirSync("/sys/fs/cgroup/memory").filter((e) => e.startsWith(`kubeplus-${slot}-node`));

/** What a slot's real nodes leave on the host. */
function leftovers(slot: number): string[] {
  return [
    ...netns().filter((n) => n.startsWith(`kp${slot}-`)),
    ...links().filter((l) => l.startsWith(`kp${slot}`)),
    ...cgroups(slot),
    ...mountsUnder(join(runDir, "nodes")),
    ...(existsSync(`/run/kubeplus-dev/slots/slot-${slot}`) ? [`slot-${slot}`] : []),
  ];
}

function kubectl(state: ClusterState, args: string[]): string {
  return execFileSync(state.tools.kubectl, ["--kubeconfig", state.kubeconfig, ...args], {
    encoding: "utf8",
  });
}

afterAll(async () => {
  await down(runDir, report);
}, 120_000);

describe("real nodes on this machine", () => {
  it("come back after a crash in the same slot, and down leaves nothing behind", async () => {
    const first = (
      await up({ runDir, nodes: 1, realNodes: 1, maxPods: 20, env: process.env, report })
    ).state;
    const slot = first.network.slot;
    expect(
      kubectl(first, [
        "get",
        "node",
        "real-node-0",
        "-o",
        "jsonpath={.status.nodeInfo.containerRuntimeVersion}",
      ]),
    ).toBe("containerd://2.2.9");
    kubectl(first, [
      "run",
      "sleeper",
      "--image=localhost/kubeplus/busybox:1.35.0",
      "--image-pull-policy=IfNotPresent",
      `--overrides=${JSON.stringify({ spec: { nodeSelector: { "kubeplus.dev/real-node": "true" }, tolerations: [{ key: "kubeplus.dev/real-node", operator: "Exists" }] } })}`,
      "--",
      "sleep",
      "3600",
    ]);
    kubectl(first, ["wait", "--for=condition=Ready", "pod/sleeper", "--timeout=90s"]);
    expect(leftovers(slot).length).toBeGreaterThan(3);

    // A crash: every process of the control plane and of the node killed at once, nothing cleaned up.
    const pids = [...first.processes, ...first.realNodeProcesses].map((p) => p.pid);
    for (const pid of pids) process.kill(pid, "SIGKILL");
    expect(netns()).toContain(`kp${slot}-node0`);

    const second = (
      await up({ runDir, nodes: 1, realNodes: 1, maxPods: 20, env: process.env, report })
    ).state;
    expect(second.network.slot).toBe(slot);
    expect(
      kubectl(second, [
        "get",
        "node",
        "real-node-0",
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]),
    ).toBe("True");

    expect(await down(runDir, report)).toBe(true);
    expect(readState(runDir)).toBeUndefined();
    expect(leftovers(slot)).toEqual([]);
  }, 400_000);
});
