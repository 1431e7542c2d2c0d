import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { extract as tarExtract, type Header } from "tar-stream";
import { parse as parseYaml } from "yaml";
import { ChartError, ChartErrorCode } from "./errors.js";

/** Bounds that keep a hostile archive from exhausting memory or disk. */
export interface ArchiveLimits {
  /** Compressed archive size. */
  readonly maxArchiveBytes: number;
  /** Sum of all decompressed files. */
  readonly maxTotalBytes: number;
  readonly maxFileBytes: number;
  readonly maxEntries: number;
  /** Path segments below the chart's top folder. */
  readonly maxDepth: number;
  /** Subcharts inside subcharts (charts/a/charts/b is 2). */
  readonly maxSubchartNesting: number;
}

export const DEFAULT_LIMITS: ArchiveLimits = {
  maxArchiveBytes: 20 * 1024 * 1024,
  maxTotalBytes: 100 * 1024 * 1024,
  maxFileBytes: 5 * 1024 * 1024,
  maxEntries: 10_000,
  maxDepth: 20,
  maxSubchartNesting: 5,
};

export interface ChartMetadata {
  readonly name: string;
  readonly version: string;
  readonly appVersion?: string;
  readonly kubeVersion?: string;
  readonly description?: string;
}

/** A chart archive that passed every safety check, read into memory. */
export interface InspectedChart {
  readonly metadata: ChartMetadata;
  /** `sha256:<hex>` of the archive bytes: the cache key. */
  readonly digest: string;
  /** Files by path relative to the chart's top folder (e.g. `values.yaml`, `charts/mysql/Chart.yaml`). */
  readonly files: ReadonlyMap<string, Buffer>;
  readonly values: Record<string, unknown>;
  readonly valuesYaml: string;
  readonly valuesSchema?: Record<string, unknown>;
  /** Documents of every `crds/` folder, the chart's and its subcharts', in path order. */
  readonly crds: readonly Record<string, unknown>[];
}

const invalid = (message: string): ChartError => new ChartError(ChartErrorCode.Invalid, message);

export function digestOf(archive: Buffer): string {
  return `sha256:${createHash("sha256").update(archive).digest("hex")}`;
}

function gunzip(archive: Buffer, limits: ArchiveLimits): Buffer {
  if (archive.length > limits.maxArchiveBytes) {
    throw invalid(
      `chart archive is ${archive.length} bytes; the limit is ${limits.maxArchiveBytes}`,
    );
  }
  try {
    return gunzipSync(archive, { maxOutputLength: limits.maxTotalBytes + 1024 * 1024 });
  } catch (err) {
    const tooBig = err instanceof RangeError || /maxOutputLength|buffer/i.test(String(err));
    throw invalid(
      tooBig
        ? `chart archive expands beyond ${limits.maxTotalBytes} bytes; refusing it (a compression bomb?)`
        : `chart archive is not a gzip-compressed tar file: ${String(err)}`,
    );
  }
}

function checkPath(name: string): string[] {
  if (name.startsWith("/") || /^[a-zA-Z]:[\\/]/.test(name)) {
    throw invalid(
      `chart archive has an absolute path '${name}'; paths must be relative to the chart folder`,
    );
  }
  const segments = name.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) {
    throw invalid(`chart archive has a path that climbs out of the chart: '${name}'`);
  }
  return segments;
}

function checkType(header: Header): void {
  const { name, type } = header;
  if (type === "symlink" || type === "link") {
    const what = type === "symlink" ? "symbolic" : "hard";
    throw invalid(
      `chart archive has a ${what} link '${name}' -> '${header.linkname}'; links are not allowed in charts (helm package resolves them)`,
    );
  }
  if (type !== "file" && type !== "directory" && type !== "contiguous-file") {
    throw invalid(
      `chart archive has a ${type} entry '${name}'; only files and folders are allowed`,
    );
  }
}

function checkPlacement(
  name: string,
  segments: string[],
  expectedTop: string,
  limits: ArchiveLimits,
): string[] {
  const [top, ...rest] = segments;
  if (top !== expectedTop) {
    throw invalid(
      `chart archive entry '${name}' is outside the folder '${expectedTop}/': the archive's top folder must be the chartName`,
    );
  }
  if (rest.length > limits.maxDepth) {
    throw invalid(
      `chart archive entry '${name}' is nested ${rest.length} folders deep; the limit is ${limits.maxDepth}`,
    );
  }
  const nesting = rest.filter((s) => s === "charts").length;
  if (nesting > limits.maxSubchartNesting) {
    throw invalid(
      `chart archive nests subcharts ${nesting} levels deep ('${name}'); the limit is ${limits.maxSubchartNesting}`,
    );
  }
  return rest;
}

/** Checks one entry's path and type; returns its path relative to the chart's top folder (none for folders). */
function checkEntry(
  header: Header,
  expectedTop: string,
  limits: ArchiveLimits,
): string | undefined {
  const segments = checkPath(header.name);
  checkType(header);
  const rest = checkPlacement(header.name, segments, expectedTop, limits);
  return header.type === "directory" || rest.length === 0 ? undefined : rest.join("/");
}

