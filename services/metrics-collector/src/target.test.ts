import { describe, expect, it } from "vitest";
import { instanceNamespaceLabels, instanceNamespaceName } from "@kubeplus/api";
import { ownsNamespace, releaseTargetOf } from "./target.js";

describe("releaseTargetOf", () => {
  const labels =
    (namespaces: Record<string, Record<string, string>>) =>
    (name: string): Record<string, string> | undefined =>
      namespaces[name];

  it("derives the namespace and release from the instance, as the helmer does", () => {
    const t1 = { kind: "Shop", namespace: "kubeplus", name: "t1", uid: "uid-1" };
    expect(releaseTargetOf({ ...t1, namespaceLabels: labels({ kubeplus: {} }) })).toEqual({
      targetNamespace: instanceNamespaceName(t1),
      release: "shop-t1",
      create: true,
    });
    // A namespace made for it under the earlier rule (named after it, with its UID) stays its namespace.
    expect(
      releaseTargetOf({
        ...t1,
        namespaceLabels: labels({ t1: instanceNamespaceLabels("Shop", "t1", "kubeplus", "uid-1") }),
      }),
    ).toEqual({ targetNamespace: "t1", release: "shop-t1", create: true });
    // An instance created inside a namespace KubePlus made for an instance releases there.
    expect(
      releaseTargetOf({
        kind: "Shop",
        namespace: "t1",
        name: "extra",
        uid: "uid-2",
        namespaceLabels: labels({ t1: instanceNamespaceLabels("Shop", "t1", "kubeplus") }),
      }),
    ).toEqual({ targetNamespace: "t1", release: "shop-extra", create: false });
  });
});

describe("ownsNamespace", () => {
  const mine = { kind: "Shop", namespace: "kubeplus", name: "t1", uid: "uid-1" };
  it("accepts only the namespace labelled for this very instance", () => {
    expect(ownsNamespace(mine, instanceNamespaceLabels("Shop", "t1", "kubeplus"))).toBe(true);
    expect(ownsNamespace(mine, instanceNamespaceLabels("Shop", "t2", "kubeplus"))).toBe(false);
    expect(ownsNamespace(mine, instanceNamespaceLabels("Blog", "t1", "kubeplus"))).toBe(false);
    expect(ownsNamespace(mine, instanceNamespaceLabels("Shop", "t1", "other"))).toBe(false);
    expect(ownsNamespace(mine, { "app.kubernetes.io/managed-by": "kubeplus" })).toBe(false);
    expect(ownsNamespace(mine, undefined)).toBe(false);
    // The helmer's rule: the instance's UID decides, so an earlier instance of the same name is not this one.
    expect(ownsNamespace(mine, instanceNamespaceLabels("Shop", "t1", "kubeplus", "uid-1"))).toBe(
      true,
    );
    expect(ownsNamespace(mine, instanceNamespaceLabels("Shop", "t1", "kubeplus", "uid-0"))).toBe(
      false,
    );
  });
});
