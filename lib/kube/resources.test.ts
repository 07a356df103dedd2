import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION, guessPlural, MCP_REGISTRY, RESOURCES } from './resources.ts';

describe('guessPlural (Kubernetes UnsafeGuessKindToResource, as Knative ApiServerSource uses it)', () => {
  it('derives plurals the way apimachinery does', () => {
    assert.equal(guessPlural('MCPRegistry'), 'mcpregistries');
    assert.equal(guessPlural('ConfigMap'), 'configmaps');
    assert.equal(guessPlural('Ingress'), 'ingresses');
    assert.equal(guessPlural('Endpoints'), 'endpointses'); // the guess is naive, which is why plurals must match it
    assert.equal(guessPlural('MCPRegistrySyncJob'), 'mcpregistrysyncjobs');
    assert.equal(guessPlural(''), '');
  });

  it('every resource of this project uses the guessed plural and a lower-cased singular', () => {
    for (const r of RESOURCES) {
      assert.equal(r.plural, guessPlural(r.kind));
      assert.equal(r.singular, r.kind.toLowerCase());
      assert.equal(r.listKind, `${r.kind}List`);
    }
    assert.deepEqual(MCP_REGISTRY.shortNames, ['mcpreg']);
    assert.equal(API_VERSION, 'toolhive.stacklok.io/v1alpha1');
  });
});
