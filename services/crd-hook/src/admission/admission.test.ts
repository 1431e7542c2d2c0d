import type { ResourceComposition } from "@kubeplus/api";
import { ContractError, ErrorCode, type RenderReply } from "@kubeplus/contracts";
import { walkthroughPodconfig, wordpressComposition } from "@kubeplus/api/fixtures";
import { describe, expect, it } from "vitest";
import { admittedTraceparent, mutate, validate, type AdmitDeps } from "./admit.js";
import type { AdmissionRequest } from "./review.js";

const composition = (over: Partial<ResourceComposition["spec"]> = {}): ResourceComposition =>
  wordpressComposition({ spec: over });

const rendered: RenderReply = {
  version: 1,
  chart: { name: "wordpress-chart", version: "0.0.4", digest: "sha256:x" },
  objects: [{ apiVersion: "v1", kind: "Service", metadata: { name: "wp" } }],
  values: { resourceName: "wp-stack1" },
};

function deps(over: Partial<AdmitDeps> = {}): AdmitDeps {
  return {
    servedResources: () =>
      Promise.resolve([{ group: "", version: "v1", kind: "Service", plural: "services" }]),
    crdOwner: () => undefined,
    render: () => Promise.resolve(rendered),
    lintContext: (allow) => ({ allow, storageClasses: new Map(), isNamespaced: () => undefined }),
    missingPermissions: () => Promise.resolve([]),
    allocatable: () => ({ cpu: 28, memory: 112 * 2 ** 30 }),
    compositionFor: () => undefined,
    namespace: () => undefined,
    nodeNames: () => ["kwok-node-0", "kwok-node-1"],
    license: () => undefined,
    countInstances: () => Promise.resolve(0),
    instanceNames: () => Promise.resolve([]),
    now: () => new Date("2026-11-23T12:00:00Z"),
    ...over,
  };
}

const review = (object: object, over: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  uid: "u-1",
  kind: { group: "workflows.kubeplus", version: "v1alpha1", kind: "ResourceComposition" },
  resource: { group: "workflows.kubeplus", version: "v1alpha1", resource: "resourcecompositions" },
  operation: "CREATE",
  userInfo: { username: "system:serviceaccount:kubeplus:kubeplus-saas-provider" },
  namespace: "kubeplus",
  name: "wp",
  object: object as Record<string, unknown>,
  ...over,
});

