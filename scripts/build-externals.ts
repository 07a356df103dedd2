/**
 * What the bundles leave out: ssh2's optional native parts (its crypto binding and
 * cpu-features) are not built (their install scripts are denied in package.json) and not
 * bundled; ssh2 requires them inside try/catch and falls back to Node's own crypto, which is
 * what the bundle then uses. Shared by scripts/build.ts and the Dockerfile test's bundling.
 */
export const BUNDLE_EXTERNALS = ['cpu-features', '*.node'];
