import { describe, expect, it } from "vitest";
import {
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  type NatsConnection,
} from "@nats-io/nats-core";
import { request, validatePayload } from "./client.js";
import { Subjects } from "./subjects.js";
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

const generate = (payload: unknown): string => {
  try {
    validatePayload(Subjects.KubeconfigGenerate.requestSchema, payload, "generate request");
    return "valid";
  } catch (err) {
    return (err as Error).message;
  }
};

describe("validatePayload", () => {
  it("names the maximum, the value asked and what the field means when a number is over its limit", () => {
    expect(
      generate({ version: 1, namespace: "t", serviceAccount: "a", durationSeconds: 315_360_000 }),
    ).toMatch(
      /^invalid generate request: \/durationSeconds 315360000 exceeds the maximum of 7776000 \(Token lifetime, at most 90 days/,
    );
    expect(
      generate({ version: 1, namespace: "t", serviceAccount: "a", durationSeconds: 60 }),
    ).toMatch(/\/durationSeconds 60 is below the minimum of 600/);
  });

  it("keeps ajv's words for other problems", () => {
    expect(generate({ version: 1, namespace: "t", serviceAccount: "a", server: "x" })).toBe(
      "invalid generate request: / must NOT have additional properties",
    );
  });
});
