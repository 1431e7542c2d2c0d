import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Credential } from "./credentials.js";

export interface User {
  readonly username: string;
  readonly groups: readonly string[];
}

export interface Session {
  readonly id: string;
  readonly csrfToken: string;
  readonly credential: Credential;
  readonly user: User;
  readonly namespace: string;
  readonly createdAt: number;
  lastUsedAt: number;
}

export interface SessionLimits {
  readonly idleMs: number;
  readonly maxMs: number;
}

const randomToken = (): string => randomBytes(32).toString("base64url");

/**
 * The signed-in users, in this process's memory only: the browser holds a random id in an HttpOnly cookie, never the
 * credential. A session ends on sign-out, after `idleMs` unused, after `maxMs` in all, or when the apiserver stops
 * accepting its credential; the credential goes with it. A restart signs everyone out.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly limits: SessionLimits;
  private readonly now: () => number;

  constructor(limits: SessionLimits, now: () => number = Date.now) {
    this.limits = limits;
    this.now = now;
  }

  create(fields: Pick<Session, "credential" | "user" | "namespace">): Session {
    const at = this.now();
    const session: Session = {
      ...fields,
      id: randomToken(),
      csrfToken: randomToken(),
      createdAt: at,
      lastUsedAt: at,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session of this id, marked as used; undefined (and forgotten) when it has expired. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const at = this.now();
    if (this.expired(session, at)) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastUsedAt = at;
    return session;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** Forgets every expired session; returns how many went. Run on a timer so idle credentials do not linger. */
  sweep(): number {
    const at = this.now();
    let removed = 0;
    for (const session of [...this.sessions.values()])
      if (this.expired(session, at)) {
        this.sessions.delete(session.id);
        removed += 1;
      }
    return removed;
  }

  private expired(session: Session, at: number): boolean {
    return (
      at - session.lastUsedAt > this.limits.idleMs || at - session.createdAt > this.limits.maxMs
    );
  }

  get size(): number {
    return this.sessions.size;
  }
}

/** Constant-time comparison of the CSRF token a request carries with its session's. */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
