/** The HTTP status of a Kubernetes API error (client-node's ApiException carries `code`), or undefined. */
export function apiStatusCode(err: unknown): number | undefined {
  if (err && typeof err === "object" && "code" in err && typeof err.code === "number")
    return err.code;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => apiStatusCode(err) === 404;
export const isConflict = (err: unknown): boolean => apiStatusCode(err) === 409;
export const isAlreadyExists = isConflict;

/** The message the apiserver gave (its Status.message), else the error's own message. */
export function apiErrorMessage(err: unknown): string {
  if (err && typeof err === "object" && "body" in err) {
    const body = (err as { body?: unknown }).body;
    const text = typeof body === "string" ? body : JSON.stringify(body);
    try {
      const parsed = JSON.parse(text) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      // not JSON: fall through
    }
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * One place that decides what a failed API call means: 400, 401, 403 and 422 are terminal (retrying cannot help);
 * 404, 409, 429, 5xx and transport errors are retryable.
 */
export function classifyKubernetesError(err: unknown): "terminal" | "retryable" {
  const code = apiStatusCode(err);
  return code !== undefined && [400, 401, 403, 422].includes(code) ? "terminal" : "retryable";
}

/** A failure that retrying will not fix: the work queue does not retry it; the controller records it as Stalled. */
export class TerminalError extends Error {
  /** The condition reason the controller reports it with (a CamelCase word), when the thrower knows one. */
  readonly reason: string | undefined;

  constructor(message: string, options?: { cause?: unknown; reason?: string }) {
    super(message, options);
    this.name = "TerminalError";
    this.reason = options?.reason;
  }
}

/** Try again after exactly this delay (a dependency is not ready yet), without counting it as a failure. */
export class RequeueAfterError extends Error {
  readonly afterMs: number;

  constructor(afterMs: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RequeueAfterError";
    this.afterMs = afterMs;
  }
}

/** How soon a reconcile that lost an optimistic-concurrency race (409) looks again, with a fresher cache. */
export const CONFLICT_REQUEUE_MS = 250;

/**
 * A reconcile's failed Kubernetes call as the work queue should treat it: 400 and 422 (the apiserver refused the
 * object itself) are terminal; 409 (the object changed since it was read) is looked at again shortly; 429 after the
 * server's Retry-After. 403 stays retryable here: a namespace's RoleBindings take effect a moment after they are
 * made, so a just-created namespace can refuse the first calls. Anything else is returned as it is.
 */
export function asReconcileError(err: unknown): unknown {
  if (err instanceof TerminalError || err instanceof RequeueAfterError) return err;
  const code = apiStatusCode(err);
  const message = apiErrorMessage(err);
  if (code === 400 || code === 422)
    return new TerminalError(`the apiserver refused it: ${message}`, {
      cause: err,
      reason: "Invalid",
    });
  if (code === 409) return new RequeueAfterError(CONFLICT_REQUEUE_MS, message, { cause: err });
  if (code === 429)
    return new RequeueAfterError(retryAfterMs(err) ?? 1_000, message, { cause: err });
  return err;
}

function retryAfterMs(err: unknown): number | undefined {
  const headers = (err as { headers?: Record<string, string | undefined> }).headers;
  const seconds = Number(headers?.["retry-after"]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}
