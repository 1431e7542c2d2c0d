import { isIPv4, isIPv6 } from "node:net";

/**
 * Which addresses the chart fetcher may reach. A chartURL (or any redirect it leads to) must not make the helmer a
 * proxy into its own network: loopback, private, shared (CGNAT), link-local (cloud metadata), unspecified, multicast
 * and reserved addresses are refused unless the provider allow-lists them (CHART_FETCH_ALLOW_CIDRS).
 */

/** An allow-list entry: a network (a single address is a /32 or /128), optionally only one port. */
export interface AllowEntry {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly bits: number;
  readonly port?: number;
  /** As the provider wrote it, for messages. */
  readonly text: string;
}

interface Range {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly bits: number;
  readonly label: string;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  let text = address.toLowerCase().split("%")[0] ?? "";
  // An embedded IPv4 tail (::ffff:127.0.0.1) becomes two hextets.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail?.[1]) {
    const v4 = ipv4ToBigInt(tail[1]);
    text = `${text.slice(0, -tail[1].length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = rest ? rest.split(":") : [];
  const missing = 8 - left.length - right.length;
  const groups =
    rest === undefined ? left : [...left, ...Array<string>(missing).fill("0"), ...right];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || "0", 16)), 0n);
}

function inRange(value: bigint, family: 4 | 6, network: bigint, bits: number): boolean {
  const width = family === 4 ? 32 : 128;
  const shift = BigInt(width - bits);
  return value >> shift === network >> shift;
}

function range(cidr: string, label: string): Range {
  const [address = "", bits = ""] = cidr.split("/");
  const family = isIPv4(address) ? 4 : 6;
  return {
    family,
    network: family === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address),
    bits: Number(bits),
    label,
  };
}

const BLOCKED: readonly Range[] = [
  range("0.0.0.0/8", "unspecified"),
  range("127.0.0.0/8", "loopback"),
  range("10.0.0.0/8", "private (RFC 1918)"),
  range("172.16.0.0/12", "private (RFC 1918)"),
  range("192.168.0.0/16", "private (RFC 1918)"),
  range("100.64.0.0/10", "shared (CGNAT)"),
  range("169.254.169.254/32", "cloud metadata"),
  range("169.254.0.0/16", "link-local"),
  range("192.0.0.0/24", "reserved (IETF protocol assignments)"),
  range("198.18.0.0/15", "reserved (benchmarking)"),
  range("224.0.0.0/4", "multicast"),
  range("240.0.0.0/4", "reserved"),
  range("::/128", "unspecified"),
  range("::1/128", "loopback"),
  range("fd00:ec2::254/128", "cloud metadata"),
  range("fc00::/7", "private (unique local)"),
  range("fe80::/10", "link-local"),
  range("ff00::/8", "multicast"),
];

/** IPv6 forms that carry an IPv4 address the packet really goes to: IPv4-mapped and NAT64. */
const EMBEDDING: readonly Range[] = [
  range("::ffff:0:0/96", "mapped"),
  range("64:ff9b::/96", "nat64"),
];

/** The address as the network sees it: an IPv4-mapped or NAT64 IPv6 address is its IPv4 address. */
function effective(address: string): { family: 4 | 6; value: bigint } {
  if (isIPv4(address)) return { family: 4, value: ipv4ToBigInt(address) };
  const value = ipv6ToBigInt(address);
  if (EMBEDDING.some((e) => inRange(value, 6, e.network, e.bits)))
    return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

/** Why the fetcher may not reach `address` by default ("loopback", ...), or undefined for a public address. */
export function restrictedKind(address: string): string | undefined {
  const { family, value } = effective(address);
  return BLOCKED.find((r) => r.family === family && inRange(value, family, r.network, r.bits))
    ?.label;
}

/** True when the provider allow-listed this address (and port). */
export function isAllowed(address: string, port: number, allow: readonly AllowEntry[]): boolean {
  const { family, value } = effective(address);
  return allow.some(
    (e) =>
      e.family === family &&
      inRange(value, family, e.network, e.bits) &&
      (e.port === undefined || e.port === port),
  );
}

/** `[v6[/n]]:port`, `a.b.c.d[/n]:port` or a bare network: the network and the port, if any. */
function splitPort(text: string): { network: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed?.[1])
    return { network: bracketed[1], ...(bracketed[2] ? { port: Number(bracketed[2]) } : {}) };
  // IPv6 without brackets has several colons and takes no port.
  const parts = text.split(":");
  if (text.includes("::") || parts.length !== 2) return { network: text };
  return { network: parts[0] ?? "", port: Number(parts[1]) };
}

function parseNetwork(
  text: string,
  network: string,
): Pick<AllowEntry, "family" | "network" | "bits"> | string {
  const [address = "", bitsText] = network.split("/");
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (!family) return `'${text}' is not an address or CIDR`;
  const width = family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (bitsText === "" || !Number.isInteger(bits) || bits < 0 || bits > width)
    return `'${text}' has an invalid prefix length (0 to ${String(width)})`;
  return {
    family,
    network: family === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address),
    bits,
  };
}

function parseEntry(raw: string): AllowEntry | string {
  const text = raw.trim();
  const { network, port } = splitPort(text);
  const parsed = parseNetwork(text, network);
  if (typeof parsed === "string") return parsed;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))
    return `'${text}' has an invalid port`;
  return { ...parsed, ...(port !== undefined ? { port } : {}), text };
}

/**
 * Parses CHART_FETCH_ALLOW_CIDRS: comma-separated CIDRs or addresses, each optionally with a port
 * (`10.0.0.0/8`, `127.0.0.1:8080`, `fd00::/8`, `[::1]:8080`). Throws with every bad entry named.
 */
export function parseAllowList(text: string): AllowEntry[] {
  const entries = text
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)
    .map(parseEntry);
  const problems = entries.filter((e): e is string => typeof e === "string");
  if (problems.length > 0)
    throw new Error(
      `${problems.join("; ")}: use CIDRs or addresses, each optionally with :port, e.g. 10.0.0.0/8,127.0.0.1:8080,[::1]:8080`,
    );
  return entries as AllowEntry[];
}

/** True when every address of `inner` lies in `outer` (same family; both CIDRs, e.g. 0.0.0.0/0 and 198.18.0.0/19). */
export function cidrContains(outer: string, inner: string): boolean {
  const o = range(outer, outer);
  const i = range(inner, inner);
  return (
    o.family === i.family && o.bits <= i.bits && inRange(i.network, i.family, o.network, o.bits)
  );
}
