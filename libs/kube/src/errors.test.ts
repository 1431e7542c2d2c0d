import { describe, expect, it } from "vitest";
import {
  asReconcileError,
  CONFLICT_REQUEUE_MS,
  RequeueAfterError,
  TerminalError,
} from "./errors.js";

const apiError = (code: number, message: string, headers: Record<string, string> = {}): Error =>
  Object.assign(new Error(`HTTP ${String(code)}`), {
    code,
    body: JSON.stringify({ message }),
    headers,
  });

describe("asReconcileError", () => {
  it.each([
    [422, "spec.x: Invalid value", {}, "terminal", 0],
    [400, "bad request", {}, "terminal", 0],
    [409, "the object has been modified", {}, "requeue", CONFLICT_REQUEUE_MS],
    [429, "too many requests", { "retry-after": "3" }, "requeue", 3000],
    [403, "forbidden (a RoleBinding not yet in effect)", {}, "retry", 0],
    [500, "etcd timeout", {}, "retry", 0],
  ] as const)("%s %s: %s", (code, message, headers, kind, delay) => {
    const err = asReconcileError(apiError(code, message, headers));
    if (kind === "terminal") {
      expect(err).toBeInstanceOf(TerminalError);
      expect((err as TerminalError).message).toContain(message);
    } else if (kind === "requeue") {
      expect(err).toBeInstanceOf(RequeueAfterError);
      expect((err as RequeueAfterError).afterMs).toBe(delay);
    } else {
      expect(err).not.toBeInstanceOf(TerminalError);
      expect(err).not.toBeInstanceOf(RequeueAfterError);
    }
  });
});
