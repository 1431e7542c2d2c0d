import { describe, expect, it } from "vitest";
import { namespaceOwnership, reservedNamespaceReason } from "./instance-namespace.js";
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