describe("composition admission", () => {
  it("admits the walkthrough's composition and emits a composition-admitted event", async () => {
    const { response, event } = await validate(review(composition()), deps());
    expect(response).toEqual({ uid: "u-1", allowed: true });
    expect(event).toMatchObject({
      type: "composition",
      payload: { kind: "ResourceComposition", name: "wp", operation: "CREATE" },
    });
  });

  it("admits a composition whose quota cannot hold its chart's pods, with a warning saying so", async () => {
    const twoPods: RenderReply = {
      ...rendered,
      objects: ["wordpress", "mysql"].map((name) => ({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name },
        spec: { replicas: 1, template: { spec: { containers: [{ name }] } } },
      })),
    };
    const walkthroughPolicy = {
      respolicy: {
        spec: {
          policy: {
            podconfig: walkthroughPodconfig,
            quota: {
              "requests.cpu": "100m",
              "requests.memory": "2Gi",
              "limits.cpu": "1",
              "limits.memory": "4Gi",
            },
          },
        },
      },
    };
    const { response } = await validate(
      review(composition(walkthroughPolicy)),
      deps({ render: () => Promise.resolve(twoPods) }),
    );
    expect(response.allowed).toBe(true);
    expect(response.warnings).toEqual([
      expect.stringMatching(
        /^spec\.respolicy\.spec\.policy\.quota\.requests\.cpu: the chart's 2 pod\(s\) need 200m CPU/,
      ),
    ]);
  });

  it("reports every problem at once, each saying what to change", async () => {
    const bad = composition({
      newResource: {
        resource: {
          kind: "Service",
          group: "platformapi.kubeplus",
          version: "1",
          plural: "Web_Services",
        },
        chartURL: "https://charts.example/x.tgz",
        chartName: "x",
      },
      respolicy: { spec: { policy: { quota: { "requests.cpu": "1", "limits.cpu": "500m" } } } },
    });
    const { response, event } = await validate(
      review(bad),
      deps({
        render: () =>
          Promise.resolve({
            ...rendered,
            objects: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "mine" } }],
          }),
      }),
    );
    expect(response.allowed).toBe(false);
    expect(event).toBeUndefined();
    expect(response.status?.code).toBe(422);
    const message = response.status?.message ?? "";
    expect(message).toMatch(/^ResourceComposition wp was refused \(5 problems\):/);
    expect(message).toContain(
      "spec.newResource.resource.kind: Resource with Kind Name Service exists in the cluster. Kind Service is already served by the cluster (services.core/v1)",
    );
    expect(message).toContain(
      "spec.newResource.resource.plural: 'Web_Services' is not a valid plural",
    );
    expect(message).toContain("spec.newResource.resource.version: '1' is not a valid API version");
    expect(message).toContain(
      "chart x: Namespace/mine: Namespace object is not allowed in the chart. The chart creates a Namespace",
    );
    expect(message).toContain(
      "spec.respolicy.spec.policy.quota: If quota is specified, specify all four values: requests.cpu, requests.memory, limits.cpu, limits.memory. Give all four values or none: requests.memory, limits.memory missing",
    );
  });

  it("refuses a kind or plural the cluster already serves, but not its own CRD on update", async () => {
    const served = deps({
      servedResources: () =>
        Promise.resolve([
          {
            group: "platformapi.kubeplus",
            version: "v1alpha1",
            kind: "WordpressService",
            plural: "wordpressservices",
          },
        ]),
    });
    const created = await validate(review(composition()), served);
    expect(created.response.status?.message).toContain(
      "Kind WordpressService is already served by the cluster (wordpressservices.platformapi.kubeplus/v1alpha1)",
    );
    const own = deps({ ...served, crdOwner: () => "kubeplus/wp" });
    const old = composition();
    const changed = composition({
      newResource: {
        ...old.spec.newResource,
        chartURL: "https://charts.example/wordpress-chart-0.0.5.tgz",
      },
    });
    const updated = await validate(
      review(changed, {
        operation: "UPDATE",
        oldObject: old as unknown as Record<string, unknown>,
      }),
      own,
    );
    expect(updated.response.allowed).toBe(true);
  });

  it("refuses to change the registered API of an existing composition", async () => {
    const old = composition();
    const renamed = composition({
      newResource: {
        ...old.spec.newResource,
        resource: { ...old.spec.newResource.resource, kind: "WpService" },
      },
    });
    const { response } = await validate(
      review(renamed, {
        operation: "UPDATE",
        oldObject: old as unknown as Record<string, unknown>,
      }),
      deps(),
    );
    expect(response.status?.message).toContain(
      "spec.newResource.resource.kind: cannot change from 'WordpressService' to 'WpService'",
    );
  });

  it("says the renderer is unavailable (retry) instead of hanging when the helmer does not answer", async () => {
    const { response } = await validate(
      review(composition()),
      deps({
        render: () =>
          Promise.reject(new ContractError(ErrorCode.Unavailable, "no helmer is answering")),
      }),
    );
    expect(response.status?.message).toContain(
      "spec.newResource.chartURL: the chart renderer (helmer) is unavailable, retry in a moment",
    );
  });

  it("accepts a pod policy that gives only limits (no crash on an absent request)", async () => {
    const podconfig = { limits: { cpu: "200m", memory: "2Gi" }, nodeSelector: "values.nodeName" };
    const { response } = await validate(
      review(composition({ respolicy: { spec: { policy: { podconfig } } } })),
      deps(),
    );
    expect(response).toEqual({ uid: "u-1", allowed: true });
  });

  it("checks quota quantities, requests against limits, and cluster capacity", async () => {
    const quota = {
      "requests.cpu": "2",
      "requests.memory": "abc",
      "limits.cpu": "1",
      "limits.memory": "2Gi",
    };
    const first = await validate(
      review(composition({ respolicy: { spec: { policy: { quota } } } })),
      deps(),
    );
    expect(first.response.status?.message).toContain(
      "quota.requests.memory: 'abc' is not a Kubernetes quantity",
    );
    const big = {
      "requests.cpu": "2",
      "requests.memory": "1Gi",
      "limits.cpu": "64",
      "limits.memory": "2Gi",
    };
    const second = await validate(
      review(composition({ respolicy: { spec: { policy: { quota: big } } } })),
      deps(),
    );
    expect(second.response.status?.message).toContain(
      "quota.limits.cpu: Specified CPU quota values are more than CPU capacity: 64 is more than the cluster's allocatable 28 CPU",
    );
  });

  it("lists chart permissions the provider does not have", async () => {
    const { response } = await validate(
      review(composition()),
      deps({ missingPermissions: () => Promise.resolve(["get secrets in kube-system"]) }),
    );
    expect(response.status?.message).toContain(
      "The chart grants permissions you do not have (get secrets in kube-system)",
    );
  });

  it("does not re-render when only metadata or status changed", async () => {
    let renders = 0;
    const rc = composition();
    const { response } = await validate(
      review(
        { ...rc, metadata: { ...rc.metadata, finalizers: ["x"] } },
        { operation: "UPDATE", oldObject: rc as unknown as Record<string, unknown> },
      ),
      deps({
        render: () => {
          renders++;
          return Promise.resolve(rendered);
        },
      }),
    );
    expect(response.allowed).toBe(true);
    expect(renders).toBe(0);
  });
});

