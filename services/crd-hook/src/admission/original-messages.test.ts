// Issue 24.4: where ../shared/docs/kubeplus-reference.md records the original KubePlus's text for a refusal, our
// message starts with that text, verbatim, then says ours. Each row quotes the reference (its section in the
// comment) and runs the real admission of a composition or an instance that the original refused that way.
import type { ResourceComposition } from "@kubeplus/api";
import type { RenderReply } from "@kubeplus/contracts";
import { wordpressComposition } from "@kubeplus/api/fixtures";
import { describe, expect, it } from "vitest";
import { validate, type AdmitDeps } from "./admit.js";
import type { AdmissionRequest } from "./review.js";

const rendered = (objects: Record<string, unknown>[]): RenderReply => ({
  version: 1,
  chart: { name: "wordpress-chart", version: "0.0.4", digest: "sha256:x" },
  objects,
  values: {},
});

function deps(over: Partial<AdmitDeps> = {}): AdmitDeps {
  return {
    servedResources: () =>
      Promise.resolve([{ group: "", version: "v1", kind: "Service", plural: "services" }]),
    crdOwner: () => undefined,
    render: () => Promise.resolve(rendered([])),
    lintContext: (allow) => ({
      allow,
      storageClasses: new Map([["keep", { reclaimPolicy: "Retain", isDefault: false }]]),
      isNamespaced: () => undefined,
    }),
    missingPermissions: () => Promise.resolve([]),
    allocatable: () => ({ cpu: 28, memory: 112 * 2 ** 30 }),
    compositionFor: () => undefined,
    namespace: () => undefined,
    nodeNames: () => ["kwok-node-0"],
    license: () => undefined,
    countInstances: () => Promise.resolve(0),
    instanceNames: () => Promise.resolve([]),
    now: () => new Date("2026-11-23T12:00:00Z"),
    ...over,
  };
}

const compositionReview = (spec: Partial<ResourceComposition["spec"]>): AdmissionRequest => ({
  uid: "u-1",
  kind: { group: "workflows.kubeplus", version: "v1alpha1", kind: "ResourceComposition" },
  resource: { group: "workflows.kubeplus", version: "v1alpha1", resource: "resourcecompositions" },
  operation: "CREATE",
  userInfo: { username: "system:serviceaccount:kubeplus:kubeplus-saas-provider" },
  namespace: "kubeplus",
  name: "wp",
  object: wordpressComposition({ spec }) as unknown as Record<string, unknown>,
});

const resource = (kind: string, plural: string) => ({
  newResource: {
    resource: { kind, group: "platformapi.kubeplus", version: "v1alpha1", plural },
    chartURL: "https://charts.example/wordpress-chart-0.0.4.tgz",
    chartName: "wordpress-chart",
  },
});
const quota = (q: Record<string, string>) => ({
  respolicy: {
    spec: {
      policy: {
        podconfig: {
          requests: { cpu: "100m", memory: "64Mi" },
          limits: { cpu: "1", memory: "1Gi" },
        },
        quota: q,
      },
    },
  },
});

const rc = wordpressComposition({
  spec: { respolicy: { spec: { policy: { podconfig: { nodeSelector: "values.nodeName" } } } } },
});
const instanceReview = (name: string, spec: object = {}): AdmissionRequest => ({
  ...compositionReview({}),
  kind: { group: "platformapi.kubeplus", version: "v1alpha1", kind: "WordpressService" },
  name,
  object: {
    apiVersion: "platformapi.kubeplus/v1alpha1",
    kind: "WordpressService",
    metadata: { name, namespace: "kubeplus", uid: `uid-${name}` },
    spec,
  },
});
const withRc = (over: Partial<AdmitDeps> = {}): AdmitDeps =>
  deps({ compositionFor: () => rc, ...over });

interface Row {
  readonly refusal: string;
  /** The original's text, as the reference records it. */
  readonly original: string;
  readonly request: AdmissionRequest;
  readonly deps: AdmitDeps;
}

