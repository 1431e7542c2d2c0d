import { describe, expect, it } from "vitest";
import { logTargets, sinceSeconds } from "./applogs.js";

describe("applogs", () => {
  const pods = [
    {
      metadata: { name: "web-1" },
      spec: {
        initContainers: [{ name: "migrate" }],
        containers: [{ name: "web" }, { name: "sidecar" }],
      },
    },
    { metadata: { name: "web-2" }, spec: { containers: [{ name: "web" }, { name: "sidecar" }] } },
  ];

  it("shows init containers first, pod by pod, and filters by container", () => {
    expect(logTargets(pods)).toEqual([
      ["web-1", "migrate"],
      ["web-1", "web"],
      ["web-1", "sidecar"],
      ["web-2", "web"],
      ["web-2", "sidecar"],
    ]);
    expect(logTargets(pods, "web")).toEqual([
      ["web-1", "web"],
      ["web-2", "web"],
    ]);
  });

  it("reads --since as kubectl does, and refuses anything else", () => {
    expect(sinceSeconds("90s")).toBe(90);
    expect(sinceSeconds("10m")).toBe(600);
    expect(sinceSeconds("2h")).toBe(7200);
    expect(() => sinceSeconds("1d")).toThrow(/must be a number with s, m or h/);
  });
});
