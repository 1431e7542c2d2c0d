import { describe, expect, it } from "vitest";
import { waitFor, WaitTimeoutError } from "./wait.js";

describe("waitFor", () => {
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
});