async function readEntries(
  tar: Buffer,
  expectedTop: string,
  limits: ArchiveLimits,
): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tarExtract();
  Readable.from([tar]).pipe(extract);
  let entries = 0;
  let total = 0;
  for await (const entry of extract) {
    entries += 1;
    if (entries > limits.maxEntries)
      throw invalid(`chart archive has more than ${limits.maxEntries} entries`);
    const path = checkEntry(entry.header, expectedTop, limits);
    const size = entry.header.size;
    if (size > limits.maxFileBytes) {
      throw invalid(
        `chart file '${entry.header.name}' is ${size} bytes; the limit per file is ${limits.maxFileBytes}`,
      );
    }
    total += size;
    if (total > limits.maxTotalBytes)
      throw invalid(`chart archive expands beyond ${limits.maxTotalBytes} bytes`);
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (path !== undefined) files.set(path, Buffer.concat(chunks));
  }
  return files;
}

function topFolder(tar: Buffer): string {
  // The first header's name (offset 0, 100 bytes, NUL-terminated) names the chart folder; pax/GNU long names are
  // re-checked entry by entry in readEntries.
  const first = tar.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
  return first.split(/[\\/]/).find((s) => s !== "" && s !== ".") ?? "";
}

function parseYamlFile(files: ReadonlyMap<string, Buffer>, path: string): unknown {
  const content = files.get(path);
  if (!content) return undefined;
  try {
    return parseYaml(content.toString("utf8")) as unknown;
  } catch (err) {
    throw invalid(
      `chart file '${path}' is not valid YAML: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

function readMetadata(files: ReadonlyMap<string, Buffer>, chartName: string): ChartMetadata {
  const meta = parseYamlFile(files, "Chart.yaml") as
    { name?: unknown; version?: unknown } | undefined;
  if (!meta || typeof meta !== "object") throw invalid(`chart '${chartName}' has no Chart.yaml`);
  if (meta.name !== chartName) {
    throw invalid(
      `chartName is '${chartName}' but the archive's Chart.yaml names the chart '${String(meta.name)}'; set chartName to match it`,
    );
  }
  if (typeof meta.version !== "string" && typeof meta.version !== "number") {
    throw invalid(`chart '${chartName}' has no version in Chart.yaml`);
  }
  return { ...(meta as Partial<ChartMetadata>), name: chartName, version: String(meta.version) };
}

function readCrds(files: ReadonlyMap<string, Buffer>): Record<string, unknown>[] {
  const crdFile = /^(charts\/[^/]+\/)*crds\/[^/]+\.(ya?ml|json)$/;
  const paths = [...files.keys()].filter((p) => crdFile.test(p)).sort();
  const docs: Record<string, unknown>[] = [];
  for (const path of paths) {
    const text = files.get(path)?.toString("utf8") ?? "";
    for (const doc of text.split(/^---\s*$/m)) {
      const parsed = parseYaml(doc) as unknown;
      if (parsed && typeof parsed === "object") docs.push(parsed as Record<string, unknown>);
    }
  }
  return docs;
}

/** The chart's name as its archive says it (the top folder), with the same limits as a full inspection. */
export function chartNameOf(archive: Buffer, limits: ArchiveLimits = DEFAULT_LIMITS): string {
  return topFolder(gunzip(archive, limits));
}

/**
 * Reads a chart archive (.tgz) into memory, refusing anything hostile: absolute paths, `..`, links, special files,
 * entries outside the chart folder, oversized or deeply nested archives, and a chart whose name is not `chartName`.
 */
export async function inspectChartArchive(
  archive: Buffer,
  chartName: string,
  limits: ArchiveLimits = DEFAULT_LIMITS,
): Promise<InspectedChart> {
  const tar = gunzip(archive, limits);
  const top = topFolder(tar);
  if (top !== chartName) {
    throw invalid(
      `chartName is '${chartName}' but the archive's top folder is '${top}'; set chartName to '${top}'`,
    );
  }
  const files = await readEntries(tar, chartName, limits);
  const metadata = readMetadata(files, chartName);
  const values = (parseYamlFile(files, "values.yaml") ?? {}) as Record<string, unknown>;
  const schemaFile = files.get("values.schema.json");
  let valuesSchema: Record<string, unknown> | undefined;
  if (schemaFile) {
    try {
      valuesSchema = JSON.parse(schemaFile.toString("utf8")) as Record<string, unknown>;
    } catch (err) {
      throw invalid(`values.schema.json is not valid JSON: ${String(err)}`);
    }
  }
  return {
    metadata,
    digest: digestOf(archive),
    files,
    values: typeof values === "object" ? values : {},
    valuesYaml: files.get("values.yaml")?.toString("utf8") ?? "",
    ...(valuesSchema ? { valuesSchema } : {}),
    crds: readCrds(files),
  };
}