const rows: Row[] = [
  {
    refusal: "a Namespace in the chart (§3.3 dry-run)",
    original: "Namespace object is not allowed in the chart.",
    request: compositionReview({}),
    deps: deps({
      render: () =>
        Promise.resolve(
          rendered([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } }]),
        ),
    }),
  },
  {
    refusal: "a storage class with reclaim policy Retain (§3.3 dry-run)",
    original: "Storage class with reclaim policy Retain not allowed.",
    request: compositionReview({}),
    deps: deps({
      render: () =>
        Promise.resolve(
          rendered([
            {
              apiVersion: "v1",
              kind: "PersistentVolumeClaim",
              metadata: { name: "data" },
              spec: { storageClassName: "keep" },
            },
          ]),
        ),
    }),
  },
  {
    refusal: "an incomplete quota (§3.3)",
    original:
      "If quota is specified, specify all four values: requests.cpu, requests.memory, limits.cpu, limits.memory",
    request: compositionReview(quota({ "requests.cpu": "1" })),
    deps: deps(),
  },
  {
    refusal: "a CPU quota beyond the cluster's capacity (§3.3)",
    original: "Specified CPU quota values are more than CPU capacity:",
    request: compositionReview(
      quota({
        "requests.cpu": "1",
        "requests.memory": "1Gi",
        "limits.cpu": "64",
        "limits.memory": "2Gi",
      }),
    ),
    deps: deps(),
  },
  {
    refusal: "a memory quota beyond the cluster's capacity (§3.3)",
    original: "Specified Memory quota values are more than Memory capacity:",
    request: compositionReview(
      quota({
        "requests.cpu": "1",
        "requests.memory": "1Gi",
        "limits.cpu": "2",
        "limits.memory": "1Ti",
      }),
    ),
    deps: deps(),
  },
  {
    refusal: "a kind with a period (§3.3)",
    original: "Kind name Wordpress.Service invalid. Cannot contain period (.)",
    request: compositionReview(resource("Wordpress.Service", "wordpressservices")),
    deps: deps(),
  },
  {
    refusal: "a kind already served (§3.3)",
    original: "Resource with Kind Name Service exists in the cluster.",
    request: compositionReview(resource("Service", "webservices")),
    deps: deps(),
  },
  {
    refusal: "a plural already served (§3.3)",
    original: "Resource with Plural Name services exists in the cluster.",
    request: compositionReview(resource("WebService", "services")),
    deps: deps(),
  },
  {
    refusal: "chart permissions the provider does not hold (§3.3 dry-run)",
    original:
      "KubePlus does not have the following permissions required by the Chart. Use provider-kubeconfig.py to add the missing permissions.",
    request: compositionReview({}),
    deps: deps({ missingPermissions: () => Promise.resolve(["get secrets in kube-system"]) }),
  },
  {
    refusal: "the license's instance count (§3.7, §3.4)",
    original:
      "Allowed number of instances reached. Update license for WordpressService and then re-try.",
    request: instanceReview("t3"),
    deps: withRc({
      license: () => ({ allowedInstances: 2 }),
      countInstances: () => Promise.resolve(2),
    }),
  },
  {
    refusal: "the license's expiry (§3.7, §3.4)",
    original:
      "License expired (expiry date):11/01/2026. Update license for WordpressService and then re-try.",
    request: instanceReview("t3"),
    deps: withRc({ license: () => ({ expiry: "11/01/2026" }) }),
  },
  {
    refusal: "both at once, joined as the original joins them (§3.7)",
    original:
      "Allowed number of instances reached. License expired (expiry date):11/01/2026. Update license for WordpressService and then re-try.",
    request: instanceReview("t3"),
    deps: withRc({
      license: () => ({ allowedInstances: 1, expiry: "11/01/2026" }),
      countInstances: () => Promise.resolve(1),
    }),
  },
  {
    refusal: "a Terminating namespace made for this instance under the earlier naming rule (§3.4)",
    original:
      "Previous Namespace for custom resource t1 is in terminating state. Wait for it to terminate and then re-deploy",
    request: instanceReview("t1"),
    deps: withRc({
      namespace: (n) =>
        n === "t1"
          ? {
              phase: "Terminating",
              labels: {
                "app.kubernetes.io/managed-by": "kubeplus",
                "kubeplus.dev/kind": "WordpressService",
                "kubeplus.dev/instance": "t1",
                "kubeplus.dev/instance-namespace": "kubeplus",
              },
            }
          : undefined,
    }),
  },
  // The original's "App with name t1 already exists for Kind ..." no longer happens: instances of two kinds (or two
  // consumers) of one name get namespaces of their own (@kubeplus/api instanceNamespaceName).
  {
    refusal: "an instance name too long for the release name (§3.4; our limit: Helm's 53)",
    original: "Instance name exceeds the allowed limit of 36. Consider changing instance name.",
    request: instanceReview("a".repeat(40)),
    deps: withRc(),
  },
  {
    refusal: "a node that does not exist (§3.4)",
    original: "Invalid node name specified gpu-node-9",
    request: instanceReview("t1", { nodeName: "gpu-node-9" }),
    deps: withRc(),
  },
];

describe("refusals keep the original KubePlus's words, then ours", () => {
  it.each(rows)("$refusal", async ({ original, request, deps: d }) => {
    const { response } = await validate(request, d);
    expect(response.allowed).toBe(false);
    const message = response.status?.message ?? "";
    expect(message).toContain(original);
    // Ours follows on the same line: what exactly, and what to change.
    const line = message.split("\n").find((l) => l.includes(original)) ?? "";
    expect(line.slice(line.indexOf(original) + original.length).trim().length).toBeGreaterThan(20);
  });
});
