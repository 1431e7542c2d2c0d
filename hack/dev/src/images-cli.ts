import { buildImages, formatImages } from "./images.js";

export interface ImagesCommandOptions {
  readonly only?: readonly string[];
  readonly json?: boolean;
  readonly all?: boolean;
  readonly env: NodeJS.ProcessEnv;
}

/** `kubeplus-dev images build [--only NAME]... [--all] [--json]`: builds what is missing, prints every reference. */
export async function imagesCommand(
  rest: readonly string[],
  options: ImagesCommandOptions,
): Promise<number> {
  const [action] = rest;
  if (action !== "build") throw new Error("images needs an action: build");
  const images = await buildImages({
    env: options.env,
    only: options.only,
    all: options.all,
    report: (line) => process.stderr.write(`[images] ${line}\n`),
  });
  process.stdout.write(
    options.json ? `${JSON.stringify(images, null, 2)}\n` : formatImages(images),
  );
  return 0;
}
