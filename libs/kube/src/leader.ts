import type { ApiAccess } from "./access.js";
import { KubeRequestError, kubeRequest } from "./raw.js";

export interface LeaderElectionOptions {
  readonly namespace: string;
  /** The Lease's name: one per job that only one replica may do (for example `kubeplus-helmer`). */
  readonly name: string;
  /** This replica, as shown in the Lease's holderIdentity (pod name, or host and PID). */
  readonly identity: string;
  readonly leaseSeconds?: number;
  /**
   * How long the leader keeps leading without a successful renewal, from the start of its last successful attempt;
   * two thirds of the lease by default (client-go's RenewDeadline), so that it stops before anyone may take over.
   */
  readonly renewDeadlineMs?: number;
  /**
   * How often the holder renews and the others try; 2 s for a 15 s lease by default (client-go's RetryPeriod), so that
   * a leader has several tries within its renew deadline: one slow or failed renewal on a busy apiserver is not a
   * lost lease.
   */
  readonly retryMs?: number;
  readonly onStartedLeading: () => void | Promise<void>;
  /** Called when the lease is lost (renewal failed past its deadline). The safe reaction is to exit and restart. */
  readonly onStoppedLeading: () => void;
  readonly onError?: (err: unknown) => void;
  /** This replica's clock (milliseconds); injected by tests. Only differences of its readings are used. */
  readonly now?: () => number;
  /** Where the Lease is read and written; the apiserver by default, injected by tests. */
  readonly leases?: LeaseStore;
}

export interface LeaderElection {
  isLeader(): boolean;
  /** Gives the lease up (holder cleared) so another replica takes over at once, then stops trying. */
  release(): Promise<void>;
}

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  metadata: { resourceVersion?: string; name: string; namespace: string };
  spec: LeaseSpec;
}

/** Reads and writes one Lease; `update` must fail when the Lease changed since `lease` was read (resourceVersion). */
export interface LeaseStore {
  get(): Promise<Lease | undefined>;
  create(lease: Lease): Promise<void>;
  update(lease: Lease): Promise<void>;
}

const microTime = (d: Date): string => d.toISOString().replace("Z", "000Z");

/**
 * What a candidate knows of a Lease, as client-go's leaderelection keeps it: the last record it read, and when, by its
 * own clock, it saw that record change. A lease is judged expired when it has not changed for a whole term by the
 * local clock; the holder's renewTime is never compared with the local clock, so skew between the two machines
 * cannot make a live leader look expired (two leaders) or a dead one look alive for longer than its term.
 */
export class LeaseObservation {
  private record: string | undefined;
  private observedAt = 0;

  /** Records the Lease as read (or written) at local time `now`. */
  observe(spec: LeaseSpec, now: number): void {
    const record = JSON.stringify([
      spec.holderIdentity ?? "",
      spec.leaseDurationSeconds ?? null,
      spec.acquireTime ?? null,
      spec.renewTime ?? null,
      spec.leaseTransitions ?? null,
    ]);
    if (record === this.record) return;
    this.record = record;
    this.observedAt = now;
  }

  /** Whether `identity` may take the lease at local time `now`: free, its own, or unchanged for a whole term. */
  canAcquire(spec: LeaseSpec, identity: string, now: number): boolean {
    if (!spec.holderIdentity || spec.holderIdentity === identity) return true;
    return now >= this.observedAt + (spec.leaseDurationSeconds ?? 15) * 1000;
  }
}

