/**
 * Renders per caller, as token buckets: a caller may make `burst` at once, then `perMinute` a minute. A render can
 * make the helmer fetch a URL and run helm: a flood from one caller must not become a scanner or starve the others.
 */
export interface RateLimitOptions {
  readonly burst: number;
  readonly perMinute: number;
  /** Callers remembered at most (the least recently seen are forgotten, as full buckets). */
  readonly maxCallers?: number;
  readonly now?: () => number;
}

/** The decision for one request: allowed, or refused with when the next one would be. */
export type RateDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryInMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly options: Required<Omit<RateLimitOptions, "now">> & { now: () => number };

  constructor(options: RateLimitOptions) {
    this.options = { maxCallers: 10_000, now: Date.now, ...options };
  }

  take(caller: string): RateDecision {
    const { burst, perMinute, maxCallers, now } = this.options;
    const at = now();
    const perMs = perMinute / 60_000;
    const bucket = this.buckets.get(caller) ?? { tokens: burst, at };
    bucket.tokens = Math.min(burst, bucket.tokens + (at - bucket.at) * perMs);
    bucket.at = at;
    // Most recently seen last, so that the oldest is the first forgotten.
    this.buckets.delete(caller);
    this.buckets.set(caller, bucket);
    if (this.buckets.size > maxCallers) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryInMs: Math.ceil((1 - bucket.tokens) / perMs) };
  }
}
