import { describe, expect, it } from "vitest";
import { ApiError } from "./api.js";
import type { Listed, WatchEvent } from "./watch.js";
import { backoffMs, runListWatch, type ListWatcher } from "./watch-loop.js";

interface Obj extends Listed {
  metadata: { name: string; resourceVersion: string };
}
const obj = (name: string, rv: string): Obj => ({ metadata: { name, resourceVersion: rv } });

type Step =
  { list: { rv: string; items: Obj[] } } | { listFails: Error } | { watch: WatchEvent<Obj>[] };

/** A fake apiserver that answers lists and watches from a script, recording what was asked. */
function scripted(steps: Step[], ctrl: AbortController) {
  const asked: string[] = [];
  const next = (): Step => {
    const s = steps.shift();
    if (!s) {
      ctrl.abort();
      throw new Error("script over");
    }
    return s;
  };
  const api: ListWatcher = {
    get<T>(path: string): Promise<T> {
      asked.push(`list ${path}`);
      const s = next();
      if ("listFails" in s) return Promise.reject(s.listFails);
      if (!("list" in s)) throw new Error("expected a list");
      return Promise.resolve({
        metadata: { resourceVersion: s.list.rv },
        items: s.list.items,
      } as T);
    },
    watch<T extends Listed>(
      path: string,
      params: Readonly<Record<string, string | undefined>>,
      onEvent: (e: WatchEvent<T>) => "stop" | undefined,
    ): Promise<void> {
      asked.push(`watch ${path} from ${params.resourceVersion ?? "?"}`);
      const s = next();
      if (!("watch" in s)) throw new Error("expected a watch");
      for (const e of s.watch) if (onEvent(e as unknown as WatchEvent<T>) === "stop") break;
      return Promise.resolve();
    },
  };
  return { api, asked };
}

async function run(steps: Step[]) {
  const ctrl = new AbortController();
  const { api, asked } = scripted(steps, ctrl);
  const states: string[][] = [];
  const errors: unknown[] = [];
  const waits: number[] = [];
  await runListWatch<Obj>(
    api,
    { path: "/things", params: { fieldSelector: "x=y" } },
    {
      onState: (s) => states.push(s.items.map((o) => o.metadata.name)),
      onError: (e) => {
        if (e !== undefined) errors.push(e);
      },
      onLive: () => undefined,
    },
    {
      signal: ctrl.signal,
      wait: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    },
  );
  return { asked, states, errors, waits };
}

describe("runListWatch", () => {
  it("lists, watches from the list's resourceVersion, and lists again after an ERROR (410) event", async () => {
    const r = await run([
      { list: { rv: "10", items: [obj("a", "9")] } },
      {
        watch: [
          { type: "ADDED", object: obj("b", "11") },
          { type: "ERROR", object: obj("", "") },
          { type: "ADDED", object: obj("never", "12") },
        ],
      },
      { list: { rv: "20", items: [obj("a", "9"), obj("b", "11"), obj("c", "19")] } },
      { watch: [] },
    ]);
    expect(r.asked).toEqual([
      "list /things?fieldSelector=x%3Dy",
      "watch /things from 10",
      "list /things?fieldSelector=x%3Dy",
      "watch /things from 20",
      // The stream ended: list again.
      "list /things?fieldSelector=x%3Dy",
    ]);
    expect(r.states).toEqual([["a"], ["a", "b"], ["a", "b", "c"]]);
    expect(r.waits).toEqual([1000, 1000]);
  });

  it("backs off after failures in a row and resets after a good watch", async () => {
    const r = await run([
      { listFails: new ApiError(500, { message: "busy" }) },
      { listFails: new ApiError(503, { message: "busy" }) },
      { list: { rv: "1", items: [] } },
      { watch: [] },
    ]);
    expect(r.waits).toEqual([2000, 4000, 1000]);
    expect(r.errors).toHaveLength(2);
  });

  it("stops on a 401: the session is over", async () => {
    const r = await run([
      { listFails: new ApiError(401, { message: "Unauthorized" }) },
      { list: { rv: "1", items: [] } },
    ]);
    expect(r.asked).toEqual(["list /things?fieldSelector=x%3Dy"]);
    expect(r.waits).toEqual([]);
  });
});

describe("backoffMs", () => {
  it.each([
    [0, 1000],
    [1, 2000],
    [3, 8000],
    [10, 30_000],
  ])("waits %d failures -> %d ms", (failures, ms) => {
    expect(backoffMs(failures)).toBe(ms);
  });
});
