import { describe, expect, it } from "vitest";
import { parseQuantity } from "./quantity.js";

describe("parseQuantity", () => {
  it.each([
    ["100m", 0.1],
    ["2", 2],
    ["1.5", 1.5],
    ["1Gi", 2 ** 30],
    ["512Mi", 512 * 2 ** 20],
    ["1G", 1e9],
    ["1e3", 1000],
    ["250u", 0.00025],
  ])("%s is %d", (text, expected) => {
    expect(parseQuantity(text)).toBeCloseTo(expected, 9);
  });

  it.each(["", "1GB", "abc", "1.2.3", "Gi", "-"])("rejects %j", (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});
