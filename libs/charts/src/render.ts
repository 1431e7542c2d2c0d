import { spawn } from "node:child_process";
import {
  parseAllDocuments,
  type DocumentOptions,
  type ParseOptions,
  type SchemaOptions,
} from "yaml";
import { ChartError, ChartErrorCode } from "./errors.js";

/**
 * How Kubernetes reads the YAML helm sends it (sigs.k8s.io/yaml, go-yaml v2: YAML 1.1): `0644` is octal 420,
 * `yes`/`on`/`y` are booleans, `<<` merges. The default YAML 1.2 would read `defaultMode: 0644` as 644 and
 * `hostNetwork: yes` as a string. Like go-yaml v2 for an untyped value, timestamps stay strings and `1:20` is not a
 * base-60 number.
 */
export const HELM_YAML: ParseOptions & DocumentOptions & SchemaOptions = {
  version: "1.1",
  customTags: (tags) =>
    tags.filter(
      (t) =>
        !(
          typeof t === "object" &&
          (t.tag === "tag:yaml.org,2002:timestamp" || t.format === "TIME")
        ),
    ),
};

export interface RenderOptions {
  readonly helmBin: string;
  /** Path of a chart archive (.tgz) already checked by inspectChartArchive. */
  readonly chartPath: string;
  readonly releaseName: string;
  readonly namespace: string;
  readonly values: Record<string, unknown>;
  /** The cluster's version, for `.Capabilities.KubeVersion` (e.g. v1.35.4). */
  readonly kubeVersion?: string;
  readonly timeoutMs?: number;
  /** Environment for helm (HELM_CACHE_HOME and friends point at writable folders). */
  readonly env?: NodeJS.ProcessEnv;
}

/** A rendered manifest: one Kubernetes object, with the template it came from. */
export interface RenderedObject {
  readonly object: Record<string, unknown>;
  readonly source?: string;
}

interface Completed {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with input on stdin, bounded by a timeout (the process is killed when it expires). */
export function runCommand(
  bin: string,
  args: readonly string[],
  options: { stdin?: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<Completed> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...args], { env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString();
      resolve({
        code: signal ? null : code,
        stdout: Buffer.concat(out).toString(),
        stderr: signal ? `${stderr}\n(killed after ${options.timeoutMs} ms)` : stderr,
      });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/** The template a document came from: helm's `# Source:` comment, which after a `---` belongs to the contents. */
function sourceOf(doc: {
  commentBefore?: string | null;
  contents?: { commentBefore?: string | null } | null;
}) {
  const comment = `${doc.commentBefore ?? ""}\n${doc.contents?.commentBefore ?? ""}`;
  return /Source: (\S+)/.exec(comment)?.[1];
}

/** Parses multi-document YAML as helm prints it, keeping each object's `# Source:` template path. */
export function parseManifests(text: string): RenderedObject[] {
  const objects: RenderedObject[] = [];
  for (const doc of parseAllDocuments(text, HELM_YAML)) {
    if (doc.errors.length > 0) {
      throw new ChartError(
        ChartErrorCode.RenderFailed,
        `rendered manifest is not valid YAML: ${doc.errors[0]?.message ?? ""}`,
      );
    }
    const value = doc.toJS() as unknown;
    if (!value || typeof value !== "object" || Array.isArray(value)) continue;
    const source = sourceOf(doc);
    objects.push({ object: value as Record<string, unknown>, ...(source ? { source } : {}) });
  }
  return objects;
}

/** `helm template` with the pinned helm: the chart's objects (hooks included) in template order. */
export async function renderChart(options: RenderOptions): Promise<RenderedObject[]> {
  const args = [
    "template",
    options.releaseName,
    options.chartPath,
    "--namespace",
    options.namespace,
    "--values",
    "-",
    ...(options.kubeVersion ? ["--kube-version", options.kubeVersion] : []),
  ];
  const result = await runCommand(options.helmBin, args, {
    stdin: JSON.stringify(options.values),
    timeoutMs: options.timeoutMs ?? 30_000,
    ...(options.env ? { env: options.env } : {}),
  });
  if (result.code !== 0) {
    const detail = result.stderr.trim().split("\n").slice(0, 10).join("\n");
    throw new ChartError(ChartErrorCode.RenderFailed, `helm template failed: ${detail}`);
  }
  return parseManifests(result.stdout);
}
