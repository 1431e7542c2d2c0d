import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";

export interface Entry {
  name: string;
  content?: string;
  type?: "file" | "directory" | "symlink" | "link" | "character-device" | "fifo";
  linkname?: string;
  size?: number;
}

/** Builds a gzip-compressed tar archive in memory from entries (for hostile-archive tests). */
export async function makeArchive(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve) => {
    p.on("end", () => {
      resolve();
    });
  });
  for (const e of entries) {
    const type = e.type ?? "file";
    if (type === "file") {
      p.entry({ name: e.name, type }, e.content ?? "");
    } else {
      p.entry({ name: e.name, type, ...(e.linkname ? { linkname: e.linkname } : {}) });
    }
  }
  p.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

export const chartYaml = (name: string, version = "0.1.0"): string =>
  `apiVersion: v2\nname: ${name}\nversion: ${version}\n`;

/** A minimal valid chart archive named `name`, plus any extra entries. */
export function minimalChart(name: string, extra: Entry[] = []): Promise<Buffer> {
  return makeArchive([
    { name: `${name}/Chart.yaml`, content: chartYaml(name) },
    { name: `${name}/values.yaml`, content: "greeting: hi\n" },
    {
      name: `${name}/templates/cm.yaml`,
      content: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
    },
    ...extra,
  ]);
}
