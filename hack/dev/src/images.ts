import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
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
import { gunzipSync } from "node:zlib";
import { bundleService, esbuildVersion } from "./images-bundle.js";
import {
  candidateDebs,
  fetchPinnedDebs,
  formatDebLock,
  lockHeader,
  parseDebLock,
  stageNodeBase,
  updateAptLists,
  type PinnedDeb,
} from "./images-debian.js";
import { configure } from "safe-stable-stringify";
import { repoRoot } from "./paths.js";
import {
  clampTimes,
  errorText,
  ImageBuildError,
  makeDir,
  output,
  run,
  sha256File,
} from "./images-shell.js";

export { ImageBuildError } from "./images-shell.js";

// The container images the real nodes run, built without any registry: Go programs of ours (hack/images/<folder>,
// standard library only, CGO_ENABLED=0) and busybox from Debian's busybox-static, assembled into OCI images by
// umoci (Debian's package) and written as OCI archives that `ctr images import` accepts, into a cache keyed by
// every input. The five KubePlus service images (SERVICE_IMAGES) are built by the same machinery: a Node.js base
// layer of pinned Debian packages (images-debian.ts) and a layer with the service bundled by esbuild
// (images-bundle.ts), for the helmer with the pinned helm and the post-render forwarder, for the console with its
// built single-page app. Pure decisions first (definitions, references, cache key, umoci arguments, the OCI index); the
// I/O shell (buildImages, importImages) at the end.

/** Bump when the way images are assembled changes: it is part of every cache key. */
export const IMAGE_RECIPE = 5;
/** Every image of ours is named localhost/kubeplus/<name>:<version>. */
export const IMAGE_PREFIX = "localhost/kubeplus";
/** org.opencontainers.image.source: where the sources live (the project's home, as in the KubePlus chart). */
export const IMAGE_SOURCE_URL = "https://github.com/cloud-ark/kubeplus";
/**
 * The registry the KubePlus chart names its images in (deploy/charts/kubeplus values.yaml `image.registry`): the
 * service images are also imported as <this>/<service>:<version>, so the chart's defaults find them on a node with
 * `imagePullPolicy: IfNotPresent`.
 */
export const CHART_IMAGE_REGISTRY = "ghcr.io/kubeplus-ts";
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
  /** The working directory of the image's process (default: /). */
  readonly workingDir?: string;
  /**
   * A KubePlus service (services/<service>): its version is its package.json's, its layer holds the service bundled
   * by esbuild (/app/dist/main.js), the message schemas of @kubeplus/contracts (/app/schemas) and /app/package.json.
   * `folder` is then the base's folder (hack/images/nodejs).
   */
  readonly service?: string;
  /**
   * The folder's Debian packages pinned by version and sha256 (packages-<arch>.lock, from the suites of its
   * sources.list), unpacked into a Node.js base layer (images-debian.ts stageNodeBase).
   */
  readonly nodeBase?: boolean;
  /** Go programs of the repository built into the image: image path -> the main package's folder. */
  readonly goPrograms?: Readonly<Record<string, string>>;
  /** Where the pinned helm (hack/tools/versions.env HELM_VERSION, built by make tools) goes in the image. */
  readonly helm?: string;
  /**
   * Folders of built files a service serves, copied into its layer: image path -> the repository folder `make build`
   * writes them to (the console's single-page app, services/console/dist/web). Their bytes are inputs of the key.
   */
  readonly assets?: Readonly<Record<string, string>>;
  /**
   * A pinned static binary of the tools cache (`make tools` builds it: <tools>/<tool>-<version>/<tool>) put at
   * `path`, its version `pin` of hack/tools/versions.env, which must equal the folder's VERSION (with a leading v).
   */
  readonly pinnedTool?: { readonly tool: string; readonly pin: string; readonly path: string };
}

/** What every service image's process sees (the pod's env overrides it). HOME: the chart's writable /tmp. */
const SERVICE_ENV = {
  PATH: "/usr/local/bin:/usr/bin",
  HOME: "/tmp",
  NODE_ENV: "production",
} as const;

