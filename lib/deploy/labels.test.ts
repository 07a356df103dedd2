import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fullValueAnnotation, isValidLabelValue, LABELS, registryLabels, registryOfLabels, sanitizeLabelValue } from './labels.ts';

describe('label values', () => {
  it('keeps valid values as they are', () => {
    for (const v of ['github', 'Official', 'a.b_c-d', 'x', 'a'.repeat(63)]) assert.equal(sanitizeLabelValue(v), v);
  });

  it('shortens long names deterministically with a hash suffix, within 63 characters', () => {
    const long = `io.github.example/${'very-long-server-name-'.repeat(5)}end`;
    const a = sanitizeLabelValue(long);
    assert.equal(a, sanitizeLabelValue(long), 'deterministic');
    assert.ok(a.length <= 63, a);
    assert.ok(isValidLabelValue(a), a);
    assert.match(a, /^io\.github\.example-very-long-server-name-.*-[0-9a-f]{10}$/);
    // two long names with the same beginning stay apart
    assert.notEqual(sanitizeLabelValue(`${long}-x`), a);
  });

  it('rewrites unicode and punctuation, and tells apart names that clean up the same', () => {
    const cases = ['café-server', 'データベース', 'a/b', 'io.github.stacklok/github', '@scope/pkg', 'Data & Analytics', '--weird--', 'trailing.'];
    const seen = new Set<string>();
    for (const v of cases) {
      const s = sanitizeLabelValue(v);
      assert.ok(isValidLabelValue(s), `${v} → ${s}`);
      assert.ok(!seen.has(s), `${v} collides`);
      seen.add(s);
    }
    assert.match(sanitizeLabelValue('café-server'), /^cafe-server-[0-9a-f]{10}$/);
    assert.match(sanitizeLabelValue('データベース'), /^[0-9a-f]{10}$/);
    assert.match(sanitizeLabelValue('Data & Analytics'), /^Data-Analytics-[0-9a-f]{10}$/);
    assert.notEqual(sanitizeLabelValue('a/b'), sanitizeLabelValue('a:b'));
  });

  it('gives the five labels, with the full value of a shortened one in an annotation, and reads them back', () => {
    const { labels, annotations } = registryLabels({
      registry: { namespace: 'team-a', name: 'toolhive' },
      serverName: 'io.github.example/a-server-name-that-is-far-too-long-for-a-label-value-x',
      tier: 'Official',
      category: 'Data & Analytics',
    });
    assert.equal(labels[LABELS.registryName], 'toolhive');
    assert.equal(labels[LABELS.registryNamespace], 'team-a');
    assert.equal(labels[LABELS.tier], 'Official');
    assert.ok(isValidLabelValue(labels[LABELS.serverName]!));
    assert.ok(isValidLabelValue(labels[LABELS.category]!));
    assert.equal(annotations[fullValueAnnotation(LABELS.category)], 'Data & Analytics');
    assert.equal(annotations[fullValueAnnotation(LABELS.serverName)], 'io.github.example/a-server-name-that-is-far-too-long-for-a-label-value-x');
    assert.equal(annotations[fullValueAnnotation(LABELS.tier)], undefined, 'valid values need no annotation');
    assert.deepEqual(registryOfLabels({ labels, annotations }), { namespace: 'team-a', name: 'toolhive', serverName: 'io.github.example/a-server-name-that-is-far-too-long-for-a-label-value-x' });
    assert.equal(registryOfLabels({ labels: { app: 'x' } }), undefined);
  });

  it('sanitises odd tiers and categories too: unicode, punctuation, over 63 characters', () => {
    const tier = 'Community — unverified (β)';
    const category = `Données/Analyse & ${'visualisation '.repeat(6)}`;
    const { labels, annotations } = registryLabels({ registry: { namespace: 'ns', name: 'r' }, serverName: 's', tier, category });
    for (const key of [LABELS.tier, LABELS.category]) {
      assert.ok(isValidLabelValue(labels[key]!), `${key}: ${labels[key]}`);
      assert.ok(labels[key]!.length <= 63);
    }
    assert.match(labels[LABELS.tier]!, /^Community-unverified-[0-9a-f]{10}$/);
    assert.match(labels[LABELS.category]!, /^Donnees-Analyse-visualisation-.*-[0-9a-f]{10}$/);
    assert.equal(annotations[fullValueAnnotation(LABELS.tier)], tier);
    assert.equal(annotations[fullValueAnnotation(LABELS.category)], category);
    assert.equal(registryLabels({ registry: { namespace: 'ns', name: 'r' }, serverName: 's', tier, category }).labels[LABELS.category], labels[LABELS.category], 'deterministic');
  });

  it('leaves out tier and category when the entry has none', () => {
    const { labels } = registryLabels({ registry: { namespace: 'd', name: 'r' }, serverName: 's' });
    assert.deepEqual(Object.keys(labels).sort(), [LABELS.registryName, LABELS.registryNamespace, LABELS.serverName].sort());
  });
});
