import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  clampTimes,
  errorText,
  ImageBuildError,
  makeDir,
  output,
  run,
  sha256File,
} from "./images-shell.js";

// Debian packages pinned by version and sha256 in a lock file (hack/images/<folder>/packages.lock), fetched with
// apt-get from the suites of the folder's sources.list through an apt state of the build's own (its own lists and
// cache under the images cache: the machine's apt configuration is neither read nor changed), and unpacked with
// dpkg-deb -x (no maintainer scripts) into the Node.js base layer of the KubePlus service images.

/** One pinned package: what `apt-get download name=version` fetches and the sha256 its .deb must have. */
export interface PinnedDeb {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
}

const LOCK_LINE = /^([a-z0-9][a-z0-9+.-]+)\s+([0-9][A-Za-z0-9.+~:-]*)\s+([0-9a-f]{64})$/;

/** `name version sha256` a line, '#' starts a comment. Throws naming the line that is not one. */
export function parseDebLock(text: string, file: string): PinnedDeb[] {
  const pinned: PinnedDeb[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line.length === 0) return;
    const m = LOCK_LINE.exec(line);
    if (!m?.[1] || !m[2] || !m[3]) {
      throw new ImageBuildError(
        `${file}:${String(i + 1)}: '${line}' is not 'package version sha256' (e.g. nodejs 20.19.2+dfsg-1+deb13u3 <64 hex digits>)`,
      );
    }
    pinned.push({ name: m[1], version: m[2], sha256: m[3] });
  });
  if (pinned.length === 0) throw new ImageBuildError(`${file} pins no package`);
  const names = pinned.map((p) => p.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0)
    throw new ImageBuildError(`${file} pins ${twice.join(", ")} more than once`);
  return pinned;
}

/** The lock file's text: the comment lines kept, then one `name version sha256` line per package. */
export function formatDebLock(header: string, pinned: readonly PinnedDeb[]): string {
  const width = Math.max(...pinned.map((p) => p.name.length));
  const vwidth = Math.max(...pinned.map((p) => p.version.length));
  const lines = pinned.map(
    (p) => `${p.name.padEnd(width)} ${p.version.padEnd(vwidth)} ${p.sha256}`,
  );
  return `${header}${lines.join("\n")}\n`;
}

/** The leading comment lines of a lock file (kept when the lock is rewritten). */
export function lockHeader(text: string): string {
  const lines = text.split("\n");
  const end = lines.findIndex((l) => !l.startsWith("#"));
  return lines
    .slice(0, end < 0 ? lines.length : end)
    .map((l) => `${l}\n`)
    .join("");
}

/**
 * apt options that make apt-get and apt-cache use only `sourcesList` and an apt state of their own under `stateDir`
 * (lists, cache; no dpkg status, no preferences), for one architecture. Root runs downloads as root (the state
 * folder is not the _apt user's).
 */
export function privateAptOptions(
  stateDir: string,
  sourcesList: string,
  architecture: string,
  root: boolean,
): string[] {
  const set = (k: string, v: string): string[] => ["-o", `${k}=${v}`];
  return [
    ...set("Dir::Etc::SourceList", sourcesList),
    ...set("Dir::Etc::SourceParts", join(stateDir, "sources.list.d")),
    ...set("Dir::Etc::Preferences", join(stateDir, "preferences")),
    ...set("Dir::Etc::PreferencesParts", join(stateDir, "preferences.d")),
    ...set("Dir::State::Lists", join(stateDir, "lists")),
    ...set("Dir::State::status", join(stateDir, "status")),
    ...set("Dir::Cache", join(stateDir, "cache")),
    ...set("APT::Architecture", architecture),
    ...set("APT::Architectures", architecture),
    ...set("APT::Get::List-Cleanup", "false"),
    ...(root ? set("APT::Sandbox::User", "root") : []),
  ];
}

export interface DebStore {
  /** <sha256>.deb files, shared by every build (content-addressed, checked). */
  readonly dir: string;
  /** The private apt state (lists and cache) for this sources.list. */
  readonly aptState: string;
  readonly sourcesList: string;
  readonly architecture: string;
  readonly report: (line: string) => void;
}

function aptOptions(store: DebStore): string[] {
  for (const d of ["sources.list.d", "preferences.d", "lists/partial", "cache/archives/partial"])
    makeDir(join(store.aptState, d));
  if (!existsSync(join(store.aptState, "status")))
    writeFileSync(join(store.aptState, "status"), "");
  return privateAptOptions(
    store.aptState,
    store.sourcesList,
    store.architecture,
    process.getuid?.() === 0,
  );
}

/** apt-get update of the private state (the suites of sources.list only). */
export async function updateAptLists(store: DebStore): Promise<void> {
  store.report(`apt-get update (${store.sourcesList})`);
  await output("apt-get", [...aptOptions(store), "-qq", "update"]);
}

