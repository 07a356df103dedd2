/**
 * The conformance suite (conformance-suite.ts) against a registry built from the real
 * fixtures, published into a real filesystem store.
 */
import { fixtureEntries, publishEntries } from './fixture.ts';
import { conformanceSuite } from './conformance-suite.ts';
import { startQuery, tempStore } from './harness.ts';

const REF = { namespace: 'mcp', name: 'official-like' };

conformanceSuite(async () => {
  const t = await tempStore();
  const entries = fixtureEntries();
  await publishEntries(t.store, REF, entries);
  const api = await startQuery({ store: t.store, env: { MCPREG_DEFAULT_REGISTRY: `${REF.namespace}/${REF.name}` } });
  return {
    api,
    ref: REF,
    entries,
    async close() {
      await api.close();
      await t.cleanup();
    },
  };
});
