import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { recordServiceProcess, stopLeftoverServices, testWebhookName } from "./leftovers.js";

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const scratch: string[] = [];
const runDirOf = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "leftovers-"));
  scratch.push(dir);
  return dir;
};

describe("leftovers of an earlier test file", () => {
  afterEach(() => {
    for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("stops a recorded service still running its entry file, with its process group, and forgets the record", async () => {
    const runDir = runDirOf();
    const entry = join(runDir, "main.js");
    writeFileSync(entry, "setInterval(() => undefined, 1000);");
    // Detached, as startService starts services: a process group of its own that outlives the test worker.
    const child = spawn(process.execPath, [entry], { detached: true, stdio: "ignore" });
    const pid = child.pid ?? 0;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    recordServiceProcess(runDir, { pid, name: "helmer", entry });
    expect(stopLeftoverServices(runDir)).toEqual([`helmer (pid ${String(pid)})`]);
    await exited;
    expect(alive(pid)).toBe(false);
    expect(readdirSync(join(runDir, "test-services"))).toEqual([]);
  });

  it("never signals a recorded PID that now runs something else (PIDs are reused)", () => {
    const runDir = runDirOf();
    recordServiceProcess(runDir, {
      pid: process.pid,
      name: "crd-hook",
      entry: join(runDir, "services", "crd-hook", "dist", "main.js"),
    });
    expect(stopLeftoverServices(runDir)).toEqual([]);
    expect(alive(process.pid)).toBe(true);
    expect(readdirSync(join(runDir, "test-services"))).toEqual([]);
  });

  it("names each file's webhook configurations after its KubePlus namespace", () => {
    expect(testWebhookName("kpx-m3k2")).toBe("kubeplus-test-kpx-m3k2");
    expect(testWebhookName("x".repeat(300))).toHaveLength(253);
  });
});
