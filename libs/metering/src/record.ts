import type { InstanceUsage } from "@kubeplus/contracts";

/** One day of one instance's consumption: the basis of billing. */
export interface DailyUsage {
  readonly date: string;
  cpuCoreSeconds: number;
  memoryByteSeconds: number;
  storageByteSeconds: number;
  networkReceiveBytes: number;
  networkTransmitBytes: number;
}

/**
 * One pass of one instance, as the console charts it over time: the gauges as measured (null: not measured in that
 * pass) and the network counters' rates since the pass before (bytes per second; null on the first pass or a gap).
 */
export interface RecentPoint {
  readonly at: string;
  readonly cpuCores: number | null;
  readonly memoryBytes: number | null;
  readonly storageBytes: number;
  readonly receiveBytesPerSecond: number | null;
  readonly transmitBytesPerSecond: number | null;
}

/** What is kept in the cluster per instance (so that a restart loses nothing): the days and the last counters. */
export interface UsageRecord {
  days: DailyUsage[];
  /** The latest passes, oldest first, at most RECENT_POINTS. */
  recent?: RecentPoint[];
  lastAt?: string;
  /** The last pass that measured CPU (memory): a pass without the figure leaves the time to the next that has it. */
  cpuSince?: string;
  memorySince?: string;
  lastReceive?: number;
  lastTransmit?: number;
}

/** Days kept in a record. */
export const RECORD_DAYS = 62;
/** Passes kept for the charts: three hours at the default 60 s interval (about 20 KiB of JSON). */
export const RECENT_POINTS = 180;

function recentPoint(
  record: UsageRecord,
  usage: InstanceUsage,
  maxGapSeconds: number,
): RecentPoint {
  const seconds =
    record.lastAt === undefined
      ? 0
      : (Date.parse(usage.collectedAt) - Date.parse(record.lastAt)) / 1000;
  const rate = (now: number | null, before: number | undefined): number | null =>
    now === null || before === undefined || seconds <= 0 || seconds > maxGapSeconds
      ? null
      : increase(now, before) / seconds;
  return {
    at: usage.collectedAt,
    cpuCores: usage.cpuCores,
    memoryBytes: usage.memoryBytes,
    storageBytes: usage.storageBytes,
    receiveBytesPerSecond: rate(usage.networkReceiveBytes, record.lastReceive),
    transmitBytesPerSecond: rate(usage.networkTransmitBytes, record.lastTransmit),
  };
}

const increase = (now: number | null, before: number | undefined): number => {
  if (now === null) return 0;
  if (before === undefined) return 0;
  return now >= before ? now - before : now; // a counter that went back restarted from zero
};

/**
 * Adds one pass to the record: gauges (CPU, memory, storage) integrated over the time since the previous pass
 * (at most `maxGapSeconds`, so a collector that was down does not bill its downtime at the last rate), counters
 * (network) by their increase. Returns a new record; the input is not changed.
 */
export function accumulate(
  record: UsageRecord,
  usage: InstanceUsage,
  maxGapSeconds: number,
): UsageRecord {
  const at = Date.parse(usage.collectedAt);
  const secondsSince = (since: string | undefined): number =>
    since === undefined ? 0 : Math.min(Math.max(0, (at - Date.parse(since)) / 1000), maxGapSeconds);
  const today = { ...dayOf(record.days, usage.collectedAt.slice(0, 10)) };
  // A gauge that was not measured (null) is a gap, never zero use: the next pass that measures it covers the time.
  const cpuSince = record.cpuSince ?? record.lastAt;
  const memorySince = record.memorySince ?? record.lastAt;
  if (usage.cpuCores !== null) today.cpuCoreSeconds += usage.cpuCores * secondsSince(cpuSince);
  if (usage.memoryBytes !== null)
    today.memoryByteSeconds += usage.memoryBytes * secondsSince(memorySince);
  today.storageByteSeconds += usage.storageBytes * secondsSince(record.lastAt);
  today.networkReceiveBytes += increase(usage.networkReceiveBytes, record.lastReceive);
  today.networkTransmitBytes += increase(usage.networkTransmitBytes, record.lastTransmit);
  const days = [...record.days.filter((d) => d.date !== today.date), today];
  const measuredAt = (v: number | null, before?: string): string | undefined =>
    v !== null ? usage.collectedAt : before;
  const cpuAt = measuredAt(usage.cpuCores, cpuSince);
  const memoryAt = measuredAt(usage.memoryBytes, memorySince);
  const recent = [...(record.recent ?? []), recentPoint(record, usage, maxGapSeconds)];
  return {
    days: days.sort((a, b) => a.date.localeCompare(b.date)).slice(-RECORD_DAYS),
    recent: recent.slice(-RECENT_POINTS),
    lastAt: usage.collectedAt,
    ...(cpuAt ? { cpuSince: cpuAt } : {}),
    ...(memoryAt ? { memorySince: memoryAt } : {}),
    ...(usage.networkReceiveBytes !== null ? { lastReceive: usage.networkReceiveBytes } : {}),
    ...(usage.networkTransmitBytes !== null ? { lastTransmit: usage.networkTransmitBytes } : {}),
  };
}

function dayOf(days: readonly DailyUsage[], date: string): DailyUsage {
  return (
    days.find((d) => d.date === date) ?? {
      date,
      cpuCoreSeconds: 0,
      memoryByteSeconds: 0,
      storageByteSeconds: 0,
      networkReceiveBytes: 0,
      networkTransmitBytes: 0,
    }
  );
}
