import { describe, expect, it } from "vitest";
import { validatePayload } from "./client.js";
import { Subjects } from "./subjects.js";

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
