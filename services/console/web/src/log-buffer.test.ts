import { describe, expect, it } from "vitest";
import { appendLog } from "./log-buffer.js";

describe("appendLog", () => {
  it("keeps everything below the limit", () => {
    expect(appendLog("a\n", "b\n", 10)).toBe("a\nb\n");
  });
  it("drops the oldest lines past the limit, cutting at a line start", () => {
    expect(appendLog("line1\nline2\n", "line3\n", 12)).toBe("line3\n");
  });
});
