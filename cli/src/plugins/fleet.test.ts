import { describe, expect, it } from "vitest";
import type { ResourceComposition } from "@kubeplus/api";
import { fleetTable, fleetView } from "./fleet.js";

const rc = {
  apiVersion: "workflows.kubeplus/v1alpha1",
  kind: "ResourceComposition",
  metadata: { name: "bwa", namespace: "kubeplus" },
  spec: {
    newResource: { resource: { kind: "WebAppService", group: "platformapi.kubeplus" } },
    upgrade: { paused: true },
  },
  status: {
    chart: { name: "basicwebapp", version: "0.0.4", digest: "sha256:4" },
    instances: {
      chart: "basicwebapp-0.0.4",
      total: 5,
      upgraded: 2,
      pending: 1,
      failed: 0,
      pinned: 1,
    },
    rollout: { phase: "Rolling", wave: 2, waves: 3, message: "wave 2 of 3 moves" },
    compatibility: {
      chart: "basicwebapp-0.0.4",
      incompatibleCount: 1,
      incompatible: [
        {
          namespace: "t",
          name: "bwa-3",
          problems: [{ path: "spec.nodeName", kind: "invalid", detail: "must be one of ..." }],
        },
      ],
    },
  },
} as unknown as ResourceComposition;

describe("kubectl fleet status", () => {
  it("shows the phase (Paused while spec.upgrade.paused), the wave, the counts and the held instances", () => {
    expect(fleetTable(fleetView(rc))).toBe(
      [
        "COMPOSITION    KIND            CHART               PHASE    WAVE   UPGRADED   PENDING   FAILED   PINNED",
        "kubeplus/bwa   WebAppService   basicwebapp-0.0.4   Paused   2/3    2/5        1         0        1",
        "Rollout: wave 2 of 3 moves",
        "Held by the compatibility gate (chart basicwebapp-0.0.4): 1 instance(s)",
        "  t/bwa-3: spec.nodeName: must be one of ...",
        "",
      ].join("\n"),
    );
  });
});
