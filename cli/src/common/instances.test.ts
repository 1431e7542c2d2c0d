import { describe, expect, it } from "vitest";
import { instanceNamespaceName } from "@kubeplus/api";
import { releaseNamespaceOf, type InstanceObject } from "./instances.js";

const shop = (status?: InstanceObject["status"]): InstanceObject => ({
  apiVersion: "platformapi.kubeplus/v1alpha1",
  kind: "Shop",
  metadata: { name: "shop", namespace: "team-a", uid: "uid-a" },
  ...(status ? { status } : {}),
});

describe("releaseNamespaceOf", () => {
  it("reads the namespace the helmer recorded: status.namespace first", () => {
    expect(releaseNamespaceOf(shop({ namespace: "shop-1", helmrelease: "shop-2:shop-shop" }))).toBe(
      "shop-1",
    );
  });

  it("reads status.helmrelease when status.namespace is not there (an earlier helmer's status)", () => {
    expect(releaseNamespaceOf(shop({ helmrelease: "shop:shop-shop\nNOTES" }))).toBe("shop");
  });

  it("derives the namespace by the helmer's rule when nothing is recorded yet, never the bare instance name", () => {
    expect(releaseNamespaceOf(shop())).toBe(instanceNamespaceName({ name: "shop", uid: "uid-a" }));
    expect(releaseNamespaceOf(shop())).not.toBe("shop");
  });
});
