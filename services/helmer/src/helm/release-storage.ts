import { gunzipSync } from "node:zlib";
import type { CoreV1Api } from "@kubernetes/client-node";

/** A release revision as helm stores it (Secret `sh.helm.release.v1.<release>.v<revision>`, the default driver). */
export interface StoredRelease {
  readonly revision: number;
  readonly status: string;
  /** `name-version` of the chart, as `helm history` prints it. */
  readonly chart: string;
  /** The values the user supplied (not the chart's defaults), as `helm get values` prints them. */
  readonly values: Record<string, unknown>;
}

interface ReleaseRecord {
  info?: { status?: string };
  chart?: { metadata?: { name?: string; version?: string } };
  config?: Record<string, unknown> | null;
  version?: number;
}

/** Decodes a release Secret's `data.release`: base64 (the Secret) of base64 of gzipped JSON. */
export function decodeRelease(data: string): StoredRelease {
  let raw = Buffer.from(Buffer.from(data, "base64").toString(), "base64");
  if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
  const r = JSON.parse(raw.toString()) as ReleaseRecord;
  const meta = r.chart?.metadata ?? {};
  return {
    revision: r.version ?? 0,
    status: r.info?.status ?? "unknown",
    chart: `${meta.name ?? ""}-${meta.version ?? ""}`,
    values: r.config ?? {},
  };
}

/**
 * The latest revision of a release, read from the API (one list of labelled Secrets) instead of running
 * `helm history` and `helm get values`: the same facts, without a helm process per reconcile.
 */
export async function latestRelease(
  core: CoreV1Api,
  release: string,
  namespace: string,
): Promise<StoredRelease | undefined> {
  const list = await core.listNamespacedSecret({
    namespace,
    labelSelector: `owner=helm,name=${release}`,
  });
  const latest = list.items
    .filter((s) => s.type === "helm.sh/release.v1")
    .sort(
      (a, b) => Number(b.metadata?.labels?.version ?? 0) - Number(a.metadata?.labels?.version ?? 0),
    )[0];
  const data = latest?.data?.release;
  return data ? decodeRelease(data) : undefined;
}
