import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { arch } from "node:os";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import { configure } from "safe-stable-stringify";
import { repoRoot } from "./paths.js";

// The container images the real nodes run, built without any registry: Go programs of ours (hack/images/<folder>,
// standard library only, CGO_ENABLED=0) and busybox from Debian's busybox-static, assembled into OCI images by
// umoci (Debian's package) and written as OCI archives that `ctr images import` accepts, into a cache keyed by
// every input. Pure decisions first (definitions, references, cache key, umoci arguments, the OCI index); the
// I/O shell (buildImages, importImages) at the end.

const run = promisify(execFile);

/** Bump when the way images are assembled changes: it is part of every cache key. */
export const IMAGE_RECIPE = 1;
/** Every image of ours is named localhost/kubeplus/<name>:<version>. */
export const IMAGE_PREFIX = "localhost/kubeplus";
/** org.opencontainers.image.source: where the sources live (the project's home, as in the KubePlus chart). */
export const IMAGE_SOURCE_URL = "https://github.com/cloud-ark/kubeplus";
/** The non-root user every image runs as (distroless' "nonroot"). */
export const NONROOT = "65532:65532";
/** Fixed timestamps keep the digests reproducible: layer entries, config and history all say 1970-01-01. */
const EPOCH = "1970-01-01T00:00:00Z";

export interface ImageDefinition {
  /** localhost/kubeplus/<name>:<version>. */
  readonly name: string;
  /** hack/images/<folder>: its VERSION file, and the Go main package when `binary` is set. */
  readonly folder: string;
  /** Where the folder's Go program goes in the image (none: the image holds busybox only). */
  readonly binary?: string;
  /** A second layer with /bin/busybox, its applets as symlinks, /etc/passwd, /etc/group and /tmp. */
  readonly busybox: boolean;
  readonly entrypoint: readonly string[];
  readonly cmd?: readonly string[];
  /** Defaults in the image configuration (the pod's env overrides them). */
  readonly env?: Readonly<Record<string, string>>;
  readonly ports?: readonly number[];
  /** Empty folders the image provides (path -> mode), e.g. mount points. */
  readonly folders?: Readonly<Record<string, number>>;
  /** Files of the folder copied into the image (image path -> the file and its mode). */
  readonly files?: Readonly<Record<string, { readonly file: string; readonly mode: number }>>;
  /** A file of the folder listing Debian packages unpacked (dpkg-deb -x) into a layer of their own. */
  readonly debs?: string;
  /** The user the image runs as (default: NONROOT). */
  readonly user?: string;
  /** Built only when named (`--only NAME`) or with `all` (it downloads packages or is large). */
  readonly optional?: boolean;
  /** Other references the same image is imported under, fully qualified (stand-ins for images we cannot pull). */
  readonly aliases?: readonly string[];
  readonly description: string;
}

