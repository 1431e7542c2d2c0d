import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  archiveIndex,
  cacheKey,
  canonicalJson,
  checkDebVersion,
  formatImages,
  hostPlatform,
  imageReference,
  imageRefs,
  IMAGES,
  imagesCacheDir,
  isStaticElf,
  NONROOT,
  parseAptShow,
  parsePackageList,
  tagOf,
  umociConfigArgs,
  validateReference,
  type BuildInputs,
  type BuiltImage,
  type OciIndex,
} from "./images.js";
import { repoRoot } from "./paths.js";

const tenantEcho = IMAGES.find((d) => d.name === "tenant-echo");
if (!tenantEcho) throw new Error("IMAGES has no tenant-echo");

const inputs: BuildInputs = {
  recipe: 1,
  definition: tenantEcho,
  version: "1.0.0",
  revision: "0123456789abcdef0123456789abcdef01234567",
  platform: { os: "linux", architecture: "amd64" },
  sources: { "main.go": "aa", "go.mod": "bb", VERSION: "cc" },
  goVersion: "go1.26.8",
  busyboxSha256: "dd",
  umociVersion: "umoci version 0.4.7",
};

describe("validateReference", () => {
  it.each([
    "localhost/kubeplus/pause:1.0.0",
    "gcr.io/cloudark-kubeplus/hello-world:latest",
    "docker.io/eminalparslan/basic-web-app:0.3.0",
    "docker.io/library/mysql:5.6",
    "127.0.0.1:5000/kubeplus/x:1",
  ])("accepts the fully qualified %s", (ref) => {
    expect(validateReference(ref)).toBe(ref);
  });

  it.each([
    ["mysql:5.6", "no registry"],
    ["eminalparslan/basic-web-app:0.3.0", "no registry"],
    ["localhost/kubeplus/pause", "no tag"],
    ["localhost/Kubeplus/pause:1", "upper case path"],
    ["localhost/kubeplus/pause:-1", "a tag starting with '-'"],
  ])("refuses %s (%s) and says what to write", (ref) => {
    expect(() => validateReference(ref)).toThrow(/not fully qualified: write registry\/path:tag/);
  });
});

describe("imageRefs", () => {
  it("puts localhost/kubeplus/<name>:<version> first, then the stand-in names", () => {
    const hello = IMAGES.find((d) => d.name === "hello-world");
    expect(hello && imageRefs(hello, "1.2.3")).toEqual([
      "localhost/kubeplus/hello-world:1.2.3",
      "gcr.io/cloudark-kubeplus/hello-world:latest",
      "docker.io/eminalparslan/basic-web-app:0.3.0",
    ]);
  });

  it("refuses a VERSION that is not a tag, naming the file to fix", () => {
    expect(() => imageRefs(tenantEcho, "1.0 beta")).toThrow(
      /hack\/images\/tenant-echo\/VERSION holds '1.0 beta'/,
    );
  });

  it("takes the tag after the last colon", () => {
    expect(tagOf("127.0.0.1:5000/a/b:v1")).toBe("v1");
  });
});

describe("the image table", () => {
  it.each(IMAGES.map((d) => [d.name, d] as const))(
    "%s has a VERSION, a standard-library-only Go program when it has a binary, and valid references",
    (_, def) => {
      const folder = join(repoRoot, "hack", "images", def.folder);
      const version = readFileSync(join(folder, "VERSION"), "utf8").trim();
      expect(imageRefs(def, version)[0]).toBe(`localhost/kubeplus/${def.name}:${version}`);
      if (def.binary) {
        const goMod = readFileSync(join(folder, "go.mod"), "utf8");
        expect(goMod).not.toMatch(/^require/m);
        expect(existsSync(join(folder, "main.go"))).toBe(true);
      }
    },
  );

  it("names the sandbox image from pause's VERSION", () => {
    const version = readFileSync(join(repoRoot, "hack/images/pause/VERSION"), "utf8").trim();
    expect(imageReference("pause")).toBe(`localhost/kubeplus/pause:${version}`);
    expect(() => imageReference("nginx")).toThrow(/unknown image nginx/);
  });

  it("has unique names", () => {
    expect(new Set(IMAGES.map((d) => d.name)).size).toBe(IMAGES.length);
  });
});