function serviceImage(
  service: string,
  ports: readonly number[],
  description: string,
  more: Partial<ImageDefinition> = {},
): ImageDefinition {
  return {
    name: service,
    folder: "nodejs",
    service,
    nodeBase: true,
    busybox: false,
    entrypoint: ["/usr/bin/node", "/app/dist/main.js"],
    workingDir: "/app",
    ports,
    description,
    ...more,
    env: { ...SERVICE_ENV, ...more.env },
  };
}

/** The KubePlus services, as the chart runs them (`kubeplus-dev images build --services`). */
export const SERVICE_IMAGES: readonly ImageDefinition[] = [
  serviceImage(
    "crd-hook",
    [8443, 8081],
    "KubePlus crd-hook: the admission webhook for ResourceCompositions and their instances.",
  ),
  serviceImage(
    "helmer",
    [8081],
    "KubePlus helmer: renders charts with the pinned helm and keeps every instance's release converged.",
    {
      helm: "/usr/local/bin/helm",
      goPrograms: { "/app/bin/kubeplus-post-render": "services/helmer/post-render-shim" },
      env: { HELM_BIN: "/usr/local/bin/helm", POST_RENDER_BIN: "/app/bin/kubeplus-post-render" },
    },
  ),
  serviceImage(
    "kubeconfig-generator",
    [8081],
    "KubePlus kubeconfig-generator: keeps the consumer kubeconfig current and serves kubeconfigs over NATS.",
  ),
  serviceImage(
    "metrics-collector",
    [9090, 8081],
    "KubePlus metrics-collector: meters every instance, serves /metrics and keeps daily usage records.",
  ),
  serviceImage(
    "console",
    [8080, 8081],
    "KubePlus console: the web page where consumers order and watch their instances, with their own credentials.",
    {
      assets: { "/app/dist/web": "services/console/dist/web" },
      env: { CONSOLE_WEB_DIR: "/app/dist/web" },
    },
  ),
];

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
    // The chart's built-in NATS (deploy/charts/kubeplus templates/nats.yaml: args -c /etc/nats/config/nats.conf,
    // /healthz on the monitoring port 8222). The binary only: static, no shell, no JetStream (ADR 0007).
    name: "nats",
    folder: "nats",
    pinnedTool: { tool: "nats-server", pin: "NATS_SERVER_VERSION", path: "/nats-server" },
    busybox: false,
    entrypoint: ["/nats-server"],
    ports: [4222, 8222],
    description:
      "nats-server (the pinned release, static) for the KubePlus chart's built-in NATS; entrypoint /nats-server.",
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

/** Throws with what to change when a reference is not fully qualified (containerd and the kubelet need it so). */
export function validateReference(ref: string): string {
  if (!REFERENCE.test(ref)) {
    throw new ImageBuildError(
      `image reference '${ref}' is not fully qualified: write registry/path:tag, e.g. docker.io/library/busybox:1.36 or ${IMAGE_PREFIX}/name:1.0.0`,
    );
  }
  return ref;
}

/** The references an image is imported under: ours first, then the chart's (service images), then the stand-in names. */
export function imageRefs(def: ImageDefinition, version: string): string[] {
  if (!VERSION_TAG.test(version)) {
    const where = def.service
      ? `services/${def.service}/package.json's version`
      : `hack/images/${def.folder}/VERSION`;
    throw new ImageBuildError(
      `${where} holds '${version}', which is not a valid tag: use letters, digits, '.', '_' and '-'`,
    );
  }
  const chart = def.service ? [`${CHART_IMAGE_REGISTRY}/${def.name}:${version}`] : [];
  return [`${IMAGE_PREFIX}/${def.name}:${version}`, ...chart, ...(def.aliases ?? [])].map(
    validateReference,
  );
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
  /** The pinned helm put into the image: its version and the binary's sha256. */
  readonly helm?: { readonly version: string; readonly sha256: string };
  /** The official Node.js build of a service image (NODE_LTS_VERSION): its version and the binary's sha256. */
  readonly node?: { readonly version: string; readonly sha256: string };
  /** The pinned tool binary put into the image (ImageDefinition.pinnedTool): its version and sha256. */
  readonly pinnedTool?: { readonly version: string; readonly sha256: string };
  /** The esbuild version that bundled the service (its output is in `sources` as bundle:/app/dist/main.js). */
  readonly esbuildVersion?: string;
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
  args.push("--config.user", def.user ?? NONROOT, "--config.workingdir", def.workingDir ?? "/");
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
  /** Sum of the layers uncompressed (what the image takes unpacked; `docker images` calls it the size). */
  readonly unpackedBytes: number;
  readonly key: string;
  /** False when this call built it, true when the cache already held it. */
  readonly cached: boolean;
}

