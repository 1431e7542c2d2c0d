import { describe, expect, it } from "vitest";
import type { Instance, ResourceComposition } from "@kubeplus/api";
import { walkthroughPodconfig, wordpressComposition } from "@kubeplus/api/fixtures";
import { applyPodPolicy, podPolicyFor } from "./pod-policy.js";
import { answerPostRender, HELM_SOURCE_ANNOTATION } from "./post-render.js";

const composition = (nodeSelector?: string): ResourceComposition =>
  wordpressComposition({
    chartURL: "file:///wp.tgz",
    chartName: "wordpress",
    spec: {
      respolicy: {
        spec: {
          policy: {
            podconfig: { ...walkthroughPodconfig, ...(nodeSelector ? { nodeSelector } : {}) },
          },
        },
      },
    },
  });

const instance = (spec: Record<string, unknown>): Instance => ({
  apiVersion: "platformapi.kubeplus/v1alpha1",
  kind: "WordpressService",
  metadata: { name: "t1", namespace: "default" },
  spec,
});

const deployment = (containers: unknown[]): Record<string, unknown> => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  spec: { template: { spec: { containers, nodeSelector: { disk: "ssd" } } } },
});

describe("pod policy", () => {
  it("takes the node from the instance's spec (values.nodeName) or a literal label", () => {
    expect(
      podPolicyFor(composition("values.nodeName"), instance({ nodeName: "kwok-node-1" }))
        .nodeSelector,
    ).toEqual({
      "kubernetes.io/hostname": "kwok-node-1",
    });
    expect(podPolicyFor(composition("values.nodeName"), instance({})).nodeSelector).toBeUndefined();
    expect(podPolicyFor(composition("pool=pool-1"), instance({})).nodeSelector).toEqual({
      pool: "pool-1",
    });
  });

  it("fills resources a container leaves unset, keeps what it sets, and merges the node selector", () => {
    const policy = podPolicyFor(composition("values.nodeName"), instance({ nodeName: "n1" }));
    const out = applyPodPolicy(
      deployment([
        { name: "bare", image: "x" },
        {
          name: "own",
          image: "x",
          resources: { limits: { cpu: "50m" }, requests: { memory: "64Mi" } },
        },
      ]),
      policy,
    ) as {
      spec: { template: { spec: { containers: { resources: unknown }[]; nodeSelector: unknown } } };
    };
    const [bare, own] = out.spec.template.spec.containers;
    expect(bare?.resources).toEqual({
      requests: { cpu: "100m", memory: "1Gi" },
      limits: { cpu: "200m", memory: "2Gi" },
    });
    // cpu and memory each already set one side: the chart's choice stands (no request above its limit).
    expect(own?.resources).toEqual({ limits: { cpu: "50m" }, requests: { memory: "64Mi" } });
    expect(out.spec.template.spec.nodeSelector).toEqual({
      disk: "ssd",
      "kubernetes.io/hostname": "n1",
    });
  });

  it("reaches every workload kind's pod template and leaves other objects alone", () => {
    const policy = podPolicyFor(composition("pool=p"), instance({}));
    const cron = applyPodPolicy(
      {
        kind: "CronJob",
        metadata: { name: "c" },
        spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "c" }] } } } } },
      },
      policy,
    );
    expect(JSON.stringify(cron)).toContain('"nodeSelector":{"pool":"p"}');
    const pod = applyPodPolicy(
      {
        kind: "Pod",
        metadata: { name: "p" },
        spec: { initContainers: [{ name: "i" }], containers: [] },
      },
      policy,
    );
    expect(JSON.stringify(pod)).toContain('"requests":{"cpu":"100m","memory":"1Gi"}');
    const svc = { kind: "Service", metadata: { name: "s" }, spec: { ports: [] } };
    expect(applyPodPolicy(svc, policy)).toEqual(svc);
  });

  it("post-renders helm's manifests: policy on the workloads, templates kept for the helmer, JSON for helm", () => {
    const policy = podPolicyFor(composition("pool=p"), instance({}));
    const manifests = [
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations:",
      `    ${HELM_SOURCE_ANNOTATION}: 'c/templates/svc.yaml'`,
      "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:",
      `    ${HELM_SOURCE_ANNOTATION}: 'c/templates/web.yaml'\n    team: a`,
      "spec:\n  template:\n    spec:\n      containers:\n        - name: a",
      '---\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  flag: "yes"\n',
    ].join("\n");
    const seen: string[] = [];
    const answer = answerPostRender(manifests, policy, (objects) => {
      seen.push(...objects.map((o) => o.source ?? "-"));
      return [];
    });
    if (!answer.ok) throw new Error(answer.problems.join());
    // Helm gets its file annotation back (it splits the answer by it) and the policy on the Deployment.
    expect(answer.manifests.match(/^---$/gm)).toHaveLength(3);
    expect(answer.manifests).toContain(`"${HELM_SOURCE_ANNOTATION}":"c/templates/web.yaml"`);
    expect(answer.manifests).toContain('"nodeSelector":{"pool":"p"}');
    // What the policy leaves alone goes back to helm as helm wrote it, nothing re-encoded.
    expect(answer.manifests).toContain(
      '---\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  flag: "yes"\n',
    );
    expect(answer.manifests).toContain(`    ${HELM_SOURCE_ANNOTATION}: 'c/templates/svc.yaml'\n`);
    // The helmer's copy: what the release applies, named by template, without helm's annotation.
    expect(seen).toEqual(["c/templates/svc.yaml", "c/templates/web.yaml", "-"]);
    const [svc, web] = answer.objects;
    expect(svc?.object.metadata).toEqual({ name: "s" });
    expect(web?.object.metadata).toEqual({ name: "web", annotations: { team: "a" } });
    expect(JSON.stringify(web?.object)).toContain('"nodeSelector":{"pool":"p"}');
  });

  it("refuses with the isolation problems, and throws on manifests that are not YAML", () => {
    const policy = podPolicyFor(composition(), instance({}));
    const answer = answerPostRender("kind: Pod\nmetadata:\n  name: p\n", policy, (objects) =>
      objects.map((o) => `${String(o.object.kind)}: uses a hostPath`),
    );
    expect(answer).toEqual({ ok: false, problems: ["Pod: uses a hostPath"] });
    expect(() => answerPostRender("kind: [unclosed", policy, () => [])).toThrow(/invalid manifest/);
  });

  it("reads helm's manifests as Kubernetes will (YAML 1.1) before it changes a workload", () => {
    const policy = podPolicyFor(composition("pool=p"), instance({}));
    const answer = answerPostRender(
      [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata: { name: web }",
        "spec:",
        "  template:",
        "    spec:",
        "      enableServiceLinks: no",
        '      containers: [{ name: a, image: nginx, env: [{ name: QUIET, value: "yes" }] }]',
        "      volumes: [{ name: s, secret: { secretName: s, defaultMode: 0644 } }]",
      ].join("\n"),
      policy,
      () => [],
    );
    if (!answer.ok) throw new Error(answer.problems.join());
    // 0644 is octal to Kubernetes (420, not 644), `no` is false, and the quoted "yes" stays a string.
    expect(answer.manifests).toContain('"defaultMode":420');
    expect(answer.manifests).toContain('"enableServiceLinks":false');
    expect(answer.manifests).toContain('{"name":"QUIET","value":"yes"}');
    expect(answer.manifests).toContain('"nodeSelector":{"pool":"p"}');
  });
});
