import { describe, expect, it } from "vitest";
import type { Instance } from "@kubeplus/api";
import type { ReleaseState } from "./deps.js";
import { decideHelmAction, type HelmAction } from "./state.js";

const SPEC = { greeting: "hello", replicas: 2, nested: { a: 1, b: [1, 2] } };
const chartStatus = { name: "app", version: "1.0.0", ref: "app-1.0.0", digest: "sha256:new" };
const instance = (deployedDigest?: string): Instance => ({
  apiVersion: "platformapi.kubeplus/v1alpha1",
  kind: "Shop",
  metadata: { name: "t1", namespace: "kubeplus", generation: 3 },
  spec: SPEC,
  ...(deployedDigest ? { status: { chart: { ref: "app-1.0.0", digest: deployedDigest } } } : {}),
});
const release = (o: Partial<ReleaseState> = {}): ReleaseState => ({
  status: "deployed",
  revision: 4,
  chart: "app-1.0.0",
  values: SPEC,
  manifest: "",
  ...o,
});

describe("decideHelmAction: every state of the release", () => {
  it.each<[string, ReleaseState | undefined, string | undefined, HelmAction]>([
    ["no release", undefined, undefined, { kind: "install" }],
    [
      "left pending-install by a crash",
      release({ status: "pending-install", revision: 1 }),
      undefined,
      { kind: "recover", status: "pending-install", revision: 1 },
    ],
    [
      "left pending-upgrade by a crash",
      release({ status: "pending-upgrade", revision: 5 }),
      "sha256:new",
      { kind: "recover", status: "pending-upgrade", revision: 5 },
    ],
    [
      "left pending-rollback by a crash",
      release({ status: "pending-rollback", revision: 6 }),
      "sha256:new",
      { kind: "recover", status: "pending-rollback", revision: 6 },
    ],
    [
      "a first install that failed",
      release({ status: "failed", revision: 1 }),
      undefined,
      { kind: "recover", status: "failed", revision: 1 },
    ],
    [
      "a later revision that failed (not rolled back)",
      release({ status: "failed", revision: 5 }),
      "sha256:new",
      { kind: "upgrade", chartChange: false },
    ],
    [
      "uninstalling (neither deployed nor pending)",
      release({ status: "uninstalling" }),
      "sha256:new",
      { kind: "upgrade", chartChange: false },
    ],
    [
      "deployed on another chart version",
      release({ chart: "app-0.9.0" }),
      "sha256:old",
      { kind: "upgrade", chartChange: true },
    ],
    [
      "deployed on the same version of a chart whose bytes changed",
      release(),
      "sha256:old",
      { kind: "upgrade", chartChange: true },
    ],
    [
      "deployed with other values",
      release({ values: { ...SPEC, greeting: "bye" } }),
      "sha256:new",
      { kind: "upgrade", chartChange: false },
    ],
    [
      "deployed with the same values in another key order",
      release({ values: { nested: { b: [1, 2], a: 1 }, replicas: 2, greeting: "hello" } }),
      "sha256:new",
      { kind: "none" },
    ],
    [
      "deployed with a nested value changed, keys in another order (a change)",
      release({ values: { nested: { b: [1, 2], a: 2 }, replicas: 2, greeting: "hello" } }),
      "sha256:new",
      { kind: "upgrade", chartChange: false },
    ],
    [
      "deployed with the same values, no chart recorded in the status yet",
      release(),
      undefined,
      { kind: "none" },
    ],
    [
      "deployed with values whose array order differs (a change)",
      release({ values: { ...SPEC, nested: { a: 1, b: [2, 1] } } }),
      "sha256:new",
      { kind: "upgrade", chartChange: false },
    ],
  ])("%s", (_what, rel, digest, expected) => {
    expect(decideHelmAction({ instance: instance(digest), chartStatus, release: rel })).toEqual(
      expected,
    );
  });
});