/** What the private index offers for each name now: version and sha256 of the candidate. */
export async function candidateDebs(
  store: DebStore,
  names: readonly string[],
): Promise<PinnedDeb[]> {
  const text = await output("apt-cache", [
    ...aptOptions(store),
    "show",
    "--no-all-versions",
    ...names,
  ]);
  const records = text.split(/\n\s*\n/).map((record) => {
    const field = (name: string): string =>
      new RegExp(`^${name}: (.+)$`, "m").exec(record)?.[1]?.trim() ?? "";
    return { name: field("Package"), version: field("Version"), sha256: field("SHA256") };
  });
  return names.map((n) => {
    const found = records.find((r) => r.name === n && r.sha256.length === 64);
    if (!found)
      throw new ImageBuildError(`the suites of ${store.sourcesList} offer no package ${n}`);
    return found;
  });
}

async function tryDownload(
  store: DebStore,
  deb: PinnedDeb,
  dir: string,
): Promise<string | undefined> {
  try {
    await run("apt-get", [...aptOptions(store), "-qq", "download", `${deb.name}=${deb.version}`], {
      cwd: dir,
    });
  } catch (err) {
    const text = errorText(err);
    if (/not found|Unable to locate|no installation candidate/i.test(text)) return undefined;
    throw new ImageBuildError(`apt-get download ${deb.name}=${deb.version} failed: ${text}`);
  }
  return readdirSync(dir).find((f) => f.endsWith(".deb"));
}

/**
 * The .deb of each pinned package in the store, downloaded when missing: apt-get download name=version (after an
 * apt-get update of the private lists when they do not know that version yet), then checked against the pinned
 * sha256. Throws, saying what to write, when Debian no longer offers the pinned version.
 */
