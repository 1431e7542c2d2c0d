import { describe, expect, it } from "vitest";
import { lintRendered, type LintContext } from "./lint.js";
import { parseManifests, type RenderedObject } from "./render.js";

const ctx = (over: Partial<LintContext> = {}): LintContext => ({
  allow: new Set(),
  storageClasses: new Map([
    ["standard", { reclaimPolicy: "Delete", isDefault: true }],
    ["keep", { reclaimPolicy: "Retain", isDefault: false }],
  ]),
  isNamespaced: () => undefined,
  ...over,
});
const o = (object: Record<string, unknown>): RenderedObject => ({ object });
const deployment = (podSpec: Record<string, unknown>): RenderedObject =>
  o({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: { template: { spec: podSpec } },
  });

describe("lintRendered", () => {
  it("passes a plain namespaced chart", () => {
    const result = lintRendered(
      [
        o({ apiVersion: "v1", kind: "Service", metadata: { name: "web" } }),
        deployment({ containers: [{ name: "web", image: "nginx" }] }),
        o({
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: "data" },
          spec: {},
        }),
      ],
      ctx(),
    );
    expect(result).toEqual({ problems: [], warnings: [], rbac: [] });
  });

  it("refuses Namespaces, PersistentVolumes and every other cluster-scoped object (ClusterRoles too), naming each", () => {
    const { problems } = lintRendered(
      [
        o({ apiVersion: "v1", kind: "Namespace", metadata: { name: "mine" } }),
        o({ apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "shared" } }),
        o({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "fast" } }),
        o({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }),
        o({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRole",
          metadata: { name: "r" },
          rules: [],
        }),
      ],
      ctx({ isNamespaced: (_a, kind) => (kind === "Widget" ? false : undefined) }),
    );
    expect(problems.map((p) => p.path)).toEqual([
      "Namespace/mine",
      "PersistentVolume/shared",
      "StorageClass/fast",
      "Widget/w",
      "ClusterRole/r",
    ]);
    expect(problems[0]?.message).toMatch(/remove the Namespace from the chart/);
    expect(problems[4]?.message).toMatch(/a ClusterRole becomes a Role/);
    expect(problems[2]?.message).toMatch(/StorageClass is cluster-scoped/);
  });

  it("refuses host access and privileged containers unless the composition opts in", () => {
    const risky = deployment({
      hostNetwork: true,
      hostPID: true,
      volumes: [{ name: "logs", hostPath: { path: "/var/log" } }],
      containers: [{ name: "agent", image: "x", securityContext: { privileged: true } }],
    });
    expect(lintRendered([risky], ctx()).problems.map((p) => p.path)).toEqual([
      "Deployment/web spec.template.spec.hostNetwork",
      "Deployment/web spec.template.spec.hostPID",
      "Deployment/web spec.template.spec.volumes[0].hostPath",
      "Deployment/web spec.template.spec.containers[0].securityContext.privileged",
    ]);
    const allowed = lintRendered(
      [risky],
      ctx({ allow: new Set(["hostNetwork", "hostPID", "hostPath", "privileged"]) }),
    );
    expect(allowed.problems).toEqual([]);
  });

  it("refuses storage that would outlive or be shared between instances", () => {
    const claim = (name: string, spec: Record<string, unknown>): RenderedObject =>
      o({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name }, spec });
    const sts = o({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db" },
      spec: {
        volumeClaimTemplates: [{ spec: { storageClassName: "keep" } }],
        template: { spec: { containers: [] } },
      },
    });
    const { problems, warnings } = lintRendered(
      [
        claim("a", { storageClassName: "keep" }),
        claim("b", { volumeName: "pv-1" }),
        claim("c", { selector: { matchLabels: { x: "y" } } }),
        claim("d", { storageClassName: "missing" }),
        sts,
      ],
      ctx(),
    );
    expect(problems.map((p) => p.path)).toEqual([
      "PersistentVolumeClaim/a spec.storageClassName",
      "PersistentVolumeClaim/b spec.volumeName",
      "PersistentVolumeClaim/c spec.selector",
      "StatefulSet/db spec.volumeClaimTemplates[0].spec.storageClassName",
    ]);
    expect(problems[0]?.message).toMatch(
      /reclaimPolicy Retain.*use a class whose reclaimPolicy is Delete/,
    );
    expect(warnings.map((w) => w.message)).toEqual([
      "storage class 'missing' does not exist in the cluster",
    ]);
  });

  it("collects Role and ClusterRole rules for the permission check", () => {
    const rules = [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }];
    const { rbac } = lintRendered(
      [
        o({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: "r" },
          rules,
        }),
      ],
      ctx(),
    );
    expect(rbac).toEqual([{ object: "Role/r", rules }]);
  });

  it("reads manifests as Kubernetes does (YAML 1.1): a `yes` host network is refused, 0644 is octal", () => {
    const [pod] = parseManifests(
      [
        "---",
        "# Source: c/templates/pod.yaml",
        "apiVersion: v1",
        "kind: Pod",
        "metadata: { name: p, annotations: { built: 2001-12-14, at: 1:20 } }",
        "spec:",
        "  hostNetwork: yes",
        "  containers: [{ name: c, image: nginx }]",
        "  volumes: [{ name: s, secret: { secretName: s, defaultMode: 0644 } }]",
      ].join("\n"),
    );
    expect(pod?.source).toBe("c/templates/pod.yaml");
    expect(pod?.object).toMatchObject({
      // Like go-yaml v2 for an untyped value: timestamps and h:m stay strings.
      metadata: { annotations: { built: "2001-12-14", at: "1:20" } },
      spec: { hostNetwork: true, volumes: [{ secret: { defaultMode: 420 } }] },
    });
    expect(lintRendered(pod ? [pod] : [], ctx()).problems.map((p) => p.path)).toEqual([
      "Pod/p spec.hostNetwork",
    ]);
  });
});
