import { buildImages, formatImages, lockNodeBase } from "./images.js";

export interface ImagesCommandOptions {
  readonly only?: readonly string[];
  readonly json?: boolean;
  readonly all?: boolean;
  readonly services?: boolean;
  readonly env: NodeJS.ProcessEnv;
}

const report = (line: string): void => {
  process.stderr.write(`[images] ${line}\n`);
};

/**
 * `kubeplus-dev images build [--only NAME]... [--all] [--services] [--json]`: builds what is missing, prints every
 * reference. `kubeplus-dev images lock`: pins the Node.js base's Debian packages to what Debian offers now.
 */
export async function imagesCommand(
  rest: readonly string[],
  options: ImagesCommandOptions,
): Promise<number> {
  const [action] = rest;
  if (action === "lock") {
    const { file, changed } = await lockNodeBase({ env: options.env, report });
    const what = changed.map((p) => `${p.name} ${p.version}`).join(", ");
    report(changed.length > 0 ? `${file}: now ${what}` : `${file}: unchanged`);
    return 0;
  }
  if (action !== "build") throw new Error("images needs an action: build or lock");
  const images = await buildImages({
    env: options.env,
    only: options.only,
    all: options.all,
    services: options.services,
    report,
  });
  process.stdout.write(
    options.json ? `${JSON.stringify(images, null, 2)}\n` : formatImages(images),
  );
  return 0;
}
