import { describe, expect, it } from "vitest";
import { positiveNumbers } from "./env.js";

const TABLE = {
  WORKERS: { default: "4", doc: "workers" },
  TIMEOUT_SECONDS: { default: "1.5", doc: "a timeout" },
  REQUIRED: { default: undefined, doc: "no default" },
} as const;

describe("positiveNumbers", () => {
  it("reads the variable, else the table's default", () => {
    const problems: string[] = [];
    expect(positiveNumbers({ WORKERS: "8" }, TABLE, problems)("WORKERS")).toBe(8);
    const positive = positiveNumbers({}, TABLE, problems);
    expect(positive("WORKERS")).toBe(4);
    expect(positive("TIMEOUT_SECONDS")).toBe(1.5);
    expect(problems).toEqual([]);
  });

  it.each([
    ["0", "WORKERS must be a positive number (got '0')"],
    ["-2", "WORKERS must be a positive number (got '-2')"],
    ["ten", "WORKERS must be a positive number (got 'ten')"],
    ["Infinity", "WORKERS must be a positive number (got 'Infinity')"],
    ["", "WORKERS must be a positive number (got '')"],
    [" ", "WORKERS must be a positive number (got ' ')"],
  ])("refuses %j, naming the variable and the value", (raw, message) => {
    const problems: string[] = [];
    positiveNumbers({ WORKERS: raw }, TABLE, problems)("WORKERS");
    expect(problems).toEqual([message]);
  });

  it("with integer, refuses fractions", () => {
    const problems: string[] = [];
    const positive = positiveNumbers({}, TABLE, problems);
    expect(positive("WORKERS", { integer: true })).toBe(4);
    positive("TIMEOUT_SECONDS", { integer: true });
    expect(problems).toEqual(["TIMEOUT_SECONDS must be a positive whole number (got '1.5')"]);
  });

  it("reports a required variable that is missing, and every problem together", () => {
    const problems: string[] = [];
    const positive = positiveNumbers({ WORKERS: "0" }, TABLE, problems);
    positive("REQUIRED");
    positive("WORKERS");
    expect(problems).toEqual([
      "REQUIRED must be a positive number (got '')",
      "WORKERS must be a positive number (got '0')",
    ]);
  });
});
