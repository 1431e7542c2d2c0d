import { describe, expect, it } from "vitest";
import {
  instanceNamespaceName,
  MAX_INSTANCE_NAME_FOR_NAMESPACE,
  namespaceOwnership,
  reservedNamespaceReason,
  targetNamespaceFor,
} from "./instance-namespace.js";
import { instanceNamespaceLabels } from "./labels.js";

const me = { kind: "WebApp", namespace: "team-a", name: "shop", uid: "uid-a" };

describe("namespaceOwnership", () => {
  it.each<[string, Record<string, string> | undefined, string]>([
    [
      "created for this instance (its UID)",
      instanceNamespaceLabels("WebApp", "shop", "team-a", "uid-a"),
      "this",
    ],
    [
      "created by KubePlus for this instance before UIDs",
      instanceNamespaceLabels("WebApp", "shop", "team-a"),
      "this-legacy",
    ],
    [
      "won by another consumer's instance of the same name",
      instanceNamespaceLabels("WebApp", "shop", "team-b", "uid-b"),
      "other",
    ],
    [
      "an earlier instance of the same name (another UID)",
      instanceNamespaceLabels("WebApp", "shop", "team-a", "uid-old"),
      "other",
    ],
    [
      "made before UIDs for another instance",
      instanceNamespaceLabels("WebApp", "shop", "team-b"),
      "other",
    ],
    ["an administrator's namespace", { "kubernetes.io/metadata.name": "shop" }, "other"],
    ["a namespace without labels", undefined, "other"],
  ])("%s", (_what, labels, owner) => {
    expect(namespaceOwnership("shop", labels, me).owner).toBe(owner);
  });

  it("names the owner when it is someone else", () => {
    const theirs = namespaceOwnership(
      "shop",
      instanceNamespaceLabels("WebApp", "shop", "team-b", "uid-b"),
      me,
    );
    expect(theirs).toEqual({
      owner: "other",
      detail:
        "namespace shop belongs to WebApp team-b/shop (uid uid-b), not to this instance (uid uid-a)",
    });
  });
});

describe("reservedNamespaceReason", () => {
  it.each<[string, boolean]>([
    ["shop", false],
    ["default", true],
    ["kube-system", true],
    ["kube-anything", true],
    ["monitoring", true],
    ["cert-manager", true],
    ["openshift-config", true],
    ["kubeplus", true],
    ["kp", true],
    ["team-extra", true],
    ["monitoring-shop", false],
  ])("%s reserved: %s", (name, reserved) => {
    expect(reservedNamespaceReason(name, "kp", ["team-extra"]) !== undefined).toBe(reserved);
  });
});

describe("instanceNamespaceName", () => {
  it("is the instance's name and 8 hex digits of its UID's SHA-256, the same every time", () => {
    const uid = "0b6f5c2e-4a1d-4c3e-9f7a-2d8e1b3c5a70";
    const ns = instanceNamespaceName({ name: "monitoring", uid });
    expect(ns).toMatch(/^monitoring-[0-9a-f]{8}$/);
    expect(instanceNamespaceName({ name: "monitoring", uid })).toBe(ns);
    // sha256("uid-a") starts with these digits: the rule is fixed, tools outside KubePlus may compute it.
    expect(instanceNamespaceName({ name: "shop", uid: "uid-a" })).toBe("shop-c1b41cff");
  });

  it("differs for two instances of one name (another consumer, another kind, a successor)", () => {
    expect(instanceNamespaceName({ name: "shop", uid: "uid-a" })).not.toBe(
      instanceNamespaceName({ name: "shop", uid: "uid-b" }),
    );
  });

  it("never equals the instance's name, so no instance name picks a namespace", () => {
    for (const name of ["monitoring", "payments", "default", "shop-c1b41cff"])
      expect(instanceNamespaceName({ name, uid: "uid-a" })).not.toBe(name);
  });

  it("fits a DNS label for the longest instance name it allows", () => {
    const name = "x".repeat(MAX_INSTANCE_NAME_FOR_NAMESPACE);
    expect(instanceNamespaceName({ name, uid: "u" })).toHaveLength(63);
  });

  it("refuses an instance without a UID (the apiserver has not created it yet)", () => {
    expect(() => instanceNamespaceName({ name: "shop", uid: "" })).toThrow(/no UID yet/);
  });
});

describe("targetNamespaceFor", () => {
  const fresh = instanceNamespaceName(me);
  const cluster =
    (namespaces: Record<string, Record<string, string>>) =>
    (name: string): Record<string, string> | undefined =>
      namespaces[name];

  it("gives a new instance a new namespace named by the rule, never its own name", () => {
    expect(targetNamespaceFor(me, cluster({ "team-a": {} }))).toEqual({
      namespace: fresh,
      create: true,
    });
  });

  it("leaves an administrator's namespace of the instance's name alone", () => {
    expect(
      targetNamespaceFor(me, cluster({ shop: { "kubernetes.io/metadata.name": "shop" } })),
    ).toEqual({ namespace: fresh, create: true });
  });

  it.each<[string, Record<string, string>, string]>([
    [
      "keeps a namespace made under the earlier rule that carries its UID",
      instanceNamespaceLabels("WebApp", "shop", "team-a", "uid-a"),
      "shop",
    ],
    [
      "keeps a namespace made under the earlier rule before UIDs, for this very instance",
      instanceNamespaceLabels("WebApp", "shop", "team-a"),
      "shop",
    ],
    [
      "does not take an earlier instance's namespace of the same name (another UID)",
      instanceNamespaceLabels("WebApp", "shop", "team-a", "uid-old"),
      fresh,
    ],
    [
      "does not take another consumer's namespace of the same name",
      instanceNamespaceLabels("WebApp", "shop", "team-b", "uid-b"),
      fresh,
    ],
  ])("%s", (_what, labels, namespace) => {
    expect(targetNamespaceFor(me, cluster({ shop: labels }))).toEqual({ namespace, create: true });
  });

  it("releases an instance created inside an instance namespace into that namespace", () => {
    const inside = { ...me, namespace: "shop-1" };
    expect(
      targetNamespaceFor(
        inside,
        cluster({ "shop-1": instanceNamespaceLabels("WebApp", "shop", "team-a", "uid-x") }),
      ),
    ).toEqual({ namespace: "shop-1", create: false });
  });
});