describe("cacheKey", () => {
  it("does not depend on the order keys were written in", () => {
    const reordered = JSON.parse(canonicalJson(inputs)) as BuildInputs;
    const shuffled = { ...reordered, sources: { VERSION: "cc", "go.mod": "bb", "main.go": "aa" } };
    expect(cacheKey(shuffled)).toBe(cacheKey(inputs));
  });

  it.each<[string, Partial<BuildInputs>]>([
    ["a source file", { sources: { ...inputs.sources, "main.go": "ab" } }],
    ["the version", { version: "1.0.1" }],
    ["the recipe", { recipe: 2 }],
    ["the Go toolchain", { goVersion: "go1.26.9" }],
    ["the busybox binary", { busyboxSha256: "de" }],
    ["umoci", { umociVersion: "umoci version 0.5.0" }],
    ["the revision", { revision: "fedcba9876543210fedcba9876543210fedcba98" }],
    ["the platform", { platform: { os: "linux", architecture: "arm64" } }],
    ["the definition", { definition: { ...tenantEcho, env: { PORT: "9090" } } }],
  ])("changes when %s changes", (_, change) => {
    expect(cacheKey({ ...inputs, ...change })).not.toBe(cacheKey(inputs));
  });
});

describe("umociConfigArgs", () => {
  const args = umociConfigArgs(inputs);
  const values = (flag: string): string[] =>
    args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ""] : []));

  it("runs as the non-root user 65532 with a fixed creation time", () => {
    expect(NONROOT).toBe("65532:65532");
    expect(values("--config.user")).toEqual(["65532:65532"]);
    expect(values("--created")).toEqual(["1970-01-01T00:00:00Z"]);
  });

  it("labels and annotates source, revision and version", () => {
    for (const flag of ["--config.label", "--manifest.annotation"]) {
      expect(values(flag)).toEqual(
        expect.arrayContaining([
          "org.opencontainers.image.source=https://github.com/cloud-ark/kubeplus",
          `org.opencontainers.image.revision=${inputs.revision}`,
          "org.opencontainers.image.version=1.0.0",
        ]),
      );
    }
  });

  it("sets the entrypoint, PATH to busybox's /bin and the image's defaults", () => {
    expect(values("--config.entrypoint")).toEqual(["/bin/tenant-echo"]);
    expect(values("--config.env")).toEqual(["PATH=/bin", "PORT=8080"]);
    expect(values("--config.exposedports")).toEqual(["8080/tcp"]);
  });
});

describe("archiveIndex", () => {
  const umociIndex: OciIndex = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: "sha256:abc",
        size: 935,
        annotations: { "org.opencontainers.image.ref.name": "image" },
      },
    ],
  };

  it("lists the manifest once per reference, named for containerd, with the platform", () => {
    const index = archiveIndex(
      umociIndex,
      ["localhost/kubeplus/hello-world:1.0.0", "gcr.io/cloudark-kubeplus/hello-world:latest"],
      { os: "linux", architecture: "amd64" },
    );
    expect(index.manifests).toEqual([
      expect.objectContaining({
        digest: "sha256:abc",
        size: 935,
        platform: { architecture: "amd64", os: "linux" },
        annotations: {
          "io.containerd.image.name": "localhost/kubeplus/hello-world:1.0.0",
          "org.opencontainers.image.ref.name": "1.0.0",
        },
      }),
      expect.objectContaining({
        digest: "sha256:abc",
        annotations: {
          "io.containerd.image.name": "gcr.io/cloudark-kubeplus/hello-world:latest",
          "org.opencontainers.image.ref.name": "latest",
        },
      }),
    ]);
  });

  it("refuses a layout with other than one manifest", () => {
    const two = { ...umociIndex, manifests: [...umociIndex.manifests, ...umociIndex.manifests] };
    expect(() => archiveIndex(two, ["localhost/a/b:1"], hostPlatform("x64"))).toThrow(
      /umoci wrote 2 manifests, expected exactly 1/,
    );
  });
});

