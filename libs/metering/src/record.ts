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

/** What is kept in the cluster per instance (so that a restart loses nothing): the days and the last counters. */
export interface UsageRecord {
  days: DailyUsage[];
  lastAt?: string;
  lastReceive?: number;
  lastTransmit?: number;
}

/** Days kept in a record. */
export const RECORD_DAYS = 62;

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
  const last = record.lastAt ? Date.parse(record.lastAt) : undefined;
  const seconds = last === undefined ? 0 : Math.min(Math.max(0, (at - last) / 1000), maxGapSeconds);
  const date = usage.collectedAt.slice(0, 10);
  const days = record.days.map((d) => ({ ...d }));
  let today = days.find((d) => d.date === date);
  if (!today) {
    today = {
      date,
      cpuCoreSeconds: 0,
      memoryByteSeconds: 0,
      storageByteSeconds: 0,
      networkReceiveBytes: 0,
      networkTransmitBytes: 0,
    };
    days.push(today);
  }
  today.cpuCoreSeconds += (usage.cpuCores ?? 0) * seconds;
  today.memoryByteSeconds += (usage.memoryBytes ?? 0) * seconds;
  today.storageByteSeconds += usage.storageBytes * seconds;
  today.networkReceiveBytes += increase(usage.networkReceiveBytes, record.lastReceive);
  today.networkTransmitBytes += increase(usage.networkTransmitBytes, record.lastTransmit);
  return {
    days: days.sort((a, b) => a.date.localeCompare(b.date)).slice(-RECORD_DAYS),
    lastAt: usage.collectedAt,
    ...(usage.networkReceiveBytes !== null ? { lastReceive: usage.networkReceiveBytes } : {}),
    ...(usage.networkTransmitBytes !== null ? { lastTransmit: usage.networkTransmitBytes } : {}),
  };
}
