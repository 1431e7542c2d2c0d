import { describe, expect, it } from "vitest";
import { buildInstanceCrd } from "./instance-crd.js";
import { compatibilityChecker, toJsonSchema } from "./compatibility.js";

const v1 = {
  type: "object",
  properties: {
    greeting: { type: "string" },
    replicas: { type: "integer", minimum: 1, maximum: 5 },
    tier: { type: "string", enum: ["small", "medium", "large"] },
    ingress: {
      type: "object",
      properties: {
        enabled: { type: "boolean" },
        hosts: { type: "array", items: { type: "string" } },
      },
    },
    labels: { type: "object", additionalProperties: { type: "string" } },
    extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
  },
};

describe("compatibilityChecker", () => {
  it("finds nothing when the values fit the new chart, unknown-kept and map fields included", () => {
    const check = compatibilityChecker(v1);
    expect(
      check({
        greeting: "hi",
        replicas: 5,
        tier: "large",
        ingress: { enabled: true, hosts: ["a.example"] },
        labels: { team: "a" },
        extra: { anything: { at: ["all"] } },
      }),
    ).toEqual([]);
    expect(check(undefined)).toEqual([]);
  });

  it("names every value a narrowed field no longer takes: a lower maximum, fewer enum values, another type", () => {
    const v2 = structuredClone(v1) as typeof v1 & {
      properties: Record<string, Record<string, unknown>>;
    };
    v2.properties.replicas = { type: "integer", minimum: 1, maximum: 3 };
    v2.properties.tier = { type: "string", enum: ["small", "medium"] };
    v2.properties.greeting = { type: "object" };
    const check = compatibilityChecker(v2);
    expect(check({ greeting: "hi", replicas: 5, tier: "large" })).toEqual([
      { path: "spec.greeting", kind: "invalid", detail: 'must be object (now "hi")' },
      { path: "spec.replicas", kind: "invalid", detail: "must be <= 3 (now 5)" },
      {
        path: "spec.tier",
        kind: "invalid",
        detail: 'must be one of "small", "medium" (now "large")',
      },
    ]);
    // The same narrowing breaks nobody whose values stay inside it.
    expect(check({ greeting: {}, replicas: 2, tier: "small" })).toEqual([]);
  });

  it("names values the new chart no longer has, at any depth, which the apiserver would drop", () => {
    const v2 = structuredClone(v1) as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    delete v2.properties.greeting;
    delete v2.properties.ingress!.properties!.hosts;
    const check = compatibilityChecker(v2);
    expect(
      check({ greeting: "hi", replicas: 1, ingress: { enabled: true, hosts: ["a"] } }),
    ).toEqual([
      {
        path: "spec.greeting",
        kind: "removed",
        detail: "the new chart has no such value: it would be dropped from the instance",
      },
      {
        path: "spec.ingress.hosts",
        kind: "removed",
        detail: "the new chart has no such value: it would be dropped from the instance",
      },
    ]);
  });

  it("names a field the new chart requires and the instance does not set, and items of arrays by index", () => {
    const v2 = {
      type: "object",
      required: ["domain"],
      properties: {
        domain: { type: "string" },
        hosts: { type: "array", items: { type: "string", maxLength: 5 } },
      },
    };
    expect(compatibilityChecker(v2)({ hosts: ["ok", "too-long.example"] })).toEqual([
      { path: "spec.domain", kind: "invalid", detail: "required by the new chart, and not set" },
      {
        path: "spec.hosts[1]",
        kind: "invalid",
        detail: 'must NOT have more than 5 characters (now "too-long.example")',
      },
    ]);
  });

  it("checks against the CRD a chart generates, as the helmer builds it", () => {
    const resource = {
      kind: "Shop",
      group: "platformapi.kubeplus",
      version: "v1alpha1",
      plural: "shops",
    };
    const owner = { name: "shop", namespace: "kubeplus" };
    const crdOf = (values: Record<string, unknown>): Record<string, unknown> => {
      const schema = buildInstanceCrd(resource, { values, name: "shop" }, owner).crd.spec
        .versions[0]!.schema.openAPIV3Schema as { properties: { spec: Record<string, unknown> } };
      return schema.properties.spec;
    };
    const next = crdOf({ replicas: 1, db: { size: "1Gi" } });
    const check = compatibilityChecker(next);
    expect(check({ replicas: 2, db: { size: "2Gi" } })).toEqual([]);
    expect(
      check({ replicas: "two", cache: { enabled: true } }).map((p) => `${p.kind} ${p.path}`),
    ).toEqual(["removed spec.cache", "invalid spec.replicas"]);
  });
});

describe("toJsonSchema", () => {
  it("turns nullable into a null type and drops the apiserver's storage extensions", () => {
    expect(
      toJsonSchema({
        type: "object",
        "x-kubernetes-preserve-unknown-fields": true,
        properties: { a: { type: "string", nullable: true, "x-kubernetes-int-or-string": true } },
      }),
    ).toEqual({ type: "object", properties: { a: { type: ["string", "null"] } } });
  });
});
