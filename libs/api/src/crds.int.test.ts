import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { TestCluster, waitFor } from "@kubeplus/testing";
import { repoRoot } from "@kubeplus/dev";

const cluster = new TestCluster();
const crdDir = join(repoRoot, "deploy", "charts", "kubeplus", "crds");
const fixture = join(repoRoot, "e2e", "fixtures", "wordpress-service-composition.yaml");

describe("platform CRDs on a real apiserver", () => {
  it("install, become Established, and accept the walkthrough's composition without pruning a field", async () => {
    const files = readdirSync(crdDir).map((f) => join(crdDir, f));
    const applied = await cluster.kubectl([
      "apply",
      "--server-side",
      ...files.flatMap((f) => ["-f", f]),
    ]);
    expect(applied.stderr).toBe("");
    for (const name of ["resourcecompositions", "resourcepolicies", "resourcemonitors"]) {
      await waitFor(
        async () => {
          const r = await cluster.kubectl([
            "wait",
            "--for=condition=Established",
            `crd/${name}.workflows.kubeplus`,
            "--timeout=5s",
          ]);
          return r.code === 0;
        },
        { what: `${name} to be Established` },
      );
    }
    const namespace = await cluster.freshNamespace("api");
    const created = await cluster.kubectl(["create", "-n", namespace, "-f", fixture, "-o", "json"]);
    expect(created.stderr).toBe("");
    const stored = JSON.parse(created.stdout) as { spec: unknown };
    const authored = parse(readFileSync(fixture, "utf8")) as { spec: unknown };
    expect(stored.spec).toEqual(authored.spec);

    const table = await cluster.kubectl(["get", "resourcecompositions", "-n", namespace]);
    expect(table.stdout.split("\n")[0]).toMatch(/^NAME\s+KIND\s+CHART\s+READY\s+REASON\s+AGE$/);
    expect(table.stdout).toMatch(
      /wordpress-service-composition\s+WordpressService\s+wordpress-chart/,
    );
  });

  it("rejects a composition without the fields a chart registration needs, naming them", async () => {
    const namespace = await cluster.freshNamespace("api-bad");
    const bad = {
      apiVersion: "workflows.kubeplus/v1alpha1",
      kind: "ResourceComposition",
      metadata: { name: "incomplete", namespace },
      spec: { newResource: { resource: { kind: "Foo", group: "platformapi.kubeplus" } } },
    };
    const file = join(mkdtempSync(join(tmpdir(), "rc-")), "bad.json");
    writeFileSync(file, JSON.stringify(bad));
    const result = await cluster.kubectl(["create", "-f", file]);
    expect(result.code).not.toBe(0);
    for (const field of [
      "spec.newResource.chartURL",
      "spec.newResource.chartName",
      "spec.newResource.resource.version",
      "spec.newResource.resource.plural",
    ]) {
      expect(result.stderr).toContain(`${field}: Required value`);
    }
  });
});
