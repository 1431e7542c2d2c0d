import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import { PLUGINS } from "./plugins.js";

/** What the krew manifest describes: the bundle's tarball, where it is published, and its version. */
export interface KrewBundle {
  /** The tarball's sha256, hex (krew checks it before installing). */
  readonly sha256: string;
  /** Where krew downloads the tarball from (a release URL; `--archive` overrides it for a local file). */
  readonly uri: string;
  /** semver with a leading v, as krew requires. */
  readonly version: string;
  /** The folder inside the tarball that holds the executables (bin/plugins is packed as plugins/). */
  readonly folder: string;
}

/** A plugin's name in krew: the executable's name without `kubectl-` (krew links it as kubectl-<name>). */
export const krewName = (command: string): string => command.replace(/^kubectl-/, "");

/**
 * The krew manifests of the bundle: one `Plugin` document per executable, because krew installs exactly one `bin`
 * per Plugin (one plugin per manifest). Each document points at the same tarball and its sha256 and takes its own
 * executable plus the package.json that marks the folder CommonJS. The generic names (appresources, man, metrics,
 * license...) are the original's, kept so that existing scripts keep working.
 */
export function krewManifests(bundle: KrewBundle): object[] {
  return PLUGINS.map(({ command, usage, summary }) => ({
    apiVersion: "krew.googlecontainertools.github.com/v1alpha2",
    kind: "Plugin",
    metadata: { name: krewName(command) },
    spec: {
      version: bundle.version,
      homepage: "https://github.com/cloud-ark/kubeplus",
      shortDescription: `KubePlus: ${summary}`.slice(0, 100),
      description: `${usage}\n\n${summary}. Part of the KubePlus kubectl plugins (needs Node >= 20.19 on PATH). The name is the original KubePlus plugin's, kept for compatibility.\n`,
      caveats: "Needs Node >= 20.19 on PATH. Run with --help for usage and exit codes.\n",
      platforms: [
        {
          selector: {
            matchExpressions: [{ key: "os", operator: "In", values: ["linux", "darwin"] }],
          },
          uri: bundle.uri,
          sha256: bundle.sha256,
          files: [
            { from: `${bundle.folder}/${command}`, to: "." },
            { from: `${bundle.folder}/package.json`, to: "." },
          ],
          bin: command,
        },
      ],
    },
  }));
}

/** The manifests as one multi-document YAML file. */
export function krewManifestText(bundle: KrewBundle): string {
  return krewManifests(bundle)
    .map((doc) => stringify(doc))
    .join("---\n");
}

/**
 * Hashes the tarball as built and writes the krew manifest beside it. `uri` is where a release publishes the tarball
 * ($KUBEPLUS_PLUGINS_URI); without one it is the local file, to install with `kubectl krew install --manifest ...
 * --archive <tarball>`.
 */
export async function writeKrewManifest(
  tarball: string,
  out: string,
  options: { uri?: string | undefined; version: string; folder: string },
): Promise<string> {
  const sha256 = createHash("sha256")
    .update(await readFile(tarball))
    .digest("hex");
  const version = options.version.startsWith("v") ? options.version : `v${options.version}`;
  await writeFile(
    out,
    krewManifestText({
      sha256,
      uri: options.uri ?? `file://${tarball}`,
      version,
      folder: options.folder,
    }),
  );
  return out;
}
