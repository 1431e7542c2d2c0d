import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { repoRoot } from "@kubeplus/dev";
import type { TestCluster } from "./cluster.js";
import { serviceEnv, startService, type RunningService } from "./services.js";

/** A standard condition as the platform writes it. */
export interface TestCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export function conditionOf(
  object: { status?: { conditions?: TestCondition[] } } | undefined,
  type = "Ready",
): TestCondition | undefined {
  return object?.status?.conditions?.find((c) => c.type === type);
}

/** A scratch folder for manifests that tests hand to kubectl. */
export class ManifestDir {
  readonly dir: string;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  }

  /** Writes the object as YAML and returns the file's path. */
  write(name: string, object: object): string {
    const file = join(this.dir, `${name}.yaml`);
    writeFileSync(file, stringify(object));
    return file;
  }
}

/**
 * A KubePlus namespace for one test file (not deleted per test: its services outlive single tests), with the platform
 * CRDs installed and Established.
 */
export async function platformNamespace(cluster: TestCluster, prefix: string): Promise<string> {
  const namespace = `${prefix}-${Date.now().toString(36)}`;
  await cluster.core.createNamespace({
    body: { metadata: { name: namespace, labels: { "kubeplus.dev/test": "true" } } },
  });
  const applied = await cluster.kubectl([
    "apply",
    "--server-side",
    "-f",
    join(repoRoot, "deploy", "charts", "kubeplus", "crds"),
  ]);
  if (applied.code !== 0) throw new Error(`installing the platform CRDs failed: ${applied.stderr}`);
  await cluster.kubectl([
    "wait",
    "--for=condition=Established",
    "crd/resourcecompositions.workflows.kubeplus",
  ]);
  return namespace;
}

/** The helmer as a real process for the KubePlus namespace `namespace`. */
export function startHelmer(
  cluster: TestCluster,
  namespace: string,
  cacheDir: string,
): Promise<RunningService> {
  return startService(
    "helmer",
    serviceEnv(cluster.state, { KUBEPLUS_NAMESPACE: namespace, CHART_CACHE_DIR: cacheDir }),
    (l) => l.msg === "helmer started",
  );
}
