import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";

function capture(): { stream: PassThrough; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c.toString()));
  return {
    stream,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe("createLogger", () => {
  it("tags every line with the service and never writes tokens or keys", () => {
    const out = capture();
    const log = createLogger({ service: "kubeconfig-generator", destination: out.stream });
    log.info(
      { token: "eyJhbGciOi.secret", req: { headers: { authorization: "Bearer abc" } }, name: "x" },
      "kubeconfig minted",
    );
    const [line] = out.lines();
    expect(line).toMatchObject({
      service: "kubeconfig-generator",
      msg: "kubeconfig minted",
      name: "x",
      token: "[REDACTED]",
      req: { headers: { authorization: "[REDACTED]" } },
    });
    expect(JSON.stringify(line)).not.toContain("eyJhbGciOi");
  });
});
