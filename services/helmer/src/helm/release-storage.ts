import { gunzipSync } from "node:zlib";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeRequestError, kubeRequest } from "@kubeplus/kube";

/** A release revision as helm stores it (Secret `sh.helm.release.v1.<release>.v<revision>`, the default driver). */
export interface StoredRelease {
  readonly revision: number;
  readonly status: string;
  /** `name-version` of the chart, as `helm history` prints it. */
  readonly chart: string;
  /** The values the user supplied (not the chart's defaults), as `helm get values` prints them. */
  readonly values: Record<string, unknown>;
  /** What the revision applied, as `helm template` prints it: the manifest, then each hook with its `# Source:`. */
  readonly manifest: string;
}

interface ReleaseRecord {
  info?: { status?: string };
  chart?: { metadata?: { name?: string; version?: string } };
  config?: Record<string, unknown> | null;
  version?: number;
  manifest?: string;
  hooks?: { path?: string; manifest?: string }[] | null;
}

/** The release's manifest and hooks in `helm template`'s layout (helm prints exactly this for a dry run). */
function manifestOf(r: ReleaseRecord): string {
  const hooks = (r.hooks ?? []).map((h) => `---\n# Source: ${h.path ?? ""}\n${h.manifest ?? ""}\n`);
  return [`${(r.manifest ?? "").trim()}\n`, ...hooks].join("");
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
    manifest: manifestOf(r),
  };
}

interface SecretMeta {
  metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string> };
  type?: string;
}

/** Metadata only: the release Secrets' bodies (each holds the whole chart) stay on the server. */
const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

/**
 * The latest revision of a release, read from the API instead of running `helm history` and `helm get values`: one
 * metadata-only list of the release's Secrets (the revision is in their labels), then the newest Secret's body only
 * when that revision has not been decoded before (a cache keyed by name and resourceVersion, so any change to the
 * Secret is read again). A reconcile polling a release for readiness costs one small list.
 */
export class ReleaseReader {
  private readonly kc: KubeConfig;
  private readonly decoded = new Map<string, { resourceVersion: string; release: StoredRelease }>();

  constructor(kc: KubeConfig) {
    this.kc = kc;
  }

  async latest(release: string, namespace: string): Promise<StoredRelease | undefined> {
    const selector = encodeURIComponent(`owner=helm,name=${release}`);
    const base = `/api/v1/namespaces/${namespace}/secrets`;
    const list = (await kubeRequest(this.kc, "GET", `${base}?labelSelector=${selector}`, {
      accept: METADATA_LIST,
    })) as { items?: SecretMeta[] };
    const newest = (list.items ?? [])
      .filter((s) => (s.metadata?.name ?? "").startsWith(`sh.helm.release.v1.${release}.v`))
      .sort(
        (a, b) =>
          Number(b.metadata?.labels?.version ?? 0) - Number(a.metadata?.labels?.version ?? 0),
      )[0];
    const key = `${namespace}/${release}`;
    const name = newest?.metadata?.name;
    if (!name) {
      this.decoded.delete(key);
      return undefined;
    }
    const version = `${name}@${newest.metadata?.resourceVersion ?? ""}`;
    const cached = this.decoded.get(key);
    if (cached?.resourceVersion === version) return cached.release;
    const secret = (await kubeRequest(this.kc, "GET", `${base}/${name}`).catch((err: unknown) => {
      if (err instanceof KubeRequestError && err.code === 404) return undefined;
      throw err;
    })) as { data?: { release?: string } } | undefined;
    const data = secret?.data?.release;
    if (!data) return undefined;
    const decoded = decodeRelease(data);
    this.decoded.set(key, { resourceVersion: version, release: decoded });
    return decoded;
  }
}