function apiLeases(kc: ApiAccess, namespace: string, name: string): LeaseStore {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  const body = (lease: Lease): unknown => ({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    ...lease,
  });
  return {
    get: async () => {
      try {
        return (await kubeRequest(kc, "GET", `${base}/${name}`)) as Lease;
      } catch (err) {
        if (err instanceof KubeRequestError && err.code === 404) return undefined;
        throw err;
      }
    },
    create: async (lease) => {
      await kubeRequest(kc, "POST", base, { body: body(lease) });
    },
    update: async (lease) => {
      await kubeRequest(kc, "PUT", `${base}/${name}`, { body: body(lease) });
    },
  };
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: optimistic concurrency on
 * the Lease's resourceVersion, expiry judged from when this replica saw the Lease last change (LeaseObservation),
 * and a leader that stops when it could not renew within its renew deadline.
 */
export function startLeaderElection(kc: ApiAccess, options: LeaderElectionOptions): LeaderElection {
  const leaseSeconds = options.leaseSeconds ?? 15;
  const retryMs = options.retryMs ?? Math.floor((leaseSeconds * 1000 * 2) / 15);
  const renewDeadlineMs = options.renewDeadlineMs ?? Math.floor((leaseSeconds * 1000 * 2) / 3);
  const now = options.now ?? Date.now;
  const leases = options.leases ?? apiLeases(kc, options.namespace, options.name);
  const observation = new LeaseObservation();
  let leader = false;
  let stopped = false;
  let lastRenew = 0;
  let timer: NodeJS.Timeout | undefined;

  const write = async (current: Lease | undefined): Promise<LeaseSpec> => {
    const at = new Date(now());
    const ours = current?.spec.holderIdentity === options.identity;
    const spec: LeaseSpec = {
      holderIdentity: options.identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: microTime(at),
      acquireTime: ours && current.spec.acquireTime ? current.spec.acquireTime : microTime(at),
      leaseTransitions: (current?.spec.leaseTransitions ?? 0) + (current && !ours ? 1 : 0),
    };
    const metadata = { ...current?.metadata, name: options.name, namespace: options.namespace };
    if (current) await leases.update({ metadata, spec });
    else await leases.create({ metadata, spec });
    return spec;
  };

  /** Attempts are numbered: one that outlived the renew deadline was given up, and its late answer is ignored. */
  let attempts = 0;
  const tryOnce = async (): Promise<void> => {
    const attempt = ++attempts;
    const started = now();
    const current = await leases.get();
    if (attempt !== attempts) return;
    if (current) {
      observation.observe(current.spec, now());
      if (!observation.canAcquire(current.spec, options.identity, now())) return;
    }
    const written = await write(current);
    if (attempt !== attempts) return;
    observation.observe(written, now());
    lastRenew = started;
    if (!leader) {
      leader = true;
      await options.onStartedLeading();
    }
  };

  /**
   * A leader's attempt is given up when its renew deadline passes (as client-go's renew runs under a context with that
   * deadline): a renewal hanging on a stalled apiserver must not keep a leader acting after its lease may be taken.
   */
  const bounded = (attempt: Promise<void>): Promise<void> => {
    if (!leader) return attempt;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((_resolve, reject) => {
      timer = setTimeout(
        () => {
          attempts += 1;
          reject(
            new Error(`lease renewal took longer than its ${String(renewDeadlineMs)} ms deadline`),
          );
        },
        Math.max(0, lastRenew + renewDeadlineMs - now() + 1),
      );
    });
    return Promise.race([attempt, deadline]).finally(() => clearTimeout(timer));
  };

  const loop = (): void => {
    if (stopped) return;
    bounded(tryOnce())
      .catch((err: unknown) => {
        options.onError?.(err);
      })
      .finally(() => {
        if (leader && now() - lastRenew > renewDeadlineMs) {
          leader = false;
          options.onStoppedLeading();
        }
        if (!stopped) timer = setTimeout(loop, retryMs);
      });
  };
  loop();

  return {
    isLeader: () => leader,
    release: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (!leader) return;
      leader = false;
      const current = await leases.get();
      if (current?.spec.holderIdentity !== options.identity) return;
      await leases.update({
        ...current,
        spec: { ...current.spec, holderIdentity: "", leaseDurationSeconds: 1 },
      });
    },
  };
}
