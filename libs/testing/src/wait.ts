import { setTimeout as sleep } from "node:timers/promises";
import { serviceLogTails } from "./service-logs.js";

export interface WaitOptions {
  /** What we are waiting for, in words: "pods of web to be Running". */
  readonly what: string;
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Called once on timeout; its text (the objects involved, component log tails) is added to the error. */
  readonly diagnose?: () => Promise<string> | string;
}

/** Thrown when a condition did not hold in time; the message carries the diagnosis. */
export class WaitTimeoutError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WaitTimeoutError";
  }
}

async function runDiagnosis(diagnose: WaitOptions["diagnose"]): Promise<string> {
  if (!diagnose) return "";
  try {
    return await diagnose();
  } catch (err) {
    return `(diagnosis failed: ${String(err)})`;
  }
}

/**
 * Polls `check` until it returns a value other than undefined/false, and returns that value. On timeout it throws
 * with the last error `check` raised, the `diagnose` output and the last lines of every service the test file started
 * (service-logs.ts), so a failing test says what it saw and what each service was doing.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) break;
    await sleep(options.intervalMs ?? 200);
  }
  const diagnosis = await runDiagnosis(options.diagnose);
  const services = serviceLogTails();
  const last = lastError instanceof Error ? `\nlast error: ${lastError.message}` : "";
  throw new WaitTimeoutError(
    `timed out after ${(options.timeoutMs ?? 30_000) / 1000}s waiting for ${options.what}${last}${diagnosis ? `\n${diagnosis}` : ""}${services ? `\nservices started by this test file:\n${services}` : ""}`,
    { cause: lastError },
  );
}
