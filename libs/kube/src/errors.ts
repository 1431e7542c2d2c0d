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

/** A failure that retrying will not fix: record it in status and stop. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TerminalError";
  }
}

/** Try again after a while (a dependency is not ready yet). */
export class RequeueAfterError extends Error {
  readonly afterMs: number;

  constructor(afterMs: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RequeueAfterError";
    this.afterMs = afterMs;
  }
}
