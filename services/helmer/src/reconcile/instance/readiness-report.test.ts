import { describe, expect, it } from "vitest";
import type { Instance } from "@kubeplus/api";
import { readinessPollMs } from "./readiness-report.js";

const NOW = new Date("2026-12-01T10:00:00Z");
const instance = (ready?: { status: "True" | "False"; at: string }): Instance => ({
  apiVersion: "platformapi.kubeplus/v1alpha1",
  kind: "HelloService",
  metadata: { name: "t1", namespace: "kubeplus" },
  spec: {},
  ...(ready
    ? {
        status: {
          conditions: [
            {
              type: "Ready",
              status: ready.status,
              reason: "Progressing",
              message: "",
              lastTransitionTime: ready.at,
            },
          ],
        },
      }
    : {}),
});

describe("readinessPollMs", () => {
  it.each([
    ["a release that has only just moved (no Ready=False in the cached copy yet)", instance(), 250],
    [
      "a Ready instance being upgraded",
      instance({ status: "True", at: "2026-12-01T09:00:00Z" }),
      250,
    ],
    ["Ready=False for 3 s", instance({ status: "False", at: "2026-12-01T09:59:57Z" }), 250],
    ["Ready=False for a minute", instance({ status: "False", at: "2026-12-01T09:59:00Z" }), 1000],
  ])("polls %s every %s ms", (_what, i, ms) => {
    expect(readinessPollMs(i, NOW)).toBe(ms);
  });
});