describe("composition deletion", () => {
  const deleting = (annotations: Record<string, string> = {}): AdmissionRequest => {
    const rc = composition() as unknown as { metadata: Record<string, unknown> };
    return review(
      {},
      {
        operation: "DELETE",
        object: null,
        oldObject: { ...rc, metadata: { ...rc.metadata, annotations } },
      },
    );
  };

  it("refuses while instances exist, naming them and saying how to cascade", async () => {
    const names = ["t1/wp-tenant1", "t2/wp-tenant2"];
    const { response } = await validate(
      deleting(),
      deps({ instanceNames: () => Promise.resolve(names) }),
    );
    expect(response.allowed).toBe(false);
    expect(response.status?.code).toBe(409);
    expect(response.status?.message).toContain("still has 2 WordpressService instance(s)");
    expect(response.status?.message).toContain("t1/wp-tenant1, t2/wp-tenant2");
    expect(response.status?.message).toContain("kubeplus.dev/cascade-delete=true");
  });

  it("allows it without instances, or with the cascade annotation", async () => {
    const names = () => Promise.resolve(["t1/wp-tenant1"]);
    expect((await validate(deleting(), deps())).response.allowed).toBe(true);
    const cascade = deleting({ "kubeplus.dev/cascade-delete": "true" });
    expect((await validate(cascade, deps({ instanceNames: names }))).response.allowed).toBe(true);
  });
});

