/** The oldest Node.js the plugins support (the repository's engines field; the README names it). */
export const NODE_REQUIRED = ">=20.19.0";

/**
 * What `kubectl kubeplus version` reports: the bundle's version (`make plugins` defines
 * process.env.KUBEPLUS_PLUGINS_VERSION from cli/package.json at bundle time; a build run straight from cli/dist has
 * none and says so) and the Node.js that runs the plugins.
 */
export function pluginsVersion(
  node: string,
  v: string | undefined,
): {
  plugins: string;
  node: string;
  nodeRequired: string;
} {
  return { plugins: v ? `v${v}` : "development build", node, nodeRequired: NODE_REQUIRED };
}