export async function fetchPinnedDebs(
  store: DebStore,
  pinned: readonly PinnedDeb[],
  lockFile: string,
): Promise<string[]> {
  makeDir(store.dir);
  let updated = false;
  const files: string[] = [];
  for (const deb of pinned) {
    const file = join(store.dir, `${deb.sha256}.deb`);
    files.push(file);
    if (existsSync(file) && sha256File(file) === deb.sha256) continue;
    const tmp = join(store.dir, `.tmp-${randomBytes(6).toString("hex")}`);
    makeDir(tmp);
    try {
      let got = await tryDownload(store, deb, tmp);
      if (!got && !updated) {
        await updateAptLists(store);
        updated = true;
        got = await tryDownload(store, deb, tmp);
      }
      if (!got) {
        const [now] = await candidateDebs(store, [deb.name]).catch(() => []);
        throw new ImageBuildError(
          `${lockFile} pins ${deb.name} ${deb.version}, which Debian no longer offers` +
            (now ? ` (it offers ${now.version}, sha256 ${now.sha256})` : "") +
            ": run 'node hack/dev/dist/cli.js images lock' to pin what it offers now",
        );
      }
      const sha = sha256File(join(tmp, got));
      if (sha !== deb.sha256) {
        throw new ImageBuildError(
          `${deb.name} ${deb.version} from Debian has sha256 ${sha}, but ${lockFile} pins ${deb.sha256}: refusing it`,
        );
      }
      renameSync(join(tmp, got), file);
      store.report(`fetched ${deb.name} ${deb.version}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return files;
}

/**
 * What the Node.js base drops from the unpacked packages, and why (nothing else is removed):
 * documentation; shell completions and gdb scripts (no shell, no debugger in the image); glibc's iconv modules (Node
 * converts text with ICU, never with iconv: 8 MiB); ICU's io, test and tool libraries (libnode links only i18n, uc
 * and data); glibc's libmvec (vector maths for OpenMP SIMD code: no library or program in the image links it); ca-certificates' update script, its configuration and the single certificates, once the bundle
 * /etc/ssl/certs/ca-certificates.crt is written from them. Also NODE_BASE_REMOVED_SUFFIXES.
 */
export const NODE_BASE_REMOVED = [
  "usr/share/doc",
  "usr/share/man",
  "usr/share/info",
  "usr/share/lintian",
  "usr/share/bash-completion",
  "usr/share/gdb",
  "usr/lib/*/gconv",
  "usr/lib/*/libicuio.so*",
  "usr/lib/*/libicutest.so*",
  "usr/lib/*/libicutu.so*",
  "usr/lib/*/libmvec.so*",
  "usr/share/nodejs/@types",
  "usr/share/gcc",
  "usr/lib/*/libc_malloc_debug.so*",
  "usr/lib/*/libmemusage.so",
  "usr/lib/*/libpcprofile.so",
  "usr/lib/*/libthread_db.so*",
  "usr/lib/*/libBrokenLocale.so*",
  "usr/lib/*/libnsl.so*",
  "usr/lib/*/libnss_compat.so*",
  "usr/lib/*/libnss_hesiod.so*",
  "usr/lib/*/audit",
  "usr/sbin/update-ca-certificates",
  "etc/ca-certificates",
  "usr/share/ca-certificates",
] as const;

/** TypeScript declarations and source maps under /usr/share/nodejs (2.8 MiB): read by editors, never by Node. */
export const NODE_BASE_REMOVED_SUFFIXES = [".d.ts", ".d.mts", ".d.cts", ".map"] as const;

/** /etc/passwd of the Node.js base: root and nonroot (65532), no login shell (there is none). */
export const NODE_BASE_PASSWD = [
  "root:x:0:0:root:/root:/usr/sbin/nologin",
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
  "nonroot:x:65532:65532:nonroot:/tmp:/usr/sbin/nologin",
  "",
].join("\n");
export const NODE_BASE_GROUP = ["root:x:0:", "nobody:x:65534:", "nonroot:x:65532:", ""].join("\n");
/** Names from /etc/hosts first (the kubelet writes it), then DNS: what glibc's getaddrinfo reads. */
export const NSSWITCH = "hosts: files dns\n";

/** The PEM bundle update-ca-certificates would write: every certificate of the folder, by file name. */
export function caBundle(certs: readonly { name: string; pem: string }[]): string {
  return [...certs]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((c) => (c.pem.endsWith("\n") ? c.pem : `${c.pem}\n`))
    .join("");
}

/** Removes what `pattern` names under `root`: path components, `*` for any name, a trailing `*` for a prefix. */
function removeGlob(root: string, pattern: string): void {
  const parts = pattern.split("/");
  const matching = (dir: string, part: string): string[] => {
    if (!part.includes("*")) return [part];
    const prefix = part.slice(0, part.indexOf("*"));
    return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith(prefix)) : [];
  };
  const walk = (dir: string, rest: string[]): void => {
    const [head, ...tail] = rest;
    if (head === undefined) return;
    const names = matching(dir, head);
    for (const name of names) {
      const path = join(dir, name);
      if (tail.length === 0) rmSync(path, { recursive: true, force: true });
      else if (existsSync(path)) walk(path, tail);
    }
  };
  walk(root, parts);
}

/** Removes the files under `dir` (not following links) whose names end with one of `suffixes`. */
function removeBySuffix(dir: string, suffixes: readonly string[]): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) removeBySuffix(path, suffixes);
    else if (suffixes.some((s) => e.name.endsWith(s))) rmSync(path, { force: true });
  }
}

/**
 * The Node.js base layer in `root`: every pinned .deb unpacked (dpkg-deb -x, in lock order), NODE_BASE_REMOVED
 * removed, the CA bundle written, the merged-/usr links (bin, lib, lib64: the ELF interpreter is
 * /lib64/ld-linux-x86-64.so.2), /etc/passwd, /etc/group, /etc/nsswitch.conf and /tmp (1777).
 */
export async function stageNodeBase(
  root: string,
  debs: readonly string[],
  node: string,
): Promise<void> {
  makeDir(root);
  for (const deb of debs) await output("dpkg-deb", ["-x", deb, root]);
  makeDir(join(root, "usr/bin"));
  copyFileSync(node, join(root, "usr/bin/node"));
  // The official build carries its debug information (18 MB of its 127): nothing in a pod reads it.
  await output("strip", ["--strip-all", join(root, "usr/bin/node")]);
  chmodSync(join(root, "usr/bin/node"), 0o755);
  const mozilla = join(root, "usr/share/ca-certificates/mozilla");
  const certs = existsSync(mozilla)
    ? readdirSync(mozilla)
        .filter((f) => f.endsWith(".crt"))
        .map((name) => ({ name, pem: readFileSync(join(mozilla, name), "utf8") }))
    : [];
  if (certs.length === 0) {
    throw new ImageBuildError(
      "the Node.js base has no CA certificates: pin ca-certificates in its packages.lock",
    );
  }
  for (const pattern of NODE_BASE_REMOVED) removeGlob(root, pattern);
  removeBySuffix(join(root, "usr/share/nodejs"), NODE_BASE_REMOVED_SUFFIXES);
  makeDir(join(root, "etc/ssl/certs"));
  const files: [string, string][] = [
    ["etc/ssl/certs/ca-certificates.crt", caBundle(certs)],
    ["etc/passwd", NODE_BASE_PASSWD],
    ["etc/group", NODE_BASE_GROUP],
    ["etc/nsswitch.conf", NSSWITCH],
  ];
  for (const [path, text] of files) {
    writeFileSync(join(root, path), text);
    chmodSync(join(root, path), 0o644);
  }
  for (const link of ["bin", "lib", "lib64"]) {
    if (existsSync(join(root, "usr", link)) && !existsSync(join(root, link)))
      symlinkSync(`usr/${link}`, join(root, link));
  }
  makeDir(join(root, "tmp"), 0o1777);
  chmodSync(root, 0o755);
  clampTimes(root);
}
