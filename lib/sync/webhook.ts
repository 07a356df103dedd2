import type { KubeConfig } from '@kubernetes/client-node';
import { toRegistryError } from '../errors.ts';
import { MCPRegistrySpec } from '../kube/mcpregistry-spec.ts';
import type { KubeObject } from '../kube/objects.ts';
import { createKubeSecretReader } from '../kube/secrets.ts';
import { silentLogger, type Logger } from '../log.ts';
import { NO_TELEMETRY, type Telemetry } from '../telemetry/telemetry.ts';
import { createReplayGuard, deliveryIdOf, SIGNATURE_HEADER, signatureValid } from './webhook-signature.ts';

/**
 * `POST /webhooks/{namespace}/{name}`: a signed request syncs the registry now. Every refusal
 * is the same 401 (a registry without a webhook, a missing one, a bad signature), so that the
 * endpoint does not tell which registries exist; nothing is read from the body.
 */

export interface WebhookAnswer {
  status: number;
  text: string;
}

export interface WebhookDeps {
  kubeConfig: KubeConfig;
  getRegistry(namespace: string, name: string): Promise<KubeObject | null>;
  /** syncs the registry now; the outcome of its first pass */
  sync(namespace: string, name: string): Promise<string>;
  log?: Logger;
  telemetry?: Telemetry;
  replayMemory?: number;
}

export type WebhookHandler = (ref: { namespace: string; name: string }, headers: Record<string, string | string[] | undefined>, body: Uint8Array, peer: string) => Promise<WebhookAnswer>;

export function createWebhookHandler(deps: WebhookDeps): WebhookHandler {
  const log = deps.log ?? silentLogger;
  const tel = deps.telemetry ?? NO_TELEMETRY;
  const replays = createReplayGuard(deps.replayMemory);

  return async ({ namespace, name }, headers, body, peer) => {
    const registry = `${namespace}/${name}`;
    const delivery = deliveryIdOf(headers);
    const audit = (outcome: 'accepted' | 'refused', reason: string) =>
      tel.audit.record({ actor: peer, action: 'webhook.receive', resource: `mcpregistries/${registry}`, outcome, reason, ...(delivery ? { requestId: delivery } : {}) });
    const refuse = (why: string): WebhookAnswer => {
      log.warn('webhook refused', { registry, reason: why });
      audit('refused', why);
      return { status: 401, text: 'signature missing or not valid for this registry' };
    };
    const object = await deps.getRegistry(namespace, name);
    const parsed = object ? MCPRegistrySpec.safeParse(object.spec) : undefined;
    const secretRef = parsed?.success ? parsed.data.syncPolicy.webhook?.secretRef : undefined;
    if (!secretRef) return refuse(object ? 'the registry has no spec.syncPolicy.webhook' : 'no such registry');
    const presented = headers[SIGNATURE_HEADER];
    if (typeof presented !== 'string') return refuse(`no ${SIGNATURE_HEADER} header`);
    let secret: string;
    try {
      secret = await createKubeSecretReader(deps.kubeConfig, namespace).read(secretRef.name, secretRef.key);
    } catch (e) {
      return refuse(`webhook secret unreadable: ${toRegistryError(e).message}`);
    }
    if (!signatureValid(body, presented, secret)) return refuse('signature does not match the body');
    if (delivery && !replays.first(registry, delivery)) {
      log.info('webhook delivery replayed: ignored', { registry, delivery });
      audit('refused', 'delivery id seen before (replay)');
      return { status: 200, text: 'delivery seen before: ignored' };
    }
    audit('accepted', 'signature valid');
    const outcome = await deps.sync(namespace, name);
    return { status: 200, text: `sync ${outcome}` };
  };
}