/** Every image the tests need. `kubeplus-dev images build` builds them all; `--only NAME` picks some. */
export const IMAGES: readonly ImageDefinition[] = [
  {
    name: "pause",
    folder: "pause",
    binary: "/pause",
    busybox: false,
    entrypoint: ["/pause"],
    description: "The pod sandbox: sleeps until SIGTERM or SIGINT and reaps children.",
  },
  {
    name: "busybox",
    folder: "busybox",
    busybox: true,
    entrypoint: [],
    cmd: ["/bin/sh"],
    description:
      "busybox from Debian's busybox-static (sh, wget, nc, ...) for connectivity checks.",
  },
  {
    name: "tenant-echo",
    folder: "tenant-echo",
    binary: "/bin/tenant-echo",
    busybox: true,
    entrypoint: ["/bin/tenant-echo"],
    env: { PORT: "8080" },
    ports: [8080],
    description:
      "GET / answers the tenant's name (TENANT), /metrics a Prometheus request counter, /bytes?n=N N bytes; with busybox.",
  },
  {
    name: "cpu-burner",
    folder: "cpu-burner",
    binary: "/bin/cpu-burner",
    busybox: true,
    entrypoint: ["/bin/cpu-burner"],
    env: { WORKERS: "1", MEMORY_MIB: "0" },
    description:
      "Spins WORKERS goroutines (uses its whole CPU limit) and holds MEMORY_MIB resident mebibytes; with busybox.",
  },
  {
    name: "hello-world",
    folder: "hello-web",
    binary: "/bin/hello-web",
    busybox: true,
    entrypoint: ["/bin/hello-web"],
    env: { PORT: "5000" },
    ports: [5000],
    aliases: [
      "gcr.io/cloudark-kubeplus/hello-world:latest",
      "docker.io/eminalparslan/basic-web-app:0.3.0",
    ],
    description:
      "Stand-in for the hello-world and basicwebapp charts' web images: answers 'Hello World! $GREETING' on 5000.",
  },
  {
    name: "static-web",
    folder: "hello-web",
    binary: "/bin/hello-web",
    busybox: true,
    entrypoint: ["/bin/hello-web"],
    env: { PORT: "8080", HTML_DIR: "/usr/share/nginx/html" },
    ports: [8080],
    folders: { "/usr/share/nginx/html": 0o755 },
    aliases: ["docker.io/nginxinc/nginx-unprivileged:1.27"],
    description:
      "Stand-in for nginx-unprivileged (examples/charts): serves /usr/share/nginx/html on 8080.",
  },
  {
    name: "mariadb",
    folder: "mariadb",
    busybox: true,
    debs: "packages",
    files: {
      "/etc/mysql/my.cnf": { file: "my.cnf", mode: 0o644 },
      "/usr/local/bin/docker-entrypoint.sh": { file: "docker-entrypoint.sh", mode: 0o755 },
    },
    folders: {
      "/docker-entrypoint-initdb.d": 0o755,
      "/var/lib/mysql": 0o755,
      "/run/mysqld": 0o1777,
    },
    // Starts as root to hand the data volume to nonroot (charts mount it root-owned, with no fsGroup);
    // mariadbd then drops to 65532 itself. A pod's runAsUser makes it run as that user throughout.
    user: "0:0",
    entrypoint: ["/usr/local/bin/docker-entrypoint.sh"],
    env: { PATH: "/usr/local/bin:/usr/sbin:/usr/bin:/bin" },
    ports: [3306],
    aliases: [
      "docker.io/library/mysql:5.6",
      "docker.io/library/mysql:8.4",
      "docker.io/library/mysql:latest",
    ],
    optional: true,
    description:
      "Stand-in for mysql (the example charts): MariaDB from Debian's packages, with the mysql image's MYSQL_* variables.",
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Pure decisions.

/** A fully qualified reference: a registry host (with a dot or a port, or localhost), a path and a tag. */
const REFERENCE =
  /^(localhost|[a-z0-9-]+(\.[a-z0-9-]+)+)(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const VERSION_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export class ImageBuildError extends Error {
  override readonly name = "ImageBuildError";
}

/** Throws with what to change when a reference is not fully qualified (containerd and the kubelet need it so). */
export function validateReference(ref: string): string {
  if (!REFERENCE.test(ref)) {
    throw new ImageBuildError(
      `image reference '${ref}' is not fully qualified: write registry/path:tag, e.g. docker.io/library/busybox:1.36 or ${IMAGE_PREFIX}/name:1.0.0`,
    );
  }
  return ref;
}

/** The references an image is imported under: ours first, then the stand-in names. */
export function imageRefs(def: ImageDefinition, version: string): string[] {
  if (!VERSION_TAG.test(version)) {
    throw new ImageBuildError(
      `hack/images/${def.folder}/VERSION holds '${version}', which is not a valid tag: use letters, digits, '.', '_' and '-'`,
    );
  }
  return [`${IMAGE_PREFIX}/${def.name}:${version}`, ...(def.aliases ?? [])].map(validateReference);
}

/** The tag part of a reference (org.opencontainers.image.ref.name, as containerd's own exporter writes it). */
export function tagOf(ref: string): string {
  return ref.slice(ref.lastIndexOf(":") + 1);
}

export interface Platform {
  readonly os: string;
  readonly architecture: string;
}

/** The image platform of this machine, in OCI terms (Go's GOARCH names). */
export function hostPlatform(nodeArch: string = arch()): Platform {
  const names: Record<string, string> = {
    x64: "amd64",
    arm64: "arm64",
    arm: "arm",
    s390x: "s390x",
  };
  const architecture = names[nodeArch] ?? (nodeArch === "ppc64" ? "ppc64le" : nodeArch);
  return { os: "linux", architecture };
}

/** Everything that decides an image's bytes. Two builds with equal inputs give the same digest. */
export interface BuildInputs {
  readonly recipe: number;
  readonly definition: ImageDefinition;
  readonly version: string;
  readonly revision: string;
  readonly platform: Platform;
  /** sha256 of each file under hack/images/<folder>, by relative path. */
  readonly sources: Readonly<Record<string, string>>;
  readonly goVersion?: string;
  readonly busyboxSha256?: string;
  /** The Debian packages unpacked into the image: name=version -> the .deb's sha256 (from the package index). */
  readonly debs?: Readonly<Record<string, string>>;
  readonly umociVersion: string;
}

const stableJson = configure({ strict: true });

/**
 * JSON with object keys sorted at every depth (safe-stable-stringify), so equal inputs hash alike whatever order
 * they were built in; undefined fields are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return stableJson(value) ?? "null";
}

/** The cache key: sha256 of the canonical inputs, 20 hex digits (80 bits) in folder names. */
export function cacheKey(inputs: BuildInputs): string {
  return createHash("sha256").update(canonicalJson(inputs)).digest("hex").slice(0, 20);
}

/** The OCI annotations on the manifest (the same pairs are image labels, which crictl and kubectl show). */
export function imageAnnotations(inputs: BuildInputs): Record<string, string> {
  return {
    "org.opencontainers.image.title": inputs.definition.name,
    "org.opencontainers.image.description": inputs.definition.description,
    "org.opencontainers.image.source": IMAGE_SOURCE_URL,
    "org.opencontainers.image.revision": inputs.revision,
    "org.opencontainers.image.version": inputs.version,
    "org.opencontainers.image.licenses": "Apache-2.0",
  };
}

/** `umoci config` arguments: user, entrypoint, cmd, env, ports, labels and annotations, fixed creation time. */
export function umociConfigArgs(inputs: BuildInputs): string[] {
  const def = inputs.definition;
  const args = ["config", "--no-history", "--created", EPOCH, "--author", "kubeplus"];
  args.push("--config.user", def.user ?? NONROOT, "--config.workingdir", "/");
  args.push("--os", inputs.platform.os, "--architecture", inputs.platform.architecture);
  for (const e of def.entrypoint) args.push("--config.entrypoint", e);
  for (const c of def.cmd ?? []) args.push("--config.cmd", c);
  const env = { ...(def.busybox ? { PATH: "/bin" } : {}), ...def.env };
  for (const [k, v] of Object.entries(env)) args.push("--config.env", `${k}=${v}`);
  for (const p of def.ports ?? []) args.push("--config.exposedports", `${String(p)}/tcp`);
  for (const [k, v] of Object.entries(imageAnnotations(inputs))) {
    args.push("--config.label", `${k}=${v}`, "--manifest.annotation", `${k}=${v}`);
  }
  return args;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly architecture: string; readonly os: string };
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface OciIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
}

/**
 * The archive's index.json: the one manifest umoci wrote, listed once per reference with the platform and
 * `io.containerd.image.name` (which `ctr images import` uses as the image name, so no --base-name is needed and
 * the stand-in names land exactly as charts write them) beside the OCI ref.name (the tag).
 */
export function archiveIndex(
  umociIndex: OciIndex,
  refs: readonly string[],
  platform: Platform,
): OciIndex {
  const [manifest, ...rest] = umociIndex.manifests;
  if (!manifest || rest.length > 0) {
    throw new ImageBuildError(
      `umoci wrote ${String(umociIndex.manifests.length)} manifests, expected exactly 1`,
    );
  }
  return {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: refs.map((ref) => ({
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.size,
      platform: { architecture: platform.architecture, os: platform.os },
      annotations: {
        "io.containerd.image.name": ref,
        "org.opencontainers.image.ref.name": tagOf(ref),
      },
    })),
  };
}

/** The package names of a package list: one a line, '#' starts a comment. */
export function parsePackageList(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l.length > 0);
}

export interface DebianPackage {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
}

/** The records of `apt-cache show --no-all-versions`: name, version and the .deb's sha256. */
export function parseAptShow(text: string): DebianPackage[] {
  return text
    .split(/\n\s*\n/)
    .map((record) => {
      const field = (name: string): string =>
        new RegExp(`^${name}: (.+)$`, "m").exec(record)?.[1]?.trim() ?? "";
      return { name: field("Package"), version: field("Version"), sha256: field("SHA256") };
    })
    .filter((p) => p.name.length > 0);
}

/**
 * An image made of Debian packages is tagged with the upstream version of its first listed package: throws, saying
 * what to write, when VERSION no longer matches what the package index offers (a security update, say).
 */
export function checkDebVersion(
  versionFile: string,
  version: string,
  first: DebianPackage | undefined,
): void {
  if (!first) return;
  const upstream = first.version.replace(/^\d+:/, "").replace(/-[^-]*$/, "");
  if (upstream !== version) {
    throw new ImageBuildError(
      `${versionFile} says ${version} but Debian offers ${first.name} ${first.version}: write ${upstream} there`,
    );
  }
}

/** True when an ELF file has no program interpreter (PT_INTERP), i.e. runs in an image with no libc. */
export function isStaticElf(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) return false;
  if (bytes[4] !== 2 || bytes[5] !== 1) return false; // 64-bit little-endian only
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > bytes.length) return false;
    if (bytes.readUInt32LE(at) === 3) return false; // PT_INTERP
  }
  return true;
}

