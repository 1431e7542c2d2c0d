import { describe, expect, it } from "vitest";
import { quotaRefusal, withQuotaRefusal } from "./quota-refusal.js";

// Messages as the ReplicaSet and StatefulSet controllers record the apiserver's ResourceQuota refusals.
const MUST_SPECIFY =
  'pods "mysql-7d9f8-abcde" is forbidden: failed quota: kubeplus-quota: must specify limits.cpu for: mysql; limits.memory for: mysql; requests.cpu for: mysql; requests.memory for: mysql';
const EXCEEDED =
  'pods "web-5c7b9-xyz12" is forbidden: exceeded quota: kubeplus-quota, requested: requests.cpu=100m, used: requests.cpu=100m, limited: requests.cpu=100m';

describe("quotaRefusal", () => {
  it("names the quota when a container gives no value for what it limits (ReplicaFailure condition)", () => {
    const refusal = quotaRefusal([
      { type: "Available", status: "False", reason: "MinimumReplicasUnavailable" },
      { type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: MUST_SPECIFY },
    ]);
    expect(refusal).toBe(
      "its pods are refused by ResourceQuota kubeplus-quota (must specify limits.cpu for: mysql; limits.memory for: mysql; requests.cpu for: mysql; requests.memory for: mysql): give the composition a podconfig with requests and limits (LimitRange defaults), or give these containers resources",
    );
    expect(withQuotaRefusal("0/1 available", refusal)).toMatch(
      /^0\/1 available; its pods are refused by ResourceQuota kubeplus-quota \(must specify/,
    );
  });

  it("names the quota when the pods ask for more than it has left (a FailedCreate event)", () => {
    expect(quotaRefusal([{ reason: "FailedCreate", message: EXCEEDED }])).toBe(
      "its pods are refused by ResourceQuota kubeplus-quota (exceeded quota: requested: requests.cpu=100m, used: requests.cpu=100m, limited: requests.cpu=100m): raise the composition's quota, or lower what the instance asks for",
    );
  });

  it("says nothing for other failures, resolved conditions, or none", () => {
    expect(
      quotaRefusal([
        {
          reason: "FailedCreate",
          message: 'pods "x" is forbidden: violates PodSecurity "baseline"',
        },
      ]),
    ).toBeUndefined();
    expect(
      quotaRefusal([{ type: "ReplicaFailure", status: "False", message: MUST_SPECIFY }]),
    ).toBeUndefined();
    expect(quotaRefusal([])).toBeUndefined();
    expect(withQuotaRefusal("1/2 available", undefined)).toBe("1/2 available");
  });
});
