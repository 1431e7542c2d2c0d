import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  caBundle,
  formatDebLock,
  lockHeader,
  NODE_BASE_REMOVED,
  parseDebLock,
  privateAptOptions,
} from "./images-debian.js";
import { repoRoot } from "./paths.js";

const sha = (c: string): string => c.repeat(64);

describe("the Node.js base's lock", () => {
  it("reads 'name version sha256' lines, skipping comments and blank lines", () => {
    const text = `# a comment\n\nnodejs 20.19.2+dfsg-1+deb13u3 ${sha("a")}\nzlib1g 1:1.3.dfsg+really1.3.1-1 ${sha("b")} # epoch\n`;
    expect(parseDebLock(text, "x.lock")).toEqual([
      { name: "nodejs", version: "20.19.2+dfsg-1+deb13u3", sha256: sha("a") },
      { name: "zlib1g", version: "1:1.3.dfsg+really1.3.1-1", sha256: sha("b") },
    ]);
  });

  it("refuses a line without a full sha256, naming the file and line", () => {
    expect(() => parseDebLock(`nodejs 20.19.2\n`, "x.lock")).toThrow(
      /x\.lock:1: 'nodejs 20\.19\.2' is not 'package version sha256'/,
    );
    expect(() => parseDebLock(`# only\nlibc6 2.41 ${sha("A")}\n`, "x.lock")).toThrow(/x\.lock:2/);
  });

  it("refuses an empty lock and a package pinned twice", () => {
    expect(() => parseDebLock("# nothing\n", "x.lock")).toThrow(/x\.lock pins no package/);
    const twice = `libc6 2.41 ${sha("a")}\nlibc6 2.42 ${sha("b")}\n`;
    expect(() => parseDebLock(twice, "x.lock")).toThrow(/pins libc6 more than once/);
  });

  it("is rewritten with its comment lines kept and reads back the same", () => {
    const pinned = [
      { name: "nodejs", version: "20.19.3", sha256: sha("c") },
      { name: "libc6", version: "2.41-12", sha256: sha("d") },
    ];
    const text = formatDebLock(lockHeader("# one\n# two\nold 1 x\n"), pinned);
    expect(text.startsWith("# one\n# two\nnodejs ")).toBe(true);
    expect(parseDebLock(text, "x.lock")).toEqual(pinned);
  });

  it("in the repository pins what the official Node.js build needs, not Debian's nodejs, and no shell", () => {
    const file = join(repoRoot, "hack", "images", "nodejs", "packages-amd64.lock");
    const names = parseDebLock(readFileSync(file, "utf8"), file).map((p) => p.name);
    for (const needed of ["libc6", "libstdc++6", "libgcc-s1", "ca-certificates"])
      expect(names).toContain(needed);
    for (const dropped of ["nodejs", "libnode115", "bash", "dash", "busybox", "coreutils"])
      expect(names).not.toContain(dropped);
    // The images' Node.js is the pinned LTS build, at a version the workspace runs on.
    const versions = readFileSync(join(repoRoot, "hack", "tools", "versions.env"), "utf8");
    const lts = /^NODE_LTS_VERSION=v(\d+)\./m.exec(versions)?.[1];
    const engines = (
      JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
        engines: { node: string };
      }
    ).engines.node;
    expect(Number(lts)).toBeGreaterThanOrEqual(Number(engines.replace(">=", "").split(".")[0]));
  });
});

describe("the private apt state", () => {
  it("points apt at the folder's sources.list and its own lists, cache and status, for one architecture", () => {
    const opts = privateAptOptions("/c/apt", "/r/sources.list", "amd64", true);
    const values = Object.fromEntries(
      opts.filter((o) => o !== "-o").map((o) => o.split("=") as [string, string]),
    );
    expect(values).toMatchObject({
      "Dir::Etc::SourceList": "/r/sources.list",
      "Dir::State::Lists": "/c/apt/lists",
      "Dir::State::status": "/c/apt/status",
      "Dir::Cache": "/c/apt/cache",
      "APT::Architectures": "amd64",
      "APT::Sandbox::User": "root",
    });
    for (const v of Object.values(values)) expect(v.startsWith("/etc/apt")).toBe(false);
    expect(privateAptOptions("/c/apt", "/r/s", "arm64", false)).not.toContain(
      "APT::Sandbox::User=root",
    );
  });
});

describe("the Node.js base's files", () => {
  it("writes the CA bundle as update-ca-certificates does: every certificate, by file name", () => {
    const bundle = caBundle([
      { name: "b.crt", pem: "B\n" },
      { name: "a.crt", pem: "A" },
    ]);
    expect(bundle).toBe("A\nB\n");
  });

  it("removes documentation and iconv modules but none of Node's libraries", () => {
    expect(NODE_BASE_REMOVED).toContain("usr/lib/*/gconv");
    for (const kept of ["libnode", "libicudata", "libicuuc", "libicui18n", "libssl", "libuv"])
      expect(NODE_BASE_REMOVED.some((p) => p.includes(kept))).toBe(false);
  });
});
