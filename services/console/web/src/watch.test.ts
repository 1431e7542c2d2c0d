import { describe, expect, it } from "vitest";
import {
  applyWatchEvent,
  fromList,
  LineSplitter,
  parseWatchLine,
  type ListState,
} from "./watch.js";

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: { v: number };
}
const obj = (name: string, rv: string, v = 0): Obj => ({
  metadata: { name, namespace: "ns", resourceVersion: rv },
  spec: { v },
});

describe("LineSplitter", () => {
  it("gives whole lines only, joining a line sent in pieces across chunks", () => {
    const s = new LineSplitter();
    expect(s.push('{"type":"ADD')).toEqual([]);
    expect(s.push('ED"}\n{"type":"MOD')).toEqual(['{"type":"ADDED"}']);
    expect(s.push('IFIED"}\n\n')).toEqual(['{"type":"MODIFIED"}']);
    expect(s.end()).toEqual([]);
  });

  it("gives the last line when the stream ends without a newline, and strips CR", () => {
    const s = new LineSplitter();
    expect(s.push("a\r\nb")).toEqual(["a"]);
    expect(s.end()).toEqual(["b"]);
  });
});

describe("parseWatchLine", () => {
  it("reads a watch event", () => {
    expect(parseWatchLine('{"type":"ADDED","object":{"metadata":{"name":"a"}}}')).toEqual({
      type: "ADDED",
      object: { metadata: { name: "a" } },
    });
  });

  it.each(["not json", '{"type":"ADDED"}', '{"type":"WHAT","object":{}}', "null"])(
    "ignores %j",
    (line) => {
      expect(parseWatchLine(line)).toBeUndefined();
    },
  );
});

describe("list and watch merge", () => {
  const listed: ListState<Obj> = fromList({
    metadata: { resourceVersion: "10" },
    items: [obj("b", "9"), obj("a", "8")],
  });

  it("starts from the list, sorted by name, at the list's resourceVersion", () => {
    expect(listed.resourceVersion).toBe("10");
    expect(listed.items.map((o) => o.metadata.name)).toEqual(["a", "b"]);
  });

  it("adds, replaces and deletes by name, and follows the events' resourceVersion", () => {
    let s = listed;
    const step = (type: "ADDED" | "MODIFIED" | "DELETED", o: Obj): void => {
      const next = applyWatchEvent(s, { type, object: o });
      if (next === "relist") throw new Error("relist");
      s = next;
    };
    step("ADDED", obj("c", "11"));
    step("MODIFIED", obj("a", "12", 7));
    step("DELETED", obj("b", "13"));
    expect(s.items.map((o) => [o.metadata.name, o.spec?.v])).toEqual([
      ["a", 7],
      ["c", 0],
    ]);
    expect(s.resourceVersion).toBe("13");
    expect(listed.items).toHaveLength(2);
  });

  it("does not add an object twice when ADDED repeats one the list had", () => {
    const next = applyWatchEvent(listed, { type: "ADDED", object: obj("a", "11") });
    expect(next !== "relist" && next.items.map((o) => o.metadata.name)).toEqual(["a", "b"]);
  });

  it("moves only the resourceVersion on a BOOKMARK", () => {
    const next = applyWatchEvent(listed, {
      type: "BOOKMARK",
      object: { metadata: { name: "", resourceVersion: "50" } },
    });
    expect(next !== "relist" && [next.resourceVersion, next.items.length]).toEqual(["50", 2]);
  });

  it("lists again on an ERROR event (410 Gone)", () => {
    const gone = { kind: "Status", code: 410, reason: "Expired", metadata: { name: "" } };
    expect(applyWatchEvent(listed, { type: "ERROR", object: gone })).toBe("relist");
  });
});
