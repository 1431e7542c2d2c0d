/**
 * The log of every service this test file started (helmer, crd-hook, metrics-collector, ...), kept after the service
 * stopped: a failing wait prints their last lines beside its own diagnosis, so that a failure can be understood from
 * the CI log alone (the control plane's logs say nothing about why the helmer did not act).
 */
export interface ServiceLog {
  readonly name: string;
  readonly pid: number | undefined;
  /** Every output line so far (stdout and stderr, as written). */
  lines(): readonly string[];
  /** "running", or how it ended ("exited with code 1"): a service that died is the first thing to know. */
  state?(): string;
}

const started: ServiceLog[] = [];

/** Records a service started by this test file (services.ts). */
export function recordServiceLog(log: ServiceLog): void {
  started.push(log);
}

/** Longer lines (a helm manifest in an error) are cut: the tail of every service must stay readable. */
const MAX_LINE = 600;

/** The last `lines` lines of every service this file started, in the order they were started. */
export function serviceLogTails(lines = 25): string {
  return started
    .map((s) => {
      const tail = s
        .lines()
        .slice(-lines)
        .map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}...` : l));
      const state = s.state ? `, ${s.state()}` : "";
      const header = `--- ${s.name} (pid ${String(s.pid ?? "?")}${state}), last ${String(tail.length)} lines ---`;
      return [header, ...tail].join("\n");
    })
    .join("\n");
}

/** Forgets every recorded service (unit tests). */
export function forgetServiceLogs(): void {
  started.splice(0);
}
