import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  LeaseObservation,
  startLeaderElection,
  type Lease,
  type LeaseSpec,
  type LeaseStore,
} from "./leader.js";
import type { ApiAccess } from "./access.js";

const T0 = Date.parse("2026-11-24T10:00:00Z");
const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

describe("LeaseObservation", () => {
  it("takes a free lease and keeps its own at once", () => {
    const seen = new LeaseObservation();
    seen.observe({}, T0);
    expect(seen.canAcquire({}, "a", T0)).toBe(true);
    const mine = { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: iso(T0) };
    seen.observe(mine, T0);
    expect(seen.canAcquire(mine, "a", T0)).toBe(true);
    // Released on shutdown (holder cleared): free at once.
    expect(seen.canAcquire({ ...mine, holderIdentity: "" }, "b", T0)).toBe(true);
  });

  // The holder's renewTime is written by the holder's clock; each row is a holder whose clock is `skew` off ours.
  it.each([
    ["an hour behind ours", -HOUR],
    ["in step with ours", 0],
    ["an hour ahead of ours", HOUR],
  ])(
    "judges a holder whose clock is %s by when the Lease last changed, not by its renewTime",
    (_what, skew) => {
      const seen = new LeaseObservation();
      const held = (at: number): LeaseSpec => ({
        holderIdentity: "b",
        leaseDurationSeconds: 15,
        renewTime: iso(at + skew),
      });
      // The holder renews every 5 s for a minute: never takeable, whatever its clock says.
      for (let t = T0; t <= T0 + 60_000; t += 5_000) {
        seen.observe(held(t), t);
        expect(seen.canAcquire(held(t), "a", t)).toBe(false);
      }
      // Then it dies: its last record stays as it was. Takeable a whole term after we saw it change, not before.
      const last = held(T0 + 60_000);
      seen.observe(last, T0 + 70_000);
      expect(seen.canAcquire(last, "a", T0 + 74_999)).toBe(false);
      expect(seen.canAcquire(last, "a", T0 + 75_000)).toBe(true);
    },
  );

  it("waits a whole term before taking a lease it has only just seen, however old its renewTime", () => {
    const seen = new LeaseObservation();
    const stale = { holderIdentity: "b", leaseDurationSeconds: 15, renewTime: iso(T0 - HOUR) };
    seen.observe(stale, T0);
    expect(seen.canAcquire(stale, "a", T0 + 14_000)).toBe(false);
    expect(seen.canAcquire(stale, "a", T0 + 15_000)).toBe(true);
  });
});

/** One Lease in memory, with the apiserver's optimistic concurrency (a write with an old resourceVersion fails). */
function memoryLease(): LeaseStore & { current(): Lease | undefined } {
  let stored: Lease | undefined;
  let version = 0;
  const conflict = (): Error =>
    Object.assign(new Error("the object has been modified"), { code: 409 });
  return {
    current: () => stored,
    get: () => Promise.resolve(stored ? structuredClone(stored) : undefined),
    create: (lease) => {
      if (stored) return Promise.reject(conflict());
      version += 1;
      stored = {
        ...structuredClone(lease),
        metadata: { ...lease.metadata, resourceVersion: String(version) },
      };
      return Promise.resolve();
    },
    update: (lease) => {
      if (!stored || lease.metadata.resourceVersion !== stored.metadata.resourceVersion)
        return Promise.reject(conflict());
      version += 1;
      stored = {
        ...structuredClone(lease),
        metadata: { ...lease.metadata, resourceVersion: String(version) },
      };
      return Promise.resolve();
    },
  };
}

