import { describe, expect, it } from "vitest";
import { humanDuration, instanceRow } from "./columns.js";

const now = new Date("2026-12-03T12:00:00Z");

describe("instanceRow", () => {
  it("takes READY and REASON from the Ready condition, not from another condition", () => {
    const row = instanceRow(
      {
        metadata: { name: "shop", creationTimestamp: "2026-12-03T11:55:30Z" },
        status: {
          conditions: [
            { type: "Reconciling", status: "True", reason: "Upgrading" },
            { type: "Ready", status: "False", reason: "InstallFailed", message: "chart failed" },
          ],
        },
      },
      now,
    );
    expect(row).toEqual({
      name: "shop",
      ready: "False",
      reason: "InstallFailed",
      message: "chart failed",
      age: "4m30s",
    });
  });

  it("leaves READY and REASON empty while there is no status, as kubectl prints them", () => {
    const row = instanceRow({ metadata: { name: "new" } }, now);
    expect([row.ready, row.reason, row.age]).toEqual(["", "", "<unknown>"]);
  });
});

describe("humanDuration (kubectl's AGE)", () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  it.each([
    [-5 * s, "<invalid>"],
    [-1 * s, "0s"],
    [0, "0s"],
    [119 * s, "119s"],
    [2 * m, "2m"],
    [9 * m + 5 * s, "9m5s"],
    [10 * m + 5 * s, "10m"],
    [179 * m, "179m"],
    [3 * h, "3h"],
    [7 * h + 30 * m, "7h30m"],
    [8 * h + 30 * m, "8h"],
    [47 * h, "47h"],
    [2 * d + 5 * h, "2d5h"],
    [8 * d + 5 * h, "8d"],
    [800 * d, "2y70d"],
    [365 * 9 * d, "9y"],
  ])("prints %d ms as %s", (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});