/** /etc/passwd and /etc/group of the busybox layer: root, nobody and nonroot (65532). */
export const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "nonroot:x:65532:65532:nonroot:/tmp:/bin/sh",
  "",
].join("\n");
export const GROUP = ["root:x:0:", "nobody:x:65534:", "nonroot:x:65532:", ""].join("\n");

// ---------------------------------------------------------------------------------------------------------------
// The I/O shell.

export interface BuiltImage {
  readonly name: string;
  readonly version: string;
  /** localhost/kubeplus/<name>:<version>. */
  readonly ref: string;
  /** ref first, then the stand-in names; `ctr images import` creates every one. */
  readonly refs: readonly string[];
  /** The OCI archive (an OCI image layout in a tar) for `ctr -n k8s.io images import <archive>`. */
  readonly archive: string;
  /** The manifest digest: what containerd reports as the image's digest. */
  readonly digest: string;
  readonly archiveBytes: number;
  /** Sum of the compressed layers. */
  readonly layerBytes: number;
  readonly key: string;
  /** False when this call built it, true when the cache already held it. */
  readonly cached: boolean;
}

export interface BuildImagesOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Default: $KUBEPLUS_TOOLS_DIR/images, or ~/.cache/kubeplus/tools/images. */
  readonly cacheDir?: string;
  /** Image names to build (default: every image of IMAGES that is not optional). */
  readonly only?: readonly string[];
  /** Build the optional images too (mariadb) when `only` is not given. */
  readonly all?: boolean;
  readonly report?: (line: string) => void;
  /** The image sources (default: <repo>/hack/images). */
  readonly sourcesDir?: string;
}

