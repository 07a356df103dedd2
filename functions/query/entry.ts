/**
 * The query function's executable (the bundle's dist/query.js): enables Node's on-disk
 * compile cache that the build wrote beside the bundle (dist/compile-cache, see
 * scripts/compile-cache.ts), then loads the function (main.ts). Compiling the modules of a
 * cold start from V8's cached data instead of their source saves part of the module loading
 * of every scale-from-zero start. A cache of another Node.js build is ignored (the modules are
 * compiled as without one); NODE_DISABLE_COMPILE_CACHE=1 turns it off, NODE_COMPILE_CACHE=dir
 * uses another directory.
 */
const { enableCompileCache } = process.getBuiltinModule('node:module');
enableCompileCache({ directory: `${import.meta.dirname}/compile-cache`, portable: true });
await import('./main.ts');
