import { describe, expect, it } from "vitest";
import { diffToPatch } from "./patch.js";

describe("diffToPatch", () => {
  it("adds, replaces and removes keys, escaping JSON pointer tokens", () => {
    const from = {
      metadata: { name: "a", annotations: { "x/y": "1", old: "o" } },
      spec: { list: [1, 2] },
    };
    const to = {
      metadata: { name: "a", annotations: { "x/y": "2", accountidentity: "alice" } },
      spec: { list: [1] },
    };
    expect(diffToPatch(from, to)).toEqual([
      { op: "remove", path: "/metadata/annotations/old" },
      { op: "replace", path: "/metadata/annotations/x~1y", value: "2" },
      { op: "add", path: "/metadata/annotations/accountidentity", value: "alice" },
      { op: "replace", path: "/spec/list", value: [1] },
    ]);
  });

  it("adds a whole missing object", () => {
    expect(diffToPatch({ metadata: {} }, { metadata: { annotations: { a: "b" } } })).toEqual([
      { op: "add", path: "/metadata/annotations", value: { a: "b" } },
    ]);
  });

  it("is empty for equal objects", () => {
    expect(diffToPatch({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toEqual([]);
  });
});
