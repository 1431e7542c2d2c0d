/**
 * Who asks the apiserver for what: a summary of a kube-apiserver audit log (JSON lines, `--audit-log-format=json`),
 * counted by client (the user agent's product), verb and resource. `kubeplus-dev up --apiserver-arg=...` turns the
 * log on; `kubeplus-dev audit <log>` prints this. Pure: lines in, rows out.
 */

interface AuditEvent {
  readonly stage?: string;
  readonly verb?: string;
  readonly requestURI?: string;
  readonly userAgent?: string;
  readonly objectRef?: {
    readonly resource?: string;
    readonly subresource?: string;
    readonly name?: string;
  };
}

export interface AuditRow {
  readonly client: string;
  readonly verb: string;
  readonly resource: string;
  readonly count: number;
}

export interface AuditSummary {
  readonly requests: number;
  readonly byClient: readonly { readonly client: string; readonly count: number }[];
  readonly rows: readonly AuditRow[];
}

/** `kube-controller-manager/v1.35.4 (linux/amd64) ...` -> `kube-controller-manager`; none -> `(none)`. */
function clientOf(userAgent: string | undefined): string {
  const product = (userAgent ?? "").split(/[/ ]/)[0] ?? "";
  return product === "" ? "(none)" : product;
}

function resourceOf(e: AuditEvent): string {
  const path = (e.requestURI ?? "").split("?")[0] ?? "";
  const ref = e.objectRef;
  if (ref?.resource) return ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource;
  return path; // discovery and /version
}

function parse(line: string): AuditEvent | undefined {
  try {
    return JSON.parse(line) as AuditEvent;
  } catch {
    return undefined;
  }
}

const sorted = <T extends { count: number }>(list: T[]): T[] =>
  list.sort((a, b) => b.count - a.count);

function completed(line: string): AuditEvent | undefined {
  const e = parse(line);
  return e && (e.stage === "ResponseComplete" || e.stage === "Panic") ? e : undefined;
}

const mentions = (e: AuditEvent, from: string): boolean =>
  (e.requestURI ?? "").includes(from) || (e.objectRef?.name ?? "").includes(from);

function rowOf(e: AuditEvent): Omit<AuditRow, "count"> {
  const verb = (e.requestURI ?? "").includes("watch=true") ? "watch" : (e.verb ?? "?");
  return { client: clientOf(e.userAgent), verb, resource: resourceOf(e) };
}

/**
 * Completed requests only (one event per request: ResponseComplete, or Panic), from the first whose URI or object
 * name contains `from` when given (the start of a benchmark phase, say). Watches count once, as `watch`.
 */
export function summarizeAudit(lines: Iterable<string>, from?: string): AuditSummary {
  const counts = new Map<string, AuditRow>();
  let started = from === undefined;
  let requests = 0;
  for (const line of lines) {
    const e = completed(line);
    if (!e) continue;
    started ||= from !== undefined && mentions(e, from);
    if (!started) continue;
    const row = rowOf(e);
    const key = `${row.client}\u0000${row.verb}\u0000${row.resource}`;
    counts.set(key, { ...row, count: (counts.get(key)?.count ?? 0) + 1 });
    requests += 1;
  }
  const clients = new Map<string, number>();
  for (const r of counts.values()) clients.set(r.client, (clients.get(r.client) ?? 0) + r.count);
  return {
    requests,
    byClient: sorted([...clients].map(([client, count]) => ({ client, count }))),
    rows: sorted([...counts.values()]),
  };
}

/** The summary as a table; `per` divides every count (instances created, say) for a per-item figure. */
export function formatAudit(summary: AuditSummary, per = 1, top = 40): string {
  const n = (c: number): string => (per === 1 ? String(c) : (c / per).toFixed(2));
  const lines = [`${String(summary.requests)} requests${per === 1 ? "" : `, per ${String(per)}`}`];
  lines.push("", `${"CLIENT".padEnd(32)} REQUESTS`);
  for (const c of summary.byClient) lines.push(`${c.client.padEnd(32)} ${n(c.count)}`);
  lines.push("", `${"REQUESTS".padEnd(10)} ${"CLIENT".padEnd(32)} ${"VERB".padEnd(8)} RESOURCE`);
  for (const r of summary.rows.slice(0, top))
    lines.push(`${n(r.count).padEnd(10)} ${r.client.padEnd(32)} ${r.verb.padEnd(8)} ${r.resource}`);
  return `${lines.join("\n")}\n`;
}
