import { describe, expect, it } from "vitest";
import { parseQuantity } from "./quantity.js";

describe("parseQuantity", () => {
  it.each([
    ["100m", 0.1],
    ["2", 2],
    ["1.5", 1.5],
    ["1Gi", 2 ** 30],
    ["512Mi", 512 * 2 ** 20],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["1G", 1e9],
    ["1e3", 1000],
    ["1E-3", 0.001],
    ["250u", 0.00025],
    ["5n", 5e-9],
    ["2k", 2000],
    [".5", 0.5],
    ["+3", 3],
    ["-1", -1],
    [" 4Mi ", 4 * 2 ** 20],
  ])("%s is %d", (text, expected) => {
    expect(parseQuantity(text)).toBeCloseTo(expected, 9);
  });

  it("reads decimal forms as written: 350m is exactly 0.35 (a quota shown as used: 0.35, not 0.35000000000000003)", () => {
    expect(parseQuantity("350m")).toBe(0.35);
    expect(parseQuantity("1100m")).toBe(1.1);
    expect(parseQuantity("0.3")).toBe(0.3);
  });

  it("keeps large binary quantities exact, to the byte", () => {
    expect(parseQuantity("1023Ti")).toBe(1023 * 2 ** 40);
    expect(parseQuantity("7Pi")).toBe(7 * 2 ** 50);
  });

  it("passes finite numbers through and refuses the others", () => {
    expect(parseQuantity(3)).toBe(3);
    expect(parseQuantity(Number.NaN)).toBeUndefined();
    expect(parseQuantity(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it.each(["", "1GB", "abc", "1.2.3", "Gi", "-", "1 Gi", "1Ki1", "1e", "e3", "1mi", "1K"])(
    "rejects %j",
    (text) => {
      expect(parseQuantity(text)).toBeUndefined();
    },
  );
});
