import { describe, expect, it } from "vitest";
import {
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  type NatsConnection,
} from "@nats-io/nats-core";
import { request } from "./client.js";
import { ErrorCode } from "./errors.js";

/** A connection whose every request fails with `err`, as nats.js fails it. */
const failingWith = (err: Error): NatsConnection =>
  ({ request: () => Promise.reject(err) }) as unknown as NatsConnection;

const ask = (err: Error): Promise<unknown> =>
  request(
    failingWith(err),
    "MetricsCollect",
    { version: 1, kind: "Shop", namespace: "kubeplus", name: "t1" },
    { timeoutMs: 50 },
  );

describe("request: transport failures by nats.js's own error types", () => {
  it.each([
    [
      "no responders (a RequestError caused by NoRespondersError)",
      new RequestError("503", { cause: new NoRespondersError("kubeplus.v1.metrics.collect") }),
      ErrorCode.Unavailable,
      /no metrics-collector is answering/,
    ],
    ["a request timeout", new TimeoutError(), ErrorCode.Timeout, /did not answer within 50 ms/],
    [
      "a permission violation on a subject whose name holds 'timeout'",
      new PermissionViolationError(
        "Permissions Violation for Publish to timeout.503",
        "publish",
        "timeout.503",
      ),
      ErrorCode.Unavailable,
      /Permissions Violation/,
    ],
    [
      "a socket error that mentions a timeout",
      new Error("TLS handshake timeout from 127.0.0.1"),
      ErrorCode.Unavailable,
      /TLS handshake timeout/,
    ],
  ])("%s", async (_what, err, code, message) => {
    const failure = ask(err);
    await expect(failure).rejects.toMatchObject({ code });
    await expect(failure).rejects.toThrow(message);
  });
});