export interface BuildImagesOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Default: $KUBEPLUS_TOOLS_DIR/images, or ~/.cache/kubeplus/tools/images. */
  readonly cacheDir?: string;
  /** Image names to build, of IMAGES or SERVICE_IMAGES (default: every image of IMAGES that is not optional). */
  readonly only?: readonly string[];
  /** Build the optional images too (mariadb) when `only` is not given. */
  readonly all?: boolean;
  /** Build the service images (SERVICE_IMAGES) instead of the nodes' images, when `only` is not given. */
  readonly services?: boolean;
  /** Downloaded .debs (<sha256>.deb) and the service base's apt state; default: <cacheDir>/debs. */
  readonly debsDir?: string;
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
  /** The environment the go build runs with (its caches, proxy settings). */
  readonly env: NodeJS.ProcessEnv;
}

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

/** Downloads each package once into <store>/<sha256>.deb (checked against the index) and unpacks them all. */
async function stageDebs(
  root: string,
  debs: Readonly<Record<string, string>>,
  tools: Toolbox,
  store: string,
): Promise<void> {
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

/** The last commit that touched any of `paths` (repository-relative), `-dirty` when one has uncommitted changes. */
async function gitRevision(paths: readonly string[]): Promise<string> {
  const git = (args: string[]): Promise<string> =>
    output("git", ["-C", repoRoot, ...args]).then((s) => s.trim());
  try {
    const commit = await git(["log", "-1", "--format=%H", "--", ...paths]);
    const dirty = await git(["status", "--porcelain", "--", ...paths]);
    if (!commit) return "uncommitted";
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return "unknown";
  }
}

/** sha256 of each file under a folder, keyed `<prefix>/<relative path>`. */
function hashFiles(dir: string, prefix: string): Record<string, string> {
  return Object.fromEntries(
    listFiles(dir).map((f) => [`${prefix}/${f}`, sha256File(join(dir, f))] as const),
  );
}

/** A version pinned in hack/tools/versions.env (e.g. HELM_VERSION: the helm every test uses, and the helmer image's). */
function pinnedVersion(pin: string): string {
  const versions = readFileSync(join(repoRoot, "hack", "tools", "versions.env"), "utf8");
  const version = new RegExp(`^${pin}=(\\S+)`, "m").exec(versions)?.[1];
  if (!version) throw new ImageBuildError(`hack/tools/versions.env sets no ${pin}`);
  return version;
}

/**
 * The pinned tool binary of an image (ImageDefinition.pinnedTool) from the tools cache, checked against the folder's
 * VERSION and for being a static binary (the image has no libraries).
 */
function findPinnedTool(
  def: ImageDefinition,
  version: string,
  env: NodeJS.ProcessEnv,
): { path: string; version: string; sha256: string } | undefined {
  const pinned = def.pinnedTool;
  if (!pinned) return undefined;
  const toolVersion = pinnedVersion(pinned.pin);
  if (toolVersion.replace(/^v/, "") !== version) {
    throw new ImageBuildError(
      `hack/images/${def.folder}/VERSION says ${version} but hack/tools/versions.env pins ${pinned.pin}=${toolVersion}: write ${toolVersion.replace(/^v/, "")} into VERSION`,
    );
  }
  const path = join(dirname(imagesCacheDir(env)), `${pinned.tool}-${toolVersion}`, pinned.tool);
  if (!existsSync(path) || !isStaticElf(readFileSync(path))) {
    throw new ImageBuildError(
      `the pinned ${pinned.tool} ${toolVersion} is missing or not a static binary (${path}): run make tools`,
    );
  }
  return { path, version: toolVersion, sha256: sha256File(path) };
}

/** The pinned helm binary: HELM_BIN, else what make tools built into the tools cache; checked by its version. */
async function findHelm(env: NodeJS.ProcessEnv): Promise<{ path: string; version: string }> {
  const version = pinnedVersion("HELM_VERSION");
  const path = env.HELM_BIN ?? join(dirname(imagesCacheDir(env)), `helm-${version}`, "helm");
  if (!existsSync(path)) {
    throw new ImageBuildError(
      `the pinned helm ${version} is missing (${path}): run make tools, or set HELM_BIN`,
    );
  }
  const said = (await output(path, ["version", "--short"])).trim();
  if (!said.startsWith(version)) {
    throw new ImageBuildError(`${path} says it is helm ${said}, but the pin is ${version}`);
  }
  return { path, version };
}

/**
 * The official Node.js build the service images run (hack/tools/versions.env NODE_LTS_VERSION): NODE_LTS_BIN, else
 * what make tools fetched into the tools cache (integrity-checked); checked by its version.
 */
async function findNode(env: NodeJS.ProcessEnv): Promise<{ path: string; version: string }> {
  const version = pinnedVersion("NODE_LTS_VERSION");
  const path =
    env.NODE_LTS_BIN ?? join(dirname(imagesCacheDir(env)), `node-${version}`, "bin", "node");
  if (!existsSync(path)) {
    throw new ImageBuildError(
      `the pinned Node.js ${version} is missing (${path}): run make tools, or set NODE_LTS_BIN`,
    );
  }
  const said = (await output(path, ["--version"])).trim();
  if (said !== version) {
    throw new ImageBuildError(`${path} says it is Node.js ${said}, but the pin is ${version}`);
  }
  return { path, version };
}

/** A service image's files made before its key: the bundle (its bytes are an input), helm and Node.js. */
interface Prepared {
  readonly bundle?: string;
  readonly helm?: { readonly path: string; readonly version: string };
  readonly node?: { readonly path: string; readonly version: string };
}

/** Bundles the service into `tmp` and finds the pinned helm (the helmer): what the key is computed from. */
async function prepareService(
  def: ImageDefinition,
  tmp: string,
  env: NodeJS.ProcessEnv,
): Promise<Prepared> {
  if (!def.service) return {};
  const bundle = join(tmp, "bundle", "main.js");
  await bundleService(def.service, bundle);
  return {
    bundle,
    helm: def.helm ? await findHelm(env) : undefined,
    node: def.nodeBase ? await findNode(env) : undefined,
  };
}

/** The lock of the Node.js base for `architecture` (hack/images/<folder>/packages-<arch>.lock). */
function nodeBaseLock(folder: string, architecture: string): { file: string; pinned: PinnedDeb[] } {
  const file = join(folder, `packages-${architecture}.lock`);
  if (!existsSync(file)) {
    throw new ImageBuildError(
      `${file} is missing: the Node.js base pins its Debian packages per architecture; write it with 'node hack/dev/dist/cli.js images lock'`,
    );
  }
  return { file, pinned: parseDebLock(readFileSync(file, "utf8"), file) };
}

/** A service's built asset folder (ImageDefinition.assets), which must exist and hold files. */
function assetFolder(service: string, src: string): string {
  const folder = join(repoRoot, src);
  if (!existsSync(folder) || listFiles(folder).length === 0) {
    throw new ImageBuildError(
      `${src} is missing or empty: the ${service} image serves it; build it first ('make build' does)`,
    );
  }
  return folder;
}

/** The hashes of a service's asset files, as `asset:<image path>/<file>`: part of its key. */
function assetSources(def: ImageDefinition & { readonly service: string }): Record<string, string> {
  return Object.fromEntries(
    Object.entries(def.assets ?? {}).flatMap(([path, src]) =>
      Object.entries(hashFiles(assetFolder(def.service, src), `asset:${path}`)),
    ),
  );
}

/**
 * Copies a service's asset folders into its layer (files 0644) and returns the folders made, for their 0755 mode.
 */
function stageAssets(
  def: ImageDefinition,
  put: (path: string, from: string, mode: number) => void,
): string[] {
  const folders: string[] = [];
  for (const [path, src] of Object.entries(def.assets ?? {})) {
    const from = assetFolder(def.name, src);
    for (const f of listFiles(from)) {
      put(join(path, f), join(from, f), 0o644);
      for (let d = dirname(join(path, f)); d !== path && d !== "/"; d = dirname(d)) folders.push(d);
    }
    folders.push(path);
  }
  return folders;
}

async function gatherServiceInputs(
  def: ImageDefinition & { readonly service: string },
  tools: Toolbox,
  sourcesDir: string,
  prepared: Prepared,
): Promise<BuildInputs> {
  const folder = join(sourcesDir, def.folder);
  const pkg = JSON.parse(
    readFileSync(join(repoRoot, "services", def.service, "package.json"), "utf8"),
  ) as { version?: string };
  const platform = hostPlatform();
  const { pinned } = nodeBaseLock(folder, platform.architecture);
  const schemas = join(repoRoot, "libs", "contracts", "schemas");
  const sources: Record<string, string> = {
    ...hashFiles(folder, `hack/images/${def.folder}`),
    ...hashFiles(schemas, "libs/contracts/schemas"),
    ...(prepared.bundle ? { "bundle:/app/dist/main.js": sha256File(prepared.bundle) } : {}),
  };
  for (const src of Object.values(def.goPrograms ?? {}))
    Object.assign(sources, hashFiles(join(repoRoot, src), src));
  Object.assign(sources, assetSources(def));
  const helm = prepared.helm;
  const paths = [relative(repoRoot, folder), `services/${def.service}`, "libs", "pnpm-lock.yaml"];
  const pinsTools = helm !== undefined || prepared.node !== undefined;
  paths.push(
    ...Object.values(def.goPrograms ?? {}),
    ...(pinsTools ? ["hack/tools/versions.env"] : []),
  );
  return {
    recipe: IMAGE_RECIPE,
    definition: def,
    version: pkg.version ?? "",
    revision: await gitRevision(paths),
    platform,
    sources,
    goVersion: def.goPrograms ? tools.goVersion : undefined,
    umociVersion: tools.umociVersion,
    debs: Object.fromEntries(pinned.map((p) => [`${p.name}=${p.version}`, p.sha256] as const)),
    helm: helm ? { version: helm.version, sha256: sha256File(helm.path) } : undefined,
    node: prepared.node
      ? { version: prepared.node.version, sha256: sha256File(prepared.node.path) }
      : undefined,
    esbuildVersion,
  };
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
  const tool = findPinnedTool(def, version, tools.env);
  return {
    recipe: IMAGE_RECIPE,
    definition: def,
    version,
    revision: await gitRevision([relative(repoRoot, folder)]),
    platform: hostPlatform(),
    sources,
    goVersion: def.binary ? tools.goVersion : undefined,
    busyboxSha256: def.busybox ? tools.busyboxSha256 : undefined,
    umociVersion: tools.umociVersion,
    debs: debs
      ? Object.fromEntries(debs.map((p) => [`${p.name}=${p.version}`, p.sha256] as const))
      : undefined,
    pinnedTool: tool ? { version: tool.version, sha256: tool.sha256 } : undefined,
  };
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

/** A Go main package built static and reproducibly (-trimpath, no build ID, no VCS stamp) to `target` (0755). */
async function goBuild(
  srcDir: string,
  target: string,
  inputs: BuildInputs,
  tools: Toolbox,
): Promise<void> {
  makeDir(dirname(target));
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
  await run(tools.go, args, { cwd: srcDir, env }).catch((err: unknown) => {
    throw new ImageBuildError(
      `go build of ${relative(repoRoot, srcDir)} failed: ${errorText(err)}`,
    );
  });
  chmodSync(target, 0o755);
}

/**
 * A service's layer: /app/package.json (the bundle is an ES module), /app/dist/main.js, /app/schemas (the message
 * schemas @kubeplus/contracts reads from ../schemas beside its dist), and for the helmer the pinned helm and the
 * post-render forwarder. Files 0644, programs 0755, owned by root: any uid (the chart's runAsUser) reads them,
 * none writes them.
 */
async function stageService(
  root: string,
  inputs: BuildInputs,
  tools: Toolbox,
  prepared: Prepared,
): Promise<void> {
  const def = inputs.definition;
  const put = (path: string, from: string | { text: string }, mode: number): void => {
    const target = join(root, path);
    makeDir(dirname(target));
    if (typeof from === "string") copyFileSync(from, target);
    else writeFileSync(target, from.text);
    chmodSync(target, mode);
  };
  makeDir(root);
  const pkg = { name: `@kubeplus/${def.name}`, version: inputs.version, type: "module" };
  put("app/package.json", { text: `${JSON.stringify(pkg, null, 2)}\n` }, 0o644);
  if (prepared.bundle) put("app/dist/main.js", prepared.bundle, 0o644);
  const schemas = join(repoRoot, "libs", "contracts", "schemas");
  for (const f of listFiles(schemas)) put(join("app/schemas", f), join(schemas, f), 0o644);
  if (def.helm && prepared.helm) put(def.helm, prepared.helm.path, 0o755);
  for (const [path, src] of Object.entries(def.goPrograms ?? {}))
    await goBuild(join(repoRoot, src), join(root, path), inputs, tools);
  const folders = [
    "app",
    "app/dist",
    "app/schemas",
    "app/bin",
    "usr",
    "usr/local",
    "usr/local/bin",
  ];
  folders.push(...stageAssets(def, put));
  for (const dir of folders.map((d) => d.replace(/^\//, "")))
    if (existsSync(join(root, dir))) chmodSync(join(root, dir), 0o755);
  chmodSync(root, 0o755);
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
  if (def.binary)
    await goBuild(join(sourcesDir, def.folder), join(root, def.binary), inputs, tools);
  const tool = findPinnedTool(def, inputs.version, tools.env);
  if (def.pinnedTool && tool) {
    const target = join(root, def.pinnedTool.path);
    makeDir(dirname(target));
    copyFileSync(tool.path, target);
    chmodSync(target, 0o755);
    if (sha256File(target) !== inputs.pinnedTool?.sha256) {
      throw new ImageBuildError(`${tool.path} changed while the ${def.name} image was built`);
    }
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
  readonly unpackedBytes: number;
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
  await umoci(["init", "--layout", layout]);
  await umoci(["new", "--image", image]);
  const def = inputs.definition;
  const layers: [string | undefined, string][] = [
    [staged.base, "busybox from Debian's busybox-static, /etc/passwd, /etc/group, /tmp"],
    [
      staged.debs,
      def.nodeBase
        ? `Node.js base: the Debian packages pinned in hack/images/${def.folder}`
        : `Debian packages of hack/images/${def.folder}`,
    ],
    [
      staged.app,
      def.service
        ? `services/${def.service} ${inputs.version}`
        : `hack/images/${def.folder} ${inputs.version}`,
    ],
  ];
  for (const [i, [dir, what]] of layers.entries()) {
    if (!dir) continue;
    const tar = join(dirname(layout), `layer-${String(i)}.tar`);
    await writeLayerTar(dir, tar, tools);
    await umoci([
      "raw",
      "add-layer",
      "--image",
      image,
      "--history.created",
      EPOCH,
      "--history.created_by",
      `kubeplus-dev images build: ${what}`,
      tar,
    ]);
    rmSync(tar, { force: true });
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
  const unpacked = manifest.layers.map(
    (l) => gunzipSync(readFileSync(join(layout, "blobs", ...l.digest.split(":")))).length,
  );
  return {
    digest,
    layerBytes: manifest.layers.reduce((n, l) => n + l.size, 0),
    unpackedBytes: unpacked.reduce((n, b) => n + b, 0),
  };
}

/**
 * One layer's tar, made by GNU tar from the staged folder: entries sorted by name, owned by root (whoever builds),
 * times as staged (1970-01-01), pax headers only where a name or size needs one and without atime, ctime or a
 * process id in their names, so equal folders give equal tars. Not `umoci insert`: umoci 0.4.7's own tar writer can
 * end a layer early, cutting the tail of its last file (the helmer's helm lost its last 162 bytes; umoci issue #436),
 * which Go's tar reader takes for a clean end. `umoci raw add-layer` then adds the tar verbatim, gzip-compressed.
 */
async function writeLayerTar(dir: string, tar: string, tools: Toolbox): Promise<void> {
  const entries = readdirSync(dir).sort();
  await output(tools.tar, [
    "--sort=name",
    "--format=pax",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
    "--mtime=@0",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "-cf",
    tar,
    "-C",
    dir,
    ...entries,
  ]);
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

interface BuildSettings {
  readonly cacheDir: string;
  readonly debsDir: string;
  readonly sourcesDir: string;
  readonly report: (line: string) => void;
}

/**
 * The Node.js base layer: the lock's .debs (fetched into the store when missing), unpacked and completed, and the
 * official Node.js build at /usr/bin/node.
 */
async function stageNodeBaseLayer(
  root: string,
  inputs: BuildInputs,
  settings: BuildSettings,
  node: string,
): Promise<void> {
  const folder = join(settings.sourcesDir, inputs.definition.folder);
  const { file, pinned } = nodeBaseLock(folder, inputs.platform.architecture);
  const sourcesList = join(folder, "sources.list");
  const aptKey = createHash("sha256").update(readFileSync(sourcesList)).digest("hex").slice(0, 12);
  const store = {
    dir: settings.debsDir,
    aptState: join(settings.debsDir, `apt-${inputs.platform.architecture}-${aptKey}`),
    sourcesList,
    architecture: inputs.platform.architecture,
    report: settings.report,
  };
  const debs = await fetchPinnedDebs(store, pinned, relative(repoRoot, file));
  await stageNodeBase(root, debs, node);
}

/** What staging one image needs. */
interface StageContext {
  readonly inputs: BuildInputs;
  readonly tools: Toolbox;
  readonly settings: BuildSettings;
  readonly prepared: Prepared;
}

/** The Debian layer: the Node.js base, or the folder's package list (mariadb); none without packages. */
async function stageDebLayer(tmp: string, ctx: StageContext): Promise<string | undefined> {
  const { inputs, tools, settings, prepared } = ctx;
  if (!inputs.debs) return undefined;
  const dir = join(tmp, "debs");
  if (inputs.definition.nodeBase) {
    if (!prepared.node)
      throw new ImageBuildError(`${inputs.definition.name}: no Node.js was prepared`);
    await stageNodeBaseLayer(dir, inputs, settings, prepared.node.path);
  } else await stageDebs(dir, inputs.debs, tools, settings.debsDir);
  return dir;
}

/** The program layer: a service (bundle, schemas, helm, forwarder) or the folder's program, files and folders. */
async function stageAppLayer(tmp: string, ctx: StageContext): Promise<string | undefined> {
  const def = ctx.inputs.definition;
  if (!(def.binary ?? def.folders ?? def.files ?? def.service ?? def.pinnedTool)) return undefined;
  const dir = join(tmp, "app");
  if (def.service) await stageService(dir, ctx.inputs, ctx.tools, ctx.prepared);
  else await stageProgram(dir, ctx.inputs, ctx.tools, ctx.settings.sourcesDir);
  return dir;
}

/** Up to three layer folders under `tmp`: busybox, Debian packages (or the Node.js base), the program and files. */
async function stageLayers(
  tmp: string,
  ctx: StageContext,
): Promise<{ base?: string; debs?: string; app?: string }> {
  const base = ctx.inputs.definition.busybox ? join(tmp, "base") : undefined;
  if (base) stageBusybox(base, ctx.tools);
  return { base, debs: await stageDebLayer(tmp, ctx), app: await stageAppLayer(tmp, ctx) };
}

async function buildOne(
  def: ImageDefinition,
  tools: Toolbox,
  options: BuildSettings,
): Promise<BuiltImage> {
  const started = Date.now();
  const tmp = join(options.cacheDir, `.tmp-${def.name}-${randomBytes(6).toString("hex")}`);
  makeDir(tmp);
  try {
    const prepared = await prepareService(def, tmp, tools.env);
    const inputs = def.service
      ? await gatherServiceInputs(
          { ...def, service: def.service },
          tools,
          options.sourcesDir,
          prepared,
        )
      : await gatherInputs(def, tools, options.sourcesDir);
    const key = cacheKey(inputs);
    const dir = join(options.cacheDir, `${def.name}-${inputs.version}-${key}`);
    const cached = readCached(dir);
    pruneCache(options.cacheDir, def.name, dir);
    if (cached) return cached;
    const staged = await stageLayers(tmp, { inputs, tools, settings: options, prepared });
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
      unpackedBytes: assembled.unpackedBytes,
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

/** The definitions a build makes: `only` (of either list), else the service images, else the nodes' images. */
export function selectImages(
  options: Pick<BuildImagesOptions, "only" | "all" | "services">,
): ImageDefinition[] {
  const only = options.only ?? [];
  const known = [...IMAGES, ...SERVICE_IMAGES];
  const unknown = only.filter((n) => !known.some((d) => d.name === n));
  if (unknown.length > 0) {
    throw new ImageBuildError(
      `unknown image ${unknown.join(", ")}; the images are: ${known.map((d) => d.name).join(", ")}`,
    );
  }
  if (only.length > 0) return known.filter((d) => only.includes(d.name));
  if (options.services === true) return [...SERVICE_IMAGES];
  return IMAGES.filter((d) => options.all === true || d.optional !== true);
}

/**
 * Builds every image (or `only` those), reusing what the cache already holds for the same inputs, and returns
 * their references and archives in IMAGES order. Needs Go, umoci, GNU tar and a static busybox.
 */
export async function buildImages(options: BuildImagesOptions): Promise<BuiltImage[]> {
  const defs = selectImages(options);
  const cacheDir = options.cacheDir ?? imagesCacheDir(options.env);
  makeDir(cacheDir);
  const tools = await findTools(options.env);
  const settings: BuildSettings = {
    cacheDir,
    debsDir: options.debsDir ?? join(cacheDir, "debs"),
    sourcesDir: options.sourcesDir ?? join(repoRoot, "hack", "images"),
    report: options.report ?? ((): void => undefined),
  };
  const built: BuiltImage[] = [];
  for (const def of defs) built.push(await buildOne(def, tools, settings));
  return built;
}

/**
 * Rewrites the Node.js base's lock (hack/images/nodejs/packages-<arch>.lock) with what Debian offers now for the
 * same packages (apt-get update of the build's private lists first), keeping its comment lines. Returns the
 * packages whose version changed. The next build fetches and checks the new .debs.
 */
export async function lockNodeBase(options: {
  readonly env: NodeJS.ProcessEnv;
  readonly cacheDir?: string;
  readonly sourcesDir?: string;
  readonly report?: (line: string) => void;
}): Promise<{ file: string; changed: PinnedDeb[] }> {
  const architecture = hostPlatform().architecture;
  const sourcesDir = options.sourcesDir ?? join(repoRoot, "hack", "images");
  const folder = join(sourcesDir, "nodejs");
  const { file, pinned } = nodeBaseLock(folder, architecture);
  const sourcesList = join(folder, "sources.list");
  const aptKey = createHash("sha256").update(readFileSync(sourcesList)).digest("hex").slice(0, 12);
  const debsDir = join(options.cacheDir ?? imagesCacheDir(options.env), "debs");
  const store = {
    dir: debsDir,
    aptState: join(debsDir, `apt-${architecture}-${aptKey}`),
    sourcesList,
    architecture,
    report: options.report ?? ((): void => undefined),
  };
  await updateAptLists(store);
  const now = await candidateDebs(
    store,
    pinned.map((p) => p.name),
  );
  const text = readFileSync(file, "utf8");
  writeFileSync(file, formatDebLock(lockHeader(text), now));
  const changed = now.filter(
    (n) => !pinned.some((p) => p.name === n.name && p.sha256 === n.sha256),
  );
  return { file, changed };
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

/** One line per reference: REF, DIGEST, SIZE (the archive), UNPACKED (the layers), ARCHIVE (what `images build` prints). */
export function formatImages(images: readonly BuiltImage[]): string {
  const mib = (bytes: number | undefined): string =>
    bytes === undefined ? "?" : `${(bytes / 2 ** 20).toFixed(1)}MiB`;
  const rows = images.flatMap((i) =>
    i.refs.map((ref) => [
      ref,
      i.digest.slice(0, 19),
      mib(i.archiveBytes),
      mib(i.unpackedBytes as number | undefined),
      i.archive,
    ]),
  );
  const head = ["REF", "DIGEST", "SIZE", "UNPACKED", "ARCHIVE"];
  const widths = [0, 1, 2, 3].map((c) =>
    Math.max(...[head, ...rows].map((r) => (r[c] ?? "").length)),
  );
  const line = (r: readonly string[]): string =>
    `${r.map((v, c) => (c < 4 ? v.padEnd((widths[c] ?? 0) + 2) : v)).join("")}\n`;
  return [head, ...rows].map(line).join("");
}
