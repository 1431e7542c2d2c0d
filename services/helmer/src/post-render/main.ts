#!/usr/bin/env node
/**
 * The helm post-renderer, run by helm as the `kubeplus-pod-policy` plugin: rendered manifests on stdin, the pod
 * policy as a JSON argument, manifests with the policy applied on stdout. A failure exits non-zero, which fails the
 * helm operation (and the instance reports it).
 */
import type { PodPolicy } from "../policy/pod-policy.js";
import { postRender } from "../policy/post-render.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

try {
  const policy = JSON.parse(process.argv[2] ?? "{}") as PodPolicy;
  process.stdout.write(postRender(await readStdin(), policy));
} catch (err) {
  process.stderr.write(
    `kubeplus pod policy: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
}