describe("instance admission", () => {
  const rc = composition({
    respolicy: { spec: { policy: { podconfig: { nodeSelector: "values.nodeName" } } } },
  });
  const instanceReview = (
    name: string,
    spec: object = {},
    over: Partial<AdmissionRequest> = {},
  ): AdmissionRequest =>
    review(
      {
        apiVersion: "platformapi.kubeplus/v1alpha1",
        kind: "WordpressService",
        metadata: { name, namespace: "kubeplus", uid: `uid-${name}`, generation: 1 },
        spec,
      },
      {
        kind: { group: "platformapi.kubeplus", version: "v1alpha1", kind: "WordpressService" },
        name,
        ...over,
      },
    );
  const withRc = (over: Partial<AdmitDeps> = {}): AdmitDeps =>
    deps({ compositionFor: () => rc, ...over });

  it("admits a good instance and emits an instance-admitted event (the payload docs/architecture.md shows)", async () => {
    const { response, event } = await validate(
      instanceReview(
        "wp-tenant1",
        { nodeName: "kwok-node-1" },
        { userInfo: { username: "system:serviceaccount:kubeplus:kubeplus-saas-consumer" } },
      ),
      withRc(),
    );
    expect(response.allowed).toBe(true);
    expect(event).toEqual({
      type: "instance",
      payload: {
        version: 1,
        operation: "CREATE",
        group: "platformapi.kubeplus",
        apiVersion: "platformapi.kubeplus/v1alpha1",
        kind: "WordpressService",
        namespace: "kubeplus",
        name: "wp-tenant1",
        uid: "uid-wp-tenant1",
        generation: 1,
        user: "system:serviceaccount:kubeplus:kubeplus-saas-consumer",
      },
    });
  });

  it("emits no instance-admitted event for a dry run", async () => {
    const { response, event } = await validate(
      instanceReview("wp-tenant1", { nodeName: "kwok-node-1" }, { dryRun: true }),
      withRc(),
    );
    expect(response.allowed).toBe(true);
    expect(event).toBeUndefined();
  });

  it("says how long the name may be for the release name to fit", async () => {
    const { response } = await validate(instanceReview("a".repeat(40)), withRc());
    expect(response.status?.message).toContain(
      "the limit is 53, so WordpressService instance names may have at most 36 characters",
    );
  });

  it("admits an instance named after a terminating, a foreign or an unmanaged namespace: its own is another", async () => {
    const cases: [Record<string, string>, string][] = [
      [
        {
          "app.kubernetes.io/managed-by": "kubeplus",
          "kubeplus.dev/kind": "WordpressService",
          "kubeplus.dev/instance": "t1",
          "kubeplus.dev/instance-namespace": "kubeplus",
          "kubeplus.dev/instance-uid": "uid-earlier",
        },
        "Terminating",
      ],
      [
        {
          "app.kubernetes.io/managed-by": "kubeplus",
          "kubeplus.dev/kind": "HelloWorldService",
          "kubeplus.dev/instance": "t1",
          "kubeplus.dev/instance-namespace": "kubeplus",
        },
        "Active",
      ],
      [{}, "Active"],
    ];
    for (const [labels, phase] of cases) {
      const { response } = await validate(
        instanceReview("t1"),
        withRc({ namespace: (n) => (n === "t1" ? { labels, phase } : undefined) }),
      );
      expect(response.allowed).toBe(true);
    }
  });

  it("refuses while the namespace made for this instance under the earlier rule is terminating", async () => {
    const { response } = await validate(
      instanceReview("t1"),
      withRc({
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
    );
    expect(response.status?.message).toMatch(/is still being deleted; wait until it is gone/);
  });

  it("refuses a name that cannot start a namespace name", async () => {
    const { response } = await validate(instanceReview("shop.v2"), withRc());
    expect(response.status?.message).toContain("cannot start the instance's namespace name");
  });

  it("enforces the kind's license: allowed instances and expiry", async () => {
    const { response } = await validate(
      instanceReview("t3"),
      withRc({
        license: () => ({ allowedInstances: 2, expiry: "11/01/2026" }),
        countInstances: () => Promise.resolve(2),
      }),
    );
    expect(response.status?.message).toContain(
      "The license for WordpressService allows 2 instance(s) and 2 exist and expired on 11/01/2026",
    );
  });

  it("refuses a node that does not exist for node isolation, naming the ones that do", async () => {
    const { response } = await validate(instanceReview("t1", { nodeName: "gpu-node-9" }), withRc());
    expect(response.status?.message).toContain(
      `spec.nodeName: Invalid node name specified gpu-node-9. Node "gpu-node-9" does not exist`,
    );
    expect(response.status?.message).toContain("use one of kwok-node-0, kwok-node-1");
  });

  it("passes objects of kinds no composition registered", async () => {
    const { response } = await validate(instanceReview("x"), deps());
    expect(response.allowed).toBe(true);
  });
});

describe("mutation", () => {
  it("records the creator in accountidentity, and keeps it on later updates by others", () => {
    const object = {
      metadata: { name: "t1", annotations: { accountidentity: "spoofed" } },
      spec: {},
    };
    const created = mutate(
      review({ metadata: { name: "t1" }, spec: {} }, { userInfo: { username: "alice" } }),
    );
    expect(JSON.parse(Buffer.from(created.response.patch ?? "", "base64").toString())).toEqual([
      { op: "add", path: "/metadata/annotations", value: { accountidentity: "alice" } },
    ]);
    const updated = mutate(
      review(object, {
        operation: "UPDATE",
        userInfo: { username: "bob" },
        oldObject: { metadata: { annotations: { accountidentity: "alice" } } },
      }),
    );
    expect(JSON.parse(Buffer.from(updated.response.patch ?? "", "base64").toString())).toEqual([
      { op: "replace", path: "/metadata/annotations/accountidentity", value: "alice" },
    ]);
  });

  const TP1 = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const TP2 = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01";
  const patchOf = (r: ReturnType<typeof mutate>): unknown =>
    JSON.parse(Buffer.from(r.response.patch ?? "", "base64").toString());

  it("records the admission's traceparent on a create and on a spec change, never on other updates", () => {
    const created = mutate(
      review({ metadata: { name: "t1" }, spec: { a: 1 } }, { userInfo: { username: "alice" } }),
      { traceparent: TP1 },
    );
    expect(patchOf(created)).toEqual([
      {
        op: "add",
        path: "/metadata/annotations",
        value: { accountidentity: "alice", "kubeplus.dev/traceparent": TP1 },
      },
    ]);
    const stored = {
      metadata: {
        name: "t1",
        annotations: { accountidentity: "alice", "kubeplus.dev/traceparent": TP1 },
      },
      spec: { a: 1 },
    };
    // The helmer adding its finalizer: same spec, the creation's trace stays.
    const finalizer = mutate(
      review(
        { ...stored, metadata: { ...stored.metadata, finalizers: ["x"] } },
        { operation: "UPDATE", oldObject: stored },
      ),
      { traceparent: TP2 },
    );
    expect(finalizer.response.patch).toBeUndefined();
    const changed = mutate(
      review({ ...stored, spec: { a: 2 } }, { operation: "UPDATE", oldObject: stored }),
      { traceparent: TP2 },
    );
    expect(patchOf(changed)).toEqual([
      { op: "replace", path: "/metadata/annotations/kubeplus.dev~1traceparent", value: TP2 },
    ]);
  });

  it("adds no traceparent when tracing is off", () => {
    const created = mutate(
      review({ metadata: { name: "t1" }, spec: {} }, { userInfo: { username: "alice" } }),
      {},
    );
    expect(patchOf(created)).toEqual([
      { op: "add", path: "/metadata/annotations", value: { accountidentity: "alice" } },
    ]);
  });

  it("tells the validating webhook the traceparent this request's mutation recorded, not an older one", () => {
    const withTp = (tp: string): Record<string, unknown> => ({
      metadata: { name: "t1", annotations: { "kubeplus.dev/traceparent": tp } },
      spec: {},
    });
    expect(admittedTraceparent(review(withTp(TP1)))).toBe(TP1);
    expect(
      admittedTraceparent(review(withTp(TP2), { operation: "UPDATE", oldObject: withTp(TP1) })),
    ).toBe(TP2);
    expect(
      admittedTraceparent(review(withTp(TP1), { operation: "UPDATE", oldObject: withTp(TP1) })),
    ).toBeUndefined();
    expect(admittedTraceparent(review({ metadata: { name: "t1" }, spec: {} }))).toBeUndefined();
  });
});