/** Where built images are cached: $KUBEPLUS_TOOLS_DIR/images (the tools cache's default when unset). */
export function imagesCacheDir(env: NodeJS.ProcessEnv): string {
  const tools =
    env.KUBEPLUS_TOOLS_DIR ??
    join(env.XDG_CACHE_HOME ?? join(env.HOME ?? "/root", ".cache"), "kubeplus", "tools");
  return join(tools, "images");
}

interface Toolbox {
  readonly umoci: string;
  readonly umociVersion: string;
  readonly go: string;
  readonly goVersion: string;
  readonly busybox: string;
  readonly busyboxSha256: string;
  readonly busyboxApplets: readonly string[];
  readonly tar: string;
  readonly aptGet: string;
  readonly aptCache: string;
  readonly dpkgDeb: string;
  readonly rootless: boolean;
  /** The environment the go build runs with (its caches, proxy settings). */
  readonly env: NodeJS.ProcessEnv;
}

/** What a failed child process said: its stderr, else the error's message. */
function errorText(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  const stderr = e.stderr?.trim() ?? "";
  return stderr.length > 0 ? stderr : (e.message ?? String(err));
}

async function output(
  cmd: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  try {
    const { stdout } = await run(cmd, [...args], { env, maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { code?: unknown };
    if (e.code === "ENOENT") throw new ImageBuildError(`${cmd} is not installed or not on PATH`);
    throw new ImageBuildError(`${cmd} ${args.join(" ")} failed: ${errorText(err)}`);
  }
}

const sha256File = (path: string): string =>
  createHash("sha256").update(readFileSync(path)).digest("hex");

async function findTools(env: NodeJS.ProcessEnv): Promise<Toolbox> {
  const umoci = env.UMOCI_BIN ?? "umoci";
  const go = env.GO_BIN ?? "go";
  const busybox = env.BUSYBOX_BIN ?? "/usr/bin/busybox";
  const umociVersion = (
    await output(umoci, ["--version"]).catch((err: unknown) => {
      throw new ImageBuildError(
        `umoci is needed to build the images: apt-get install umoci (Debian), or set UMOCI_BIN (${String(err)})`,
      );
    })
  ).trim();
  const goVersion = (
    await output(go, ["env", "GOVERSION"], { ...env, GOTOOLCHAIN: "local" }).catch(
      (err: unknown) => {
        throw new ImageBuildError(
          `Go >= 1.26 is needed to build the images' programs (${String(err)})`,
        );
      },
    )
  ).trim();
  if (!existsSync(busybox) || !isStaticElf(readFileSync(busybox))) {
    throw new ImageBuildError(
      `${busybox} is missing or not a static binary: apt-get install busybox-static (Debian), or set BUSYBOX_BIN`,
    );
  }
  const applets = (await output(busybox, ["--list"]))
    .split("\n")
    .filter((a) => /^[\w.[-]+$/.test(a));
  return {
    umoci,
    umociVersion,
    go,
    goVersion,
    busybox,
    busyboxSha256: sha256File(busybox),
    busyboxApplets: applets.filter((a) => a !== "busybox").sort(),
    tar: env.TAR_BIN ?? "tar",
    aptGet: "apt-get",
    aptCache: "apt-cache",
    dpkgDeb: "dpkg-deb",
    rootless: process.getuid?.() !== 0,
    env,
  };
}

/** The candidate version and .deb sha256 of each listed package, from the local package index (no download). */
async function resolveDebs(listFile: string, tools: Toolbox): Promise<DebianPackage[]> {
  const names = parsePackageList(readFileSync(listFile, "utf8"));
  if (names.length === 0) throw new ImageBuildError(`${listFile} lists no packages`);
  const text = await output(tools.aptCache, ["show", "--no-all-versions", ...names]).catch(
    (err: unknown) => {
      throw new ImageBuildError(
        `the Debian packages of ${listFile} are not in the package index; run 'apt-get update' (${String(err)})`,
      );
    },
  );
  const found = parseAptShow(text);
  const missing = names.filter((n) => !found.some((p) => p.name === n && p.sha256));
  if (missing.length > 0) {
    throw new ImageBuildError(
      `apt-cache knows no ${missing.join(", ")} (from ${listFile}); run 'apt-get update' or fix the list`,
    );
  }
  return names.flatMap((n) => found.filter((p) => p.name === n).slice(0, 1));
}

/** apt-get download of name=version into `file`, checked against the sha256 the package index gives. */
async function downloadDeb(pkg: string, sha: string, file: string, tools: Toolbox): Promise<void> {
  const tmp = join(dirname(file), `.tmp-${randomBytes(6).toString("hex")}`);
  makeDir(tmp);
  try {
    await run(tools.aptGet, ["download", pkg], { cwd: tmp }).catch((err: unknown) => {
      throw new ImageBuildError(`apt-get download ${pkg} failed: ${errorText(err)}`);
    });
    const [deb] = readdirSync(tmp).filter((f) => f.endsWith(".deb"));
    if (!deb || sha256File(join(tmp, deb)) !== sha) {
      throw new ImageBuildError(
        `apt-get download ${pkg} did not give the .deb the index names (${sha})`,
      );
    }
    renameSync(join(tmp, deb), file);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Downloads each package once into <cache>/debs/<sha256>.deb (checked against the index) and unpacks them all. */
async function stageDebs(
  root: string,
  debs: Readonly<Record<string, string>>,
  tools: Toolbox,
  cacheDir: string,
): Promise<void> {
  const store = join(cacheDir, "debs");
  makeDir(store);
  makeDir(root);
  for (const [pkg, sha] of Object.entries(debs).sort()) {
    const file = join(store, `${sha}.deb`);
    if (!existsSync(file)) await downloadDeb(pkg, sha, file, tools);
    await output(tools.dpkgDeb, ["-x", file, root]);
  }
  for (const unused of ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/lintian"]) {
    rmSync(join(root, unused), { recursive: true, force: true });
  }
  chmodSync(root, 0o755);
  clampTimes(root);
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return listFiles(path, base);
      return e.isFile() ? [relative(base, path)] : [];
    });
}

async function gitRevision(folder: string): Promise<string> {
  const git = (args: string[]): Promise<string> =>
    output("git", ["-C", repoRoot, ...args]).then((s) => s.trim());
  try {
    const commit = await git(["log", "-1", "--format=%H", "--", folder]);
    const dirty = await git(["status", "--porcelain", "--", folder]);
    if (!commit) return "uncommitted";
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return "unknown";
  }
}

async function gatherInputs(
  def: ImageDefinition,
  tools: Toolbox,
  sourcesDir: string,
): Promise<BuildInputs> {
  const folder = join(sourcesDir, def.folder);
  const versionFile = join(folder, "VERSION");
  if (!existsSync(versionFile)) {
    throw new ImageBuildError(
      `${versionFile} is missing: every image folder holds its version there`,
    );
  }
  const sources = Object.fromEntries(
    listFiles(folder).map((f) => [f, sha256File(join(folder, f))] as const),
  );
  const version = readFileSync(versionFile, "utf8").trim();
  const debs = def.debs ? await resolveDebs(join(folder, def.debs), tools) : undefined;
  if (debs) checkDebVersion(versionFile, version, debs[0]);
  return {
    recipe: IMAGE_RECIPE,
    definition: def,
    version,
    revision: await gitRevision(relative(repoRoot, folder)),
    platform: hostPlatform(),
    sources,
    goVersion: def.binary ? tools.goVersion : undefined,
    busyboxSha256: def.busybox ? tools.busyboxSha256 : undefined,
    umociVersion: tools.umociVersion,
    debs: debs
      ? Object.fromEntries(debs.map((p) => [`${p.name}=${p.version}`, p.sha256] as const))
      : undefined,
  };
}

/** Sets every entry's mtime to 1970-01-01 (children first), so layer tars do not depend on when we built. */
function clampTimes(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) clampTimes(path);
    lutimesSync(path, 0, 0);
  }
  lutimesSync(dir, 0, 0);
}

function makeDir(path: string, mode = 0o755): void {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
}

function stageBusybox(root: string, tools: Toolbox): void {
  makeDir(root);
  makeDir(join(root, "bin"));
  makeDir(join(root, "etc"));
  makeDir(join(root, "tmp"), 0o1777);
  copyFileSync(tools.busybox, join(root, "bin", "busybox"));
  chmodSync(join(root, "bin", "busybox"), 0o755);
  for (const applet of tools.busyboxApplets) symlinkSync("busybox", join(root, "bin", applet));
  writeFileSync(join(root, "etc", "passwd"), PASSWD);
  writeFileSync(join(root, "etc", "group"), GROUP);
  chmodSync(join(root, "etc", "passwd"), 0o644);
  chmodSync(join(root, "etc", "group"), 0o644);
  clampTimes(root);
}

async function stageProgram(
  root: string,
  inputs: BuildInputs,
  tools: Toolbox,
  sourcesDir: string,
): Promise<void> {
  const def = inputs.definition;
  makeDir(root);
  for (const [folder, mode] of Object.entries(def.folders ?? {})) makeDir(join(root, folder), mode);
  for (const [path, { file, mode }] of Object.entries(def.files ?? {})) {
    const target = join(root, path);
    makeDir(join(target, ".."));
    copyFileSync(join(sourcesDir, def.folder, file), target);
    chmodSync(target, mode);
  }
  if (def.binary) {
    const target = join(root, def.binary);
    makeDir(join(target, ".."));
    const ldflags = `-s -w -buildid= -X main.version=${inputs.version}`;
    const args = ["build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", target, "."];
    const env = {
      ...tools.env,
      CGO_ENABLED: "0",
      GOTOOLCHAIN: "local",
      GOWORK: "off",
      GOFLAGS: "-mod=mod",
      GOOS: inputs.platform.os,
      GOARCH: inputs.platform.architecture,
    };
    await run(tools.go, args, { cwd: join(sourcesDir, def.folder), env }).catch((err: unknown) => {
      throw new ImageBuildError(`go build of hack/images/${def.folder} failed: ${errorText(err)}`);
    });
    chmodSync(target, 0o755);
  }
  if (def.folders?.["/usr/share/nginx/html"] !== undefined) {
    const page = join(root, "usr/share/nginx/html/index.html");
    writeFileSync(page, `<!doctype html><title>${def.name}</title><p>${def.description}</p>\n`);
    chmodSync(page, 0o644);
  }
  clampTimes(root);
}

interface Assembled {
  readonly digest: string;
  readonly layerBytes: number;
}

/** umoci init/new/insert/config/gc into `layout`, then the index rewritten for the references. */
async function assemble(
  layout: string,
  staged: { readonly base?: string; readonly debs?: string; readonly app?: string },
  inputs: BuildInputs,
  tools: Toolbox,
): Promise<Assembled> {
  const image = `${layout}:image`;
  const umoci = (args: string[]): Promise<string> => output(tools.umoci, args);
  const rootless = tools.rootless ? ["--rootless"] : [];
  await umoci(["init", "--layout", layout]);
  await umoci(["new", "--image", image]);
  const layers: [string | undefined, string][] = [
    [staged.base, "busybox from Debian's busybox-static, /etc/passwd, /etc/group, /tmp"],
    [staged.debs, `Debian packages of hack/images/${inputs.definition.folder}`],
    [staged.app, `hack/images/${inputs.definition.folder} ${inputs.version}`],
  ];
  for (const [dir, what] of layers) {
    if (!dir) continue;
    await umoci([
      "insert",
      ...rootless,
      "--image",
      image,
      "--history.created",
      EPOCH,
      "--history.created_by",
      `kubeplus-dev images build: ${what}`,
      dir,
      "/",
    ]);
  }
  await umoci([...umociConfigArgs(inputs), "--image", image]);
  await umoci(["gc", "--layout", layout]);
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as OciIndex;
  const refs = imageRefs(inputs.definition, inputs.version);
  const rewritten = archiveIndex(index, refs, inputs.platform);
  writeFileSync(join(layout, "index.json"), JSON.stringify(rewritten));
  const digest = rewritten.manifests[0]?.digest ?? "";
  const manifest = JSON.parse(
    readFileSync(join(layout, "blobs", ...digest.split(":")), "utf8"),
  ) as { layers: Descriptor[] };
  return { digest, layerBytes: manifest.layers.reduce((n, l) => n + l.size, 0) };
}

/** The layout as one tar, entries sorted and stamped alike, so equal layouts give equal archives. */
async function writeArchive(layout: string, archive: string, tools: Toolbox): Promise<void> {
  clampTimes(layout);
  await output(tools.tar, [
    "--sort=name",
    "--format=ustar",
    "--mtime=@0",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--mode=u+rw,go=rX",
    "-cf",
    archive,
    "-C",
    layout,
    "oci-layout",
    "index.json",
    "blobs",
  ]);
}

function readCached(dir: string): BuiltImage | undefined {
  const record = join(dir, "image.json");
  if (!existsSync(record)) return undefined;
  const image = JSON.parse(readFileSync(record, "utf8")) as BuiltImage;
  if (!existsSync(image.archive) || statSync(image.archive).size !== image.archiveBytes)
    return undefined;
  const now = new Date();
  utimesSync(dir, now, now); // last used: what pruning goes by
  return { ...image, cached: true };
}

/** Unused for this long, another build of the same image is removed from the cache. */
const PRUNE_AFTER_MS = 7 * 24 * 3600 * 1000;

/** Removes the cache folders of other builds of `name` not used for PRUNE_AFTER_MS (other checkouts may use newer). */
function pruneCache(cacheDir: string, name: string, keep: string): void {
  const stale = Date.now() - PRUNE_AFTER_MS;
  for (const entry of readdirSync(cacheDir)) {
    const path = join(cacheDir, entry);
    if (path === keep || !entry.startsWith(`${name}-`) || !existsSync(join(path, "image.json")))
      continue;
    if (statSync(path).mtimeMs < stale) rmSync(path, { recursive: true, force: true });
  }
}

/** localhost/kubeplus/<name>:<version> of one of IMAGES, from its VERSION file (e.g. the CRI's sandbox image). */
export function imageReference(
  name: string,
  sourcesDir = join(repoRoot, "hack", "images"),
): string {
  const def = IMAGES.find((d) => d.name === name);
  if (!def) throw new ImageBuildError(`unknown image ${name}`);
  const version = readFileSync(join(sourcesDir, def.folder, "VERSION"), "utf8").trim();
  return imageRefs(def, version)[0] ?? "";
}

/** Up to three layer folders under `tmp`: busybox, Debian packages, the folder's program and files. */
async function stageLayers(
  tmp: string,
  inputs: BuildInputs,
  tools: Toolbox,
  options: { readonly cacheDir: string; readonly sourcesDir: string },
): Promise<{ base?: string; debs?: string; app?: string }> {
  const def = inputs.definition;
  const base = def.busybox ? join(tmp, "base") : undefined;
  if (base) stageBusybox(base, tools);
  const debs = inputs.debs ? join(tmp, "debs") : undefined;
  if (debs && inputs.debs) await stageDebs(debs, inputs.debs, tools, options.cacheDir);
  const app = (def.binary ?? def.folders ?? def.files) ? join(tmp, "app") : undefined;
  if (app) await stageProgram(app, inputs, tools, options.sourcesDir);
  return { base, debs, app };
}

async function buildOne(
  def: ImageDefinition,
  tools: Toolbox,
  options: Required<Pick<BuildImagesOptions, "cacheDir" | "sourcesDir" | "report">>,
): Promise<BuiltImage> {
  const inputs = await gatherInputs(def, tools, options.sourcesDir);
  const key = cacheKey(inputs);
  const dir = join(options.cacheDir, `${def.name}-${inputs.version}-${key}`);
  const cached = readCached(dir);
  pruneCache(options.cacheDir, def.name, dir);
  if (cached) return cached;
  const started = Date.now();
  const tmp = join(options.cacheDir, `.tmp-${def.name}-${randomBytes(6).toString("hex")}`);
  makeDir(tmp);
  try {
    const staged = await stageLayers(tmp, inputs, tools, options);
    const assembled = await assemble(join(tmp, "layout"), staged, inputs, tools);
    const out = join(tmp, "out");
    makeDir(out);
    await writeArchive(join(tmp, "layout"), join(out, "image.oci.tar"), tools);
    const refs = imageRefs(def, inputs.version);
    const archive = join(dir, "image.oci.tar");
    const image: BuiltImage = {
      name: def.name,
      version: inputs.version,
      ref: refs[0] ?? "",
      refs,
      archive,
      digest: assembled.digest,
      archiveBytes: statSync(join(out, "image.oci.tar")).size,
      layerBytes: assembled.layerBytes,
      key,
      cached: false,
    };
    writeFileSync(join(out, "image.json"), `${JSON.stringify(image, null, 2)}\n`);
    writeFileSync(join(out, "inputs.json"), `${JSON.stringify(inputs, null, 2)}\n`);
    try {
      renameSync(out, dir);
    } catch {
      // Another build of the same inputs finished first: its archive is the same, keep it.
      const other = readCached(dir);
      if (other) return other;
      throw new ImageBuildError(`could not move the built ${def.name} image into ${dir}`);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    options.report(`built ${image.ref} (${image.digest.slice(0, 19)}, ${seconds}s) -> ${archive}`);
    return image;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Builds every image (or `only` those), reusing what the cache already holds for the same inputs, and returns
 * their references and archives in IMAGES order. Needs Go, umoci, GNU tar and a static busybox.
 */
export async function buildImages(options: BuildImagesOptions): Promise<BuiltImage[]> {
  const only = options.only ?? [];
  const unknown = only.filter((n) => !IMAGES.some((d) => d.name === n));
  if (unknown.length > 0) {
    throw new ImageBuildError(
      `unknown image ${unknown.join(", ")}; the images are: ${IMAGES.map((d) => d.name).join(", ")}`,
    );
  }
  const defs = IMAGES.filter((d) =>
    only.length > 0 ? only.includes(d.name) : options.all === true || d.optional !== true,
  );
  const cacheDir = options.cacheDir ?? imagesCacheDir(options.env);
  makeDir(cacheDir);
  const tools = await findTools(options.env);
  const settings = {
    cacheDir,
    sourcesDir: options.sourcesDir ?? join(repoRoot, "hack", "images"),
    report: options.report ?? ((): void => undefined),
  };
  const built: BuiltImage[] = [];
  for (const def of defs) built.push(await buildOne(def, tools, settings));
  return built;
}

export interface ImportImagesOptions {
  /** The ctr binary (containerd's client). */
  readonly ctr: string;
  /** containerd's socket. */
  readonly address: string;
  /** The containerd namespace: k8s.io for the kubelet's CRI. */
  readonly namespace?: string;
  /** Unpack into this snapshotter (the one the CRI plugin uses); default: containerd's default. */
  readonly snapshotter?: string;
  readonly images: readonly BuiltImage[];
}

/** `ctr images import` of each archive; every reference of each image then exists in the namespace. */
export async function importImages(options: ImportImagesOptions): Promise<void> {
  for (const image of options.images) {
    const args = ["--address", options.address, "--namespace", options.namespace ?? "k8s.io"];
    args.push("images", "import", "--local");
    if (options.snapshotter) args.push("--snapshotter", options.snapshotter);
    await output(options.ctr, [...args, image.archive]);
  }
}

/** One line per reference: REF, DIGEST, SIZE, ARCHIVE (what `kubeplus-dev images build` prints). */
export function formatImages(images: readonly BuiltImage[]): string {
  const rows = images.flatMap((i) =>
    i.refs.map((ref) => [
      ref,
      i.digest.slice(0, 19),
      `${(i.archiveBytes / 2 ** 20).toFixed(1)}MiB`,
      i.archive,
    ]),
  );
  const widths = [0, 1, 2].map((c) =>
    Math.max(...[["REF", "DIGEST", "SIZE"], ...rows].map((r) => (r[c] ?? "").length)),
  );
  const line = (r: readonly string[]): string =>
    `${r.map((v, c) => (c < 3 ? v.padEnd((widths[c] ?? 0) + 2) : v)).join("")}\n`;
  return [["REF", "DIGEST", "SIZE", "ARCHIVE"], ...rows].map(line).join("");
}
