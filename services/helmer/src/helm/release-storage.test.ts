import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeRelease } from "./release-storage.js";

const encode = (record: object, gzip = true): string => {
  const json = Buffer.from(JSON.stringify(record));
  const inner = (gzip ? gzipSync(json) : json).toString("base64");
  return Buffer.from(inner).toString("base64");
};

describe("helm release storage", () => {
  it("reads state, chart and user values the way helm history and helm get values print them", () => {
    const record = {
      name: "webappservice-t1",
      version: 3,
      info: { status: "pending-upgrade" },
      chart: { metadata: { name: "basicwebapp", version: "0.0.2" } },
      config: { db: { username: "alice" } },
    };
    expect(decodeRelease(encode(record))).toEqual({
      revision: 3,
      status: "pending-upgrade",
      chart: "basicwebapp-0.0.2",
      values: { db: { username: "alice" } },
    });
    expect(decodeRelease(encode({ ...record, config: null }, false)).values).toEqual({});
  });
});
