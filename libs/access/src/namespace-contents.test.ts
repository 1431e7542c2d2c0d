import { describe, expect, it } from "vitest";
import { countObjects, describeContents, isEmpty, listableIn } from "./namespace-contents.js";

describe("namespace contents", () => {
  it("does not count what every namespace has (the default ServiceAccount, the cluster CA ConfigMap)", () => {
    expect(countObjects("serviceaccounts", ["default"])).toBe(0);
    expect(countObjects("serviceaccounts", ["default", "ci-bot"])).toBe(1);
    expect(countObjects("configmaps", ["kube-root-ca.crt"])).toBe(0);
    expect(countObjects("secrets", ["db"], 5)).toBe(6);
  });

  it("names Secrets and ServiceAccounts first, and says what it could not list", () => {
    const contents = {
      counts: [
        { resource: "deployments.apps", count: 2 },
        { resource: "serviceaccounts", count: 1 },
        { resource: "secrets", count: 3 },
        { resource: "configmaps", count: 0 },
      ],
      unlisted: ["pods.metrics.k8s.io"],
    };
    expect(describeContents(contents)).toBe(
      "3 secrets, 1 serviceaccounts, 2 deployments.apps (could not list: pods.metrics.k8s.io)",
    );
    expect(isEmpty(contents)).toBe(false);
    expect(isEmpty({ counts: [{ resource: "secrets", count: 0 }], unlisted: [] })).toBe(true);
  });

  it("lists namespaced, listable resources of the preferred version, events left out", () => {
    const found = listableIn("/apis", {
      items: [
        {
          metadata: { name: "apps" },
          versions: [
            {
              version: "v1",
              resources: [
                { resource: "deployments", scope: "Namespaced", verbs: ["list", "get"] },
                { resource: "controllerrevisions", scope: "Namespaced", verbs: ["get"] },
              ],
            },
          ],
        },
        {
          metadata: { name: "events.k8s.io" },
          versions: [
            {
              version: "v1",
              resources: [{ resource: "events", scope: "Namespaced", verbs: ["list"] }],
            },
          ],
        },
        {
          metadata: { name: "storage.k8s.io" },
          versions: [
            {
              version: "v1",
              resources: [{ resource: "storageclasses", scope: "Cluster", verbs: ["list"] }],
            },
          ],
        },
      ],
    });
    expect(found.map((f) => [f.name, f.path("team")])).toEqual([
      ["deployments.apps", "/apis/apps/v1/namespaces/team/deployments?limit=100"],
    ]);
  });
});
