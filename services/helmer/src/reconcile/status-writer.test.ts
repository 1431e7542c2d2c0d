import { describe, expect, it } from "vitest";
import { mergePatch } from "../testing/merge-patch.js";
import { StatusWriter, type StatusHolder } from "./status-writer.js";

interface Status {
  ready?: string;
  error?: string | null;
  count?: number;
}
type Obj = StatusHolder<Status> & { metadata: { name: string; resourceVersion: string } };

/** The apiserver's copy, every write a new resourceVersion; `cached` is a watch cache that lags until `sync`. */
function apiserver(status: Status) {
  let version = 1;
  let stored: Obj = { metadata: { name: "t1", resourceVersion: "1" }, status };
  const patches: Status[] = [];
  return {
    patches,
    cached: stored,
    sync() {
      this.cached = stored;
    },
    /** Someone else changes the object (a new spec, say): a new version. */
    touch() {
      version += 1;
      stored = { ...stored, metadata: { ...stored.metadata, resourceVersion: String(version) } };
    },
    writer: new StatusWriter<Status, Obj>((_o, fields) => {
      patches.push(fields);
      version += 1;
      stored = {
        metadata: { ...stored.metadata, resourceVersion: String(version) },
        status: mergePatch(stored.status, fields) as Status,
      };
      return Promise.resolve(stored);
    }),
    stored: () => stored,
  };
}

describe("StatusWriter", () => {
  it("patches only the fields that changed, and nothing when none did", async () => {
    const api = apiserver({ ready: "True", count: 2 });
    expect(await api.writer.write(api.cached, { ready: "True", count: 3 })).toBe(true);
    expect(await api.writer.write(api.cached, { ready: "True", count: 3 })).toBe(false);
    expect(api.patches).toEqual([{ count: 3 }]);
  });

  it("shows its own write in place of a cache that has not caught up, so it is never written back", async () => {
    const api = apiserver({ ready: "True" });
    // A reconcile records a failure; the cache still shows the object from before.
    await api.writer.write(api.cached, { ready: "False", error: "upgrade failed" });
    const next = api.writer.current(api.cached);
    expect(next.status).toEqual({ ready: "False", error: "upgrade failed" });
    // The next reconcile decides from that, and writes nothing that would undo it.
    expect(await api.writer.write(api.cached, { ready: "False" })).toBe(false);
    await api.writer.write(api.cached, { count: 1 });
    expect(api.stored().status).toEqual({ ready: "False", error: "upgrade failed", count: 1 });
    // Still behind by two writes: both shown.
    expect(api.writer.current(api.cached).status).toEqual(api.stored().status);
  });

  it("takes the cache again once it reaches or passes its write", async () => {
    const api = apiserver({ ready: "True" });
    await api.writer.write(api.cached, { ready: "False" });
    api.touch(); // another change after ours
    api.sync();
    expect(api.writer.current(api.cached)).toBe(api.cached);
    expect(api.writer.current(api.cached).status).toEqual({ ready: "False" });
  });
});

describe("StatusWriter: a cache that shows a version from before the write it did not go through", () => {
  it("still shows its own write (an older snapshot from a re-list, or someone else's change before ours)", async () => {
    const api = apiserver({ ready: "True" });
    const older = { ...api.cached }; // version 1
    api.touch(); // version 2: a spec change by someone else
    api.sync();
    const seen = api.cached;
    await api.writer.write(seen, { ready: "False", error: "upgrade failed" }); // version 3
    // The cache goes back to version 1 (a re-list from a lagging apiserver) or shows version 2: both older.
    expect(api.writer.current(older).status).toEqual({ ready: "False", error: "upgrade failed" });
    expect(api.writer.current(seen).status).toEqual({ ready: "False", error: "upgrade failed" });
    api.sync();
    expect(api.writer.current(api.cached)).toBe(api.cached);
  });
});