describe("startLeaderElection", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const noApi = {} as ApiAccess;

  it("never gives two leaders when the leader's clock is an hour behind the candidate's", async () => {
    const leases = memoryLease();
    const leading = { a: false, b: false };
    let both = false;
    const elect = (id: "a" | "b", skew: number): ReturnType<typeof startLeaderElection> =>
      startLeaderElection(noApi, {
        namespace: "kubeplus",
        name: "test",
        identity: id,
        leases,
        now: () => Date.now() + skew,
        onStartedLeading: () => {
          leading[id] = true;
          if (leading.a && leading.b) both = true;
        },
        onStoppedLeading: () => {
          leading[id] = false;
        },
      });
    const a = elect("a", -HOUR);
    await vi.advanceTimersByTimeAsync(100);
    expect(leading.a).toBe(true);
    const b = elect("b", 0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(both).toBe(false);
    expect(leading).toEqual({ a: true, b: false });
    expect(leases.current()?.spec.holderIdentity).toBe("a");
    // The leader gives the lease up on shutdown: the candidate takes over at its next try.
    await a.release();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(leading.b).toBe(true);
    await b.release();
  });

  it("takes over a dead leader whose clock was an hour ahead after one term, not an hour", async () => {
    const leases = memoryLease();
    // The dead holder's last renewal, stamped by a clock an hour fast.
    await leases.create({
      metadata: { name: "test", namespace: "kubeplus" },
      spec: { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: iso(T0 + HOUR) },
    });
    let led = false;
    const b = startLeaderElection(noApi, {
      namespace: "kubeplus",
      name: "test",
      identity: "b",
      leases,
      onStartedLeading: () => {
        led = true;
      },
      onStoppedLeading: () => undefined,
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(led).toBe(false);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(led).toBe(true);
    expect(leases.current()?.spec.holderIdentity).toBe("b");
    await b.release();
  });

  /** One leader on a Lease whose writes can be made to fail or hang, as on a busy apiserver. */
  function flakyLeader(): {
    leases: ReturnType<typeof memoryLease>;
    faults: { fail: number; hang: boolean };
    state: { leading: boolean; stops: number };
    election: ReturnType<typeof startLeaderElection>;
  } {
    const leases = memoryLease();
    const faults = { fail: 0, hang: false };
    const state = { leading: false, stops: 0 };
    const flaky: LeaseStore = {
      ...leases,
      update: (lease) => {
        if (faults.hang) return new Promise<void>(() => undefined);
        if (faults.fail > 0) {
          faults.fail -= 1;
          return Promise.reject(
            Object.assign(new Error("etcdserver: request timed out"), { code: 500 }),
          );
        }
        return leases.update(lease);
      },
    };
    const election = startLeaderElection(noApi, {
      namespace: "kubeplus",
      name: "test",
      identity: "a",
      leases: flaky,
      onStartedLeading: () => {
        state.leading = true;
      },
      onStoppedLeading: () => {
        state.leading = false;
        state.stops += 1;
      },
    });
    return { leases, faults, state, election };
  }

  it("keeps leading through renewals that fail on a busy apiserver, as long as one succeeds within its renew deadline", async () => {
    const { faults, state, election } = flakyLeader();
    await vi.advanceTimersByTimeAsync(100);
    expect(state.leading).toBe(true);
    // Two renewals in a row fail: client-go's RetryPeriod (2 s) leaves room for more tries within the 10 s deadline.
    faults.fail = 2;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(faults.fail).toBe(0);
    expect(state).toEqual({ leading: true, stops: 0 });
    // Renewals that keep failing past the deadline: the lease is lost.
    faults.fail = 100;
    await vi.advanceTimersByTimeAsync(12_000);
    expect(state).toEqual({ leading: false, stops: 1 });
    await election.release();
  });

  it("stops leading at its renew deadline when a renewal hangs, not whenever the request ends", async () => {
    const { faults, state, election } = flakyLeader();
    await vi.advanceTimersByTimeAsync(100);
    expect(state.leading).toBe(true);
    faults.hang = true;
    await vi.advanceTimersByTimeAsync(9_000);
    expect(state.leading).toBe(true);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(state).toEqual({ leading: false, stops: 1 });
    await election.release();
  });
});
