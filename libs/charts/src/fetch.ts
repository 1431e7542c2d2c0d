import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_LIMITS, digestOf, inspectChartArchive, type InspectedChart } from "./archive.js";
import { ChartError, ChartErrorCode } from "./errors.js";
import { runCommand } from "./render.js";

/** Where a composition's chart comes from. */
export type ChartSource =
  | { readonly type: "http"; readonly url: string }
  | { readonly type: "oci"; readonly ref: string; readonly version?: string }
  | { readonly type: "uploaded"; readonly file: string };

/** Parses `spec.newResource.chartURL`; the message says which forms are accepted. */
export function parseChartURL(chartURL: string): ChartSource {
  const url = chartURL.trim();
  if (/^https?:\/\//i.test(url)) return { type: "http", url };
  if (/^oci:\/\//i.test(url)) {
    const match = /^(oci:\/\/[^:@]+(?::\d+)?\/[^:@]+?)(?::([^/:@]+))?$/.exec(url);
    if (!match?.[1])
      throw new ChartError(
        ChartErrorCode.Invalid,
        `chartURL '${chartURL}' is not an oci://registry/repository/chart[:version] reference`,
      );
    return { type: "oci", ref: match[1], ...(match[2] ? { version: match[2] } : {}) };
  }
  const file = /^file:\/\/\/([^/]+\.tgz)$/.exec(url);
  if (file?.[1]) return { type: "uploaded", file: file[1] };
  throw new ChartError(
    ChartErrorCode.Invalid,
    `chartURL '${chartURL}' is not supported: use https:// or http:// (a chart archive), oci://registry/repo/chart:version, or file:///<name>.tgz for a chart uploaded with 'kubectl upload chart'`,
  );
}

export interface FetchDeps {
  readonly helmBin: string;
  readonly cacheDir: string;
  /** Returns an uploaded chart's archive (stored in the cluster), or undefined when none has that name. */
  readonly loadUploaded: (file: string) => Promise<Buffer | undefined>;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** OCI registries (`host` or `host:port`) spoken to over plain HTTP, e.g. an in-cluster registry without TLS. */
  readonly plainHttpRegistries?: readonly string[];
}

/** The `host[:port]` of an `oci://host[:port]/path` reference. */
function ociRegistryOf(ref: string): string {
  return ref.replace(/^oci:\/\//i, "").split("/")[0] ?? "";
}

async function fetchHttp(url: string, deps: FetchDeps): Promise<Buffer> {
  const maxBytes = deps.maxBytes ?? DEFAULT_LIMITS.maxArchiveBytes;
  let response: Response;
  try {
    response = await fetch(url, {
      signal: AbortSignal.timeout(deps.timeoutMs ?? 20_000),
      redirect: "follow",
    });
  } catch (err) {
    throw new ChartError(
      ChartErrorCode.Unavailable,
      `could not download the chart from ${url}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  if (!response.ok || !response.body) {
    throw new ChartError(
      ChartErrorCode.Unavailable,
      `could not download the chart from ${url}: HTTP ${response.status} ${response.statusText}`,
    );
  }
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    throw new ChartError(
      ChartErrorCode.Invalid,
      `chart at ${url} is ${declared} bytes; the limit is ${maxBytes}`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Uint8Array).length;
    if (size > maxBytes)
      throw new ChartError(
        ChartErrorCode.Invalid,
        `chart at ${url} is larger than ${maxBytes} bytes`,
      );
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

async function fetchOci(
  ref: string,
  version: string | undefined,
  deps: FetchDeps,
): Promise<Buffer> {
  const dir = await mkdtemp(join(deps.cacheDir, "pull-"));
  try {
    const plainHttp = (deps.plainHttpRegistries ?? []).includes(ociRegistryOf(ref));
    const args = [
      "pull",
      ref,
      "--destination",
      dir,
      ...(version ? ["--version", version] : []),
      ...(plainHttp ? ["--plain-http"] : []),
    ];
    const result = await runCommand(deps.helmBin, args, {
      timeoutMs: deps.timeoutMs ?? 60_000,
      ...(deps.env ? { env: deps.env } : {}),
    });
    if (result.code !== 0) {
      throw new ChartError(
        ChartErrorCode.Unavailable,
        `helm pull ${ref} failed: ${result.stderr.trim().split("\n")[0] ?? ""}`,
      );
    }
    const [file] = (await readdir(dir)).filter((f) => f.endsWith(".tgz"));
    if (!file)
      throw new ChartError(
        ChartErrorCode.Unavailable,
        `helm pull ${ref} produced no chart archive`,
      );
    return await readFile(join(dir, file));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function download(source: ChartSource, deps: FetchDeps): Promise<Buffer> {
  switch (source.type) {
    case "http":
      return fetchHttp(source.url, deps);
    case "oci":
      return fetchOci(source.ref, source.version, deps);
    case "uploaded": {
      const archive = await deps.loadUploaded(source.file);
      if (!archive) {
        throw new ChartError(
          ChartErrorCode.Unavailable,
          `chart ${source.file} has not been uploaded; upload it first with 'kubectl upload chart ${source.file}'`,
        );
      }
      return archive;
    }
  }
}

/** A chart ready to render: checked, and stored on disk under its digest. */
export interface FetchedChart extends InspectedChart {
  readonly path: string;
}

/**
 * Fetches a chart, checks it (inspectChartArchive) and stores it under `<cacheDir>/<digest>.tgz`, so that every
 * render reads a verified file. Archives are cached by content digest: the same bytes are checked once.
 */
export async function fetchChart(
  chartURL: string,
  chartName: string,
  deps: FetchDeps,
): Promise<FetchedChart> {
  // First: an oci:// pull works in a temporary folder inside the cache.
  await mkdir(deps.cacheDir, { recursive: true });
  const archive = await download(parseChartURL(chartURL), deps);
  const digest = digestOf(archive);
  const inspected = await inspectChartArchive(archive, chartName);
  const path = join(deps.cacheDir, `${digest.replace(":", "-")}.tgz`);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, archive);
  await rename(tmp, path);
  return { ...inspected, path };
}
