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
  writeFileSync,
} from "node:fs";
import { arch } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
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
  /** Empty folders (mode 0755) the image provides, e.g. a mount point. */
  readonly folders?: readonly string[];
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
    folders: ["/usr/share/nginx/html"],
    aliases: ["docker.io/nginxinc/nginx-unprivileged:1.27"],
    description:
      "Stand-in for nginx-unprivileged (examples/charts): serves /usr/share/nginx/html on 8080.",
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
  readonly umociVersion: string;
}

/** JSON with object keys sorted at every depth, so equal inputs hash alike whatever order they were built in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
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
  args.push("--config.user", NONROOT, "--config.workingdir", "/");
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
  /** Image names to build (default: all of IMAGES). */
  readonly only?: readonly string[];
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
    rootless: process.getuid?.() !== 0,
    env,
  };
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
  return {
    recipe: IMAGE_RECIPE,
    definition: def,
    version: readFileSync(versionFile, "utf8").trim(),
    revision: await gitRevision(relative(repoRoot, folder)),
    platform: hostPlatform(),
    sources,
    goVersion: def.binary ? tools.goVersion : undefined,
    busyboxSha256: def.busybox ? tools.busyboxSha256 : undefined,
    umociVersion: tools.umociVersion,
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
  for (const folder of def.folders ?? []) makeDir(join(root, folder));
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
  if (def.folders?.includes("/usr/share/nginx/html")) {
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
  staged: { readonly base?: string; readonly app?: string },
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
  return { ...image, cached: true };
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
  if (cached) return cached;
  const started = Date.now();
  const tmp = join(options.cacheDir, `.tmp-${def.name}-${randomBytes(6).toString("hex")}`);
  makeDir(tmp);
  try {
    const base = def.busybox ? join(tmp, "base") : undefined;
    if (base) stageBusybox(base, tools);
    const app = def.binary || def.folders ? join(tmp, "app") : undefined;
    if (app) await stageProgram(app, inputs, tools, options.sourcesDir);
    const assembled = await assemble(join(tmp, "layout"), { base, app }, inputs, tools);
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
  const defs = only.length > 0 ? IMAGES.filter((d) => only.includes(d.name)) : IMAGES;
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
