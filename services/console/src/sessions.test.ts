import { describe, expect, it } from "vitest";
import { csrfMatches, SessionStore } from "./sessions.js";

const fields = {
  credential: { kind: "token", token: "t" } as const,
  user: { username: "alice", groups: [] },
  namespace: "team-a",
};

describe("SessionStore", () => {
  it("gives each session a random id and CSRF token, and finds it by id", () => {
    const store = new SessionStore({ idleMs: 1000, maxMs: 5000 });
    const a = store.create(fields);
    const b = store.create(fields);
    expect(a.id).not.toBe(b.id);
    expect(a.csrfToken).not.toBe(a.id);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.get(a.id)).toBe(a);
    expect(store.get("unknown")).toBeUndefined();
    expect(store.get(undefined)).toBeUndefined();
  });

  it("forgets a session unused for longer than the idle limit, and keeps one in use", () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 1000, maxMs: 5000 }, () => now);
    const used = store.create(fields);
    const idle = store.create(fields);
    now = 900;
    expect(store.get(used.id)).toBe(used);
    now = 1500;
    expect(store.get(used.id)).toBe(used);
    expect(store.get(idle.id)).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it("forgets every session after the maximum, however busy", () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 1000, maxMs: 2500 }, () => now);
    const s = store.create(fields);
    for (now = 500; now <= 2500; now += 500) expect(store.get(s.id)).toBe(s);
    now = 2600;
    expect(store.get(s.id)).toBeUndefined();
  });

  it("sweeps expired sessions without keeping the others alive", () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 1000, maxMs: 5000 }, () => now);
    const a = store.create(fields);
    now = 600;
    store.create(fields);
    now = 1100;
    expect(store.sweep()).toBe(1);
    expect(store.size).toBe(1);
    now = 1700;
    expect(store.sweep()).toBe(1);
    expect(store.get(a.id)).toBeUndefined();
  });

  it("delete forgets the session and its credential", () => {
    const store = new SessionStore({ idleMs: 1000, maxMs: 5000 });
    const s = store.create(fields);
    store.delete(s.id);
    expect(store.get(s.id)).toBeUndefined();
    expect(store.size).toBe(0);
  });
});

describe("csrfMatches", () => {
  const session = new SessionStore({ idleMs: 1000, maxMs: 5000 }).create(fields);
  it("accepts only the session's own token", () => {
    expect(csrfMatches(session, session.csrfToken)).toBe(true);
    expect(csrfMatches(session, undefined)).toBe(false);
    expect(csrfMatches(session, "")).toBe(false);
    expect(csrfMatches(session, session.csrfToken.slice(1))).toBe(false);
    expect(csrfMatches(session, session.id)).toBe(false);
  });
});
