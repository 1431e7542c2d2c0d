import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseManifests } from "@kubeplus/charts";
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
      manifest: "\n",
    });
    expect(decodeRelease(encode({ ...record, config: null }, false)).values).toEqual({});
  });

  it("gives back what the revision applied, hooks included, in helm template's layout", () => {
    const record = {
      version: 1,
      info: { status: "deployed" },
      manifest:
        "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\n# Source: web/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
      hooks: [
        {
          path: "web/templates/migrate.yaml",
          manifest: "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate",
        },
      ],
    };
    const objects = parseManifests(decodeRelease(encode(record)).manifest);
    expect(objects.map((o) => [o.source, o.object.kind])).toEqual([
      ["web/templates/svc.yaml", "Service"],
      ["web/templates/deploy.yaml", "Deployment"],
      ["web/templates/migrate.yaml", "Job"],
    ]);
  });
});
