import { lookup as dnsLookup } from "node:dns/promises";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { join } from "node:path";
import { DEFAULT_LIMITS, digestOf, inspectChartArchive, type InspectedChart } from "./archive.js";
import { isAllowed, restrictedKind, type AllowEntry } from "./address-guard.js";
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
  /**
   * Restricted addresses (loopback, private, link-local, metadata...) the provider lets the fetcher reach anyway
   * (CHART_FETCH_ALLOW_CIDRS, parsed by parseAllowList). Empty: none.
   */
  readonly allow?: readonly AllowEntry[];
  /**
   * Every address of a host name; default: the system resolver (`dns.lookup`, all answers). Called once per hop, for
   * the check; the connection then goes to the checked address and never asks again (tests answer differently on
   * each call to show that a rebinding answer is never used).
   */
  readonly resolve?: (host: string) => Promise<readonly { address: string; family: number }[]>;
}

/** The `host[:port]` of an `oci://host[:port]/path` reference. */
function ociRegistryOf(ref: string): string {
  return ref.replace(/^oci:\/\//i, "").split("/")[0] ?? "";
}

/** Redirects followed at most (each hop is checked like the first). */
const MAX_REDIRECTS = 5;
const ALLOW_SETTING = "CHART_FETCH_ALLOW_CIDRS (chart value helmer.chartFetchAllowCidrs)";

/** A host's address the fetcher has checked, to connect to exactly that one (DNS cannot change it afterwards). */
interface CheckedTarget {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Every address of a host (an IP literal is its own). */
async function addressesOf(
  host: string,
  deps: FetchDeps,
): Promise<readonly { address: string; family: number }[]> {
  if (isIP(host)) return [{ address: host, family: isIP(host) }];
  if (deps.resolve) return deps.resolve(host);
  return dnsLookup(host, { all: true, verbatim: true });
}

/**
 * Resolves `url`'s host and checks every address it has: one that is loopback, private, link-local or otherwise
 * restricted, and not allow-listed, refuses the whole hop before anything is sent. The message names the host and
 * the kind of address, never what answers there (closed and open ports look the same).
 */
async function checkTarget(
  chartURL: string,
  url: URL,
  hop: number,
  deps: FetchDeps,
): Promise<CheckedTarget> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const where = hop === 0 ? "its host" : `redirect ${String(hop)} goes to`;
  const addresses = await addressesOf(host, deps).catch((err: unknown) => {
    throw new ChartError(
      ChartErrorCode.Unavailable,
      `could not download the chart from ${chartURL}: ${where} ${host}, which does not resolve`,
      { cause: err },
    );
  });
  for (const { address } of addresses) {
    const kind = restrictedKind(address);
    if (kind && !isAllowed(address, port, deps.allow ?? []))
      throw new ChartError(
        ChartErrorCode.Unavailable,
        `could not download the chart from ${chartURL}: ${where} ${host} (${address}), a ${kind} address, which the chart fetcher does not reach; if that chart server is yours, the provider can allow it with ${ALLOW_SETTING}, e.g. ${address.includes(":") ? `[${address}]` : address}:<port>`,
      );
  }
  const first = addresses[0];
  if (!first)
    throw new ChartError(
      ChartErrorCode.Unavailable,
      `could not download the chart from ${chartURL}: ${where} ${host}, which has no address`,
    );
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** One GET to a checked address (TLS still verifies the URL's host name); redirects are the caller's. */
function get(url: URL, target: CheckedTarget, signal: AbortSignal): Promise<IncomingMessage> {
  const lookup = (
    _host: string,
    options: { all?: boolean },
    callback: (...args: unknown[]) => void,
  ): void => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // No pooled connection: every request connects to the address just checked.
    const req = request(
      url,
      { method: "GET", lookup: lookup as never, signal, agent: false },
      resolve,
    );
    req.on("error", reject);
    req.end();
  });
}

async function readBody(res: IncomingMessage, url: string, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers["content-length"] ?? "0");
  if (declared > maxBytes) {
    res.destroy();
    throw new ChartError(
      ChartErrorCode.Invalid,
      `chart at ${url} is ${declared} bytes; the limit is ${maxBytes}`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      res.destroy();
      throw new ChartError(
        ChartErrorCode.Invalid,
        `chart at ${url} is larger than ${maxBytes} bytes`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Where a redirect response points (its body discarded), or undefined for any other response. */
function redirectOf(res: IncomingMessage, from: URL): URL | undefined {
  const location = res.headers.location;
  if (!REDIRECTS.has(res.statusCode ?? 0) || !location) return undefined;
  res.resume();
  return new URL(location, from);
}

/** One hop: its scheme and address checked, then the GET (a failure says why, for an allowed address only). */
async function fetchHop(
  chartURL: string,
  url: URL,
  hop: number,
  context: { deps: FetchDeps; signal: AbortSignal },
): Promise<IncomingMessage> {
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new ChartError(
      ChartErrorCode.Unavailable,
      `could not download the chart from ${chartURL}: redirect ${String(hop)} goes to a ${url.protocol} URL; only http and https are followed`,
    );
  const target = await checkTarget(chartURL, url, hop, context.deps);
  try {
    return await get(url, target, context.signal);
  } catch (err) {
    throw new ChartError(
      ChartErrorCode.Unavailable,
      `could not download the chart from ${chartURL}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/**
 * Downloads an http(s) chart, following at most MAX_REDIRECTS redirects by hand: every hop's host is resolved and
 * checked (checkTarget) and the connection goes to the checked address, so a redirect or a DNS answer that changes
 * between check and connect cannot reach a restricted address.
 */
async function fetchHttp(chartURL: string, deps: FetchDeps): Promise<Buffer> {
  const maxBytes = deps.maxBytes ?? DEFAULT_LIMITS.maxArchiveBytes;
  const signal = AbortSignal.timeout(deps.timeoutMs ?? 20_000);
  let url = new URL(chartURL);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await fetchHop(chartURL, url, hop, { deps, signal });
    const next = redirectOf(res, url);
    if (next) {
      url = next;
      continue;
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      res.resume();
      throw new ChartError(
        ChartErrorCode.Unavailable,
        `could not download the chart from ${chartURL}: HTTP ${String(status)} ${res.statusMessage ?? ""}`.trimEnd(),
      );
    }
    return readBody(res, chartURL, maxBytes);
  }
  throw new ChartError(
    ChartErrorCode.Unavailable,
    `could not download the chart from ${chartURL}: more than ${String(MAX_REDIRECTS)} redirects`,
  );
}

/**
 * helm pulls oci:// charts itself: the registry's host is checked as an http(s) host is before helm runs (helm's own
 * redirects and later DNS answers are helm's; see docs/access.md).
 */
async function checkOciRegistry(ref: string, deps: FetchDeps): Promise<void> {
  const registry = ociRegistryOf(ref);
  const plain = (deps.plainHttpRegistries ?? []).includes(registry);
  await checkTarget(ref, new URL(`${plain ? "http" : "https"}://${registry}`), 0, deps);
}

/** Every `host:port` helm's error names: URLs it requested and addresses it dialled. */
function endpointsIn(text: string): { host: string; port: number }[] {
  const found: { host: string; port: number }[] = [];
  for (const m of text.matchAll(/\b(https?):\/\/(\[[^\]]+\]|[^/\s"':]+)(?::(\d+))?/gi)) {
    const [, scheme = "", host = "", port] = m;
    found.push({
      host: host.replace(/^\[|\]$/g, ""),
      port: port ? Number(port) : scheme.toLowerCase() === "https" ? 443 : 80,
    });
  }
  for (const m of text.matchAll(/\bdial tcp \[?([0-9a-fA-F:.]+?)\]?:(\d+)/g)) {
    const [, host = "", port = "0"] = m;
    found.push({ host, port: Number(port) });
  }
  return found;
}

/**
 * Why helm's failure must not be shown as it is: it went to (or tried) a restricted address that is not allowed,
 * through a redirect or a token realm of the registry's. Its own words would tell a closed port from an open one.
 */
async function restrictedInHelmError(
  text: string,
  deps: FetchDeps,
): Promise<{ host: string; address: string; kind: string } | undefined> {
  for (const { host, port } of endpointsIn(text)) {
    const addresses = await addressesOf(host, deps).catch(() => []);
    for (const { address } of addresses) {
      const kind = restrictedKind(address);
      if (kind && !isAllowed(address, port, deps.allow ?? [])) return { host, address, kind };
    }
  }
  return undefined;
}

async function fetchOci(
  ref: string,
  version: string | undefined,
  deps: FetchDeps,
): Promise<Buffer> {
  await checkOciRegistry(ref, deps);
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
      const restricted = await restrictedInHelmError(result.stderr, deps);
      // The same words whatever answered there (or did not): no port scanning through helm.
      if (restricted)
        throw new ChartError(
          ChartErrorCode.Unavailable,
          `helm pull ${ref} failed: the registry sent helm to ${restricted.host}${restricted.host === restricted.address ? "" : ` (${restricted.address})`}, a ${restricted.kind} address, which the chart fetcher does not reach (a redirect or a token realm of the registry's); if that server is yours, the provider can allow it with ${ALLOW_SETTING}`,
        );
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
