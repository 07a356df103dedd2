/** The broken-registry suite (broken-registry-suite.ts) on the filesystem store. */
import { brokenRegistrySuite } from './broken-registry-suite.ts';
import { tempStore } from './harness.ts';

brokenRegistrySuite('fs store', async () => {
  const { store, cleanup } = await tempStore();
  return { store, query: async () => store, cleanup };
});