describe("Debian package lists", () => {
  it("reads one package a line, without comments or blank lines", () => {
    expect(parsePackageList("# the server\nmariadb-server-core\n\n libc6  # libc\n")).toEqual([
      "mariadb-server-core",
      "libc6",
    ]);
  });

  it("reads name, version and sha256 from apt-cache show", () => {
    const text = [
      "Package: mariadb-server-core",
      "Version: 1:10.11.19-0+deb12u1",
      "Architecture: amd64",
      "SHA256: bda8",
      "",
      "Package: libc6",
      "Version: 2.36-9+deb12u14",
      "SHA256: ba4f",
      "",
    ].join("\n");
    expect(parseAptShow(text)).toEqual([
      { name: "mariadb-server-core", version: "1:10.11.19-0+deb12u1", sha256: "bda8" },
      { name: "libc6", version: "2.36-9+deb12u14", sha256: "ba4f" },
    ]);
  });

  it("accepts a VERSION equal to the first package's upstream version", () => {
    const pkg = { name: "mariadb-server-core", version: "1:10.11.19-0+deb12u1", sha256: "x" };
    expect(() => {
      checkDebVersion("hack/images/mariadb/VERSION", "10.11.19", pkg);
    }).not.toThrow();
  });

  it("refuses a stale VERSION, saying what to write", () => {
    const pkg = { name: "mariadb-server-core", version: "1:10.11.20-0+deb12u1", sha256: "x" };
    expect(() => {
      checkDebVersion("hack/images/mariadb/VERSION", "10.11.19", pkg);
    }).toThrow(
      "hack/images/mariadb/VERSION says 10.11.19 but Debian offers mariadb-server-core 1:10.11.20-0+deb12u1: write 10.11.20 there",
    );
  });
});

describe("isStaticElf", () => {
  const elf = (interp: boolean): Buffer => {
    const b = Buffer.alloc(64 + 2 * 56);
    b.writeUInt32BE(0x7f454c46, 0);
    b[4] = 2;
    b[5] = 1;
    b.writeBigUInt64LE(64n, 0x20);
    b.writeUInt16LE(56, 0x36);
    b.writeUInt16LE(2, 0x38);
    b.writeUInt32LE(1, 64); // PT_LOAD
    b.writeUInt32LE(interp ? 3 : 1, 64 + 56);
    return b;
  };

  it("is true without a program interpreter and false with one", () => {
    expect(isStaticElf(elf(false))).toBe(true);
    expect(isStaticElf(elf(true))).toBe(false);
  });

  it("is false for what is not ELF", () => {
    expect(isStaticElf(Buffer.from("#!/bin/sh\necho hi\n".padEnd(80)))).toBe(false);
  });
});

describe("paths and output", () => {
  it("caches under $KUBEPLUS_TOOLS_DIR/images, else ~/.cache/kubeplus/tools/images", () => {
    expect(imagesCacheDir({ KUBEPLUS_TOOLS_DIR: "/t" })).toBe("/t/images");
    expect(imagesCacheDir({ HOME: "/home/u" })).toBe("/home/u/.cache/kubeplus/tools/images");
  });

  it("maps Node's architecture names to OCI's", () => {
    expect(hostPlatform("x64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(hostPlatform("arm64")).toEqual({ os: "linux", architecture: "arm64" });
  });

  it("prints one line per reference with its archive", () => {
    const image: BuiltImage = {
      name: "hello-world",
      version: "1.0.0",
      ref: "localhost/kubeplus/hello-world:1.0.0",
      refs: ["localhost/kubeplus/hello-world:1.0.0", "gcr.io/cloudark-kubeplus/hello-world:latest"],
      archive: "/c/hello-world/image.oci.tar",
      digest: "sha256:0123456789abcdef",
      archiveBytes: 3 * 2 ** 20,
      layerBytes: 1,
      unpackedBytes: 7.5 * 2 ** 20,
      key: "k",
      cached: true,
    };
    const lines = formatImages([image]).trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(
      /^gcr\.io\/cloudark-kubeplus\/hello-world:latest +sha256:0123456789ab +3\.0MiB +7\.5MiB +\/c\/hello-world\/image\.oci\.tar$/,
    );
  });
});
