import { describe, expect, it } from "vitest";
import {
  mergeRules,
  parsePermissionFile,
  PermissionFileError,
  revokeRules,
  sameRules,
} from "./permission-file.js";

describe("parsePermissionFile", () => {
  it("reads the original's JSON format, resourceName:: and nonResourceURL:: keys included", () => {
    const rules = parsePermissionFile(
      JSON.stringify({
        perms: {
          apps: [{ deployments: ["get", "list"] }],
          "": [{ "secrets/resourceName::kptc-jwt": ["get"] }, { " pods/log ": ["get"] }],
          "non-apigroup": [{ "nonResourceURL::/metrics": ["get"] }],
        },
      }),
    );
    expect(rules).toEqual([
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] },
      { apiGroups: [""], resources: ["secrets"], resourceNames: ["kptc-jwt"], verbs: ["get"] },
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
      { nonResourceURLs: ["/metrics"], verbs: ["get"] },
    ]);
  });

  it("reads YAML too", () => {
    const rules = parsePermissionFile(
      "perms:\n  certificates.k8s.io:\n    - signers/resourceName::issuers.cert-manager.io/*: [approve]\n",
    );
    expect(rules).toEqual([
      {
        apiGroups: ["certificates.k8s.io"],
        resources: ["signers"],
        resourceNames: ["issuers.cert-manager.io/*"],
        verbs: ["approve"],
      },
    ]);
  });

  it("says what to change instead of granting an empty rule", () => {
    expect(() =>
      parsePermissionFile(JSON.stringify({ perms: { "non-apigroup": [{ "/metrics": ["get"] }] } })),
    ).toThrow(/must be "nonResourceURL::<url>"/);
    expect(() => parsePermissionFile("{}")).toThrow(PermissionFileError);
    expect(() =>
      parsePermissionFile(JSON.stringify({ perms: { apps: [{ deployments: [] }] } })),
    ).toThrow(/non-empty list of verbs/);
    expect(() => parsePermissionFile("perms: [\n")).toThrow(/neither JSON nor YAML/);
  });
});

describe("revokeRules", () => {
  it("splits a rule per resource and regroups what remains", () => {
    const remaining = revokeRules(
      [{ apiGroups: [""], resources: ["pods", "services"], verbs: ["get", "delete"] }],
      [{ apiGroups: [""], resources: ["pods"], verbs: ["delete"] }],
    );
    expect(
      sameRules(remaining, [
        { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
        { apiGroups: [""], resources: ["services"], verbs: ["delete", "get"] },
      ]),
    ).toBe(true);
  });

  it("drops a scope when either side has the * verb, and trims wildcard rules as a whole", () => {
    expect(
      revokeRules(
        [{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "delete", "patch"] }],
        [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["delete"] }],
      ),
    ).toEqual([{ apiGroups: ["*"], resources: ["*"], verbs: ["get", "patch"] }]);
    expect(
      revokeRules(
        [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["*"] }],
        [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] }],
      ),
    ).toEqual([]);
  });

  it("leaves rules of other groups or resources alone, and handles URL rules per URL", () => {
    const rules = [
      { apiGroups: ["batch"], resources: ["jobs"], verbs: ["get"] },
      { nonResourceURLs: ["/metrics", "/healthz"], verbs: ["get"] },
    ];
    const remaining = revokeRules(rules, [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }]);
    expect(remaining).toEqual([
      { apiGroups: ["batch"], resources: ["jobs"], verbs: ["get"] },
      { nonResourceURLs: ["/healthz"], verbs: ["get"] },
    ]);
    expect(
      sameRules(
        revokeRules(rules, [{ apiGroups: ["apps"], resources: ["*"], verbs: ["*"] }]),
        rules,
      ),
    ).toBe(true);
  });
});

describe("mergeRules", () => {
  it("adds only rules not granted already", () => {
    const a = { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] };
    const b = { apiGroups: [""], resources: ["pods"], verbs: ["list"] };
    expect(mergeRules([a], [{ ...a, verbs: ["get"] }, b])).toEqual([a, b]);
  });
});
