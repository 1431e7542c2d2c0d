import { afterEach, describe, expect, it } from "vitest";
import { forgetServiceLogs, recordServiceLog } from "./service-logs.js";
import { waitFor, WaitTimeoutError } from "./wait.js";

describe("waitFor", () => {
  afterEach(() => {
    forgetServiceLogs();
  });

  it("returns the first truthy value", async () => {
    let n = 0;
    await expect(
      waitFor(() => (++n >= 3 ? n : undefined), { what: "n", intervalMs: 1 }),
    ).resolves.toBe(3);
  });

  it("fails with what it waited for, the last error and the diagnosis", async () => {
    const failing = waitFor(
      () => {
        throw new Error("pod web-0 is Pending");
      },
      {
        what: "pods to run",
        timeoutMs: 50,
        intervalMs: 10,
        diagnose: () => "kube-scheduler.log: no nodes",
      },
    );
    await expect(failing).rejects.toThrow(WaitTimeoutError);
    await expect(failing).rejects.toThrow(/pods to run[\s\S]*pod web-0 is Pending[\s\S]*no nodes/);
  });

  it("prints the last lines of every service the file started, stopped ones too", async () => {
    const helmer = Array.from({ length: 40 }, (_, i) => `{"msg":"helmer line ${String(i)}"}`);
    recordServiceLog({ name: "helmer", pid: 41, lines: () => helmer });
    recordServiceLog({
      name: "crd-hook",
      pid: 42,
      lines: () => ["lost the leader lease; exiting"],
      state: () => "exited with code 1",
    });
    const failing = waitFor(() => false, {
      what: "an instance's status",
      timeoutMs: 20,
      intervalMs: 5,
    });
    const message = await failing.then(
      () => "",
      (err: unknown) => (err as Error).message,
    );
    expect(message).toContain("--- helmer (pid 41), last 25 lines ---");
    expect(message).toContain("helmer line 39");
    expect(message).not.toContain('helmer line 14"');
    expect(message).toContain(
      "--- crd-hook (pid 42, exited with code 1), last 1 lines ---\nlost the leader lease; exiting",
    );
  });
});
