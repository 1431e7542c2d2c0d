import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { writeKrewManifest } from "./krew.js";
import { PLUGINS } from "./plugins.js";

interface KrewPlugin {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    version: string;
    shortDescription: string;
    platforms: {
      uri: string;
      sha256: string;
      bin: string;
      files: { from: string; to: string }[];
    }[];
  };
}

describe("krew manifest", () => {
  it("is valid YAML with one Plugin per executable, each carrying the tarball's sha256", async () => {
    const dir = mkdtempSync(join(tmpdir(), "krew-test-"));
    const tarball = join(dir, "kubeplus-kubectl-plugins.tar.gz");
    writeFileSync(tarball, Buffer.from("not really a tarball, but bytes to hash"));
    const out = await writeKrewManifest(tarball, join(dir, "k.krew.yaml"), {
      version: "0.1.0",
      folder: "plugins",
      uri: "https://example.invalid/kubeplus-kubectl-plugins.tar.gz",
    });
    const docs = parseAllDocuments(readFileSync(out, "utf8"));
    expect(docs.every((d) => d.errors.length === 0)).toBe(true);
    const plugins = docs.map((d) => d.toJS() as KrewPlugin);
    const sha = createHash("sha256").update(readFileSync(tarball)).digest("hex");
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(plugins.map((p) => p.spec.platforms[0]?.bin)).toEqual(PLUGINS.map((p) => p.command));
    expect(plugins.map((p) => p.metadata.name)).toContain("appresources");
    for (const p of plugins) {
      expect(p.apiVersion).toBe("krew.googlecontainertools.github.com/v1alpha2");
      expect(p.kind).toBe("Plugin");
      expect(p.metadata.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(p.spec.version).toBe("v0.1.0");
      expect(p.spec.shortDescription.length).toBeLessThanOrEqual(100);
      const [platform] = p.spec.platforms;
      expect(platform?.sha256).toBe(sha);
      expect(platform?.uri).toBe("https://example.invalid/kubeplus-kubectl-plugins.tar.gz");
      expect(platform?.files).toEqual([
        { from: `plugins/${platform?.bin}`, to: "." },
        { from: "plugins/package.json", to: "." },
      ]);
    }
    // The hash follows the bytes: another tarball, another sha256.
    writeFileSync(tarball, Buffer.from("other bytes"));
    await writeKrewManifest(tarball, out, { version: "v0.1.0", folder: "plugins" });
    const again = parseAllDocuments(readFileSync(out, "utf8")).map((d) => d.toJS() as KrewPlugin);
    expect(again[0]?.spec.platforms[0]?.sha256).not.toBe(sha);
    expect(again[0]?.spec.platforms[0]?.uri).toBe(`file://${tarball}`);
  });
});
