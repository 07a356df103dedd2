import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeProtobuf } from './protobuf.ts';

// The SelfSubjectAccessReview body kubectl 1.32 sends for `kubectl auth can-i create configmaps` (captured with -v=8).
const CAN_I = Buffer.from(
  '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f763112175365' +
    '6c665375626a6563744163636573735265766965771245' +
    '0a100a0012001a0022002a00320038004200122' +
    '70a250a0764656661756c74120663726561746' +
    '51a0022002a0a636f6e6669676d6170733200' +
    '3a001a0808001200' +
    '1a0020001a002200',
  'hex',
);

test("kubectl's protobuf SelfSubjectAccessReview decodes to the JSON it stands for", () => {
  assert.deepEqual(decodeProtobuf(CAN_I), {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { namespace: 'default', verb: 'create', resource: 'configmaps' } },
  });
});

test('protobuf bodies that are not Kubernetes envelopes, are truncated, or carry unknown kinds are rejected', () => {
  assert.throws(() => decodeProtobuf(Buffer.from('{"json":true}')), (e: { code: number }) => e.code === 400);
  assert.throws(() => decodeProtobuf(CAN_I.subarray(0, 40)), (e: { code: number }) => e.code === 400);
  const pod = Buffer.concat([Buffer.from('6b387300', 'hex'), Buffer.from([0x0a, 0x09, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x03, 0x50, 0x6f, 0x64])]);
  assert.throws(() => decodeProtobuf(pod), (e: { code: number; message: string }) => e.code === 415 && /v1 Pod/.test(e.message));
});
