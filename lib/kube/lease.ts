import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { apiError } from './registry-client.ts';
import { tracedApi } from './traced-api.ts';

/**
 * One sync per registry at a time, across replicas and duplicate deliveries: a
 * coordination.k8s.io Lease per registry in the function's namespace. A lease whose
 * renewTime + leaseDurationSeconds has passed is stale and may be taken over (its holder
 * died mid-sync). Taking and releasing use optimistic concurrency (resourceVersion), so two
 * contenders can never both win. Within one process (one identity), a lease this locker holds
 * is never handed out twice: concurrent events for the same registry get `null` too.
 */

export interface LeaseOptions {
  namespace: string;
  /** who holds it: pod name plus a random suffix */
  identity: string;
  /** a held lease expires after this long without renewal (should exceed the sync deadline) */
  durationSeconds: number;
  now: () => Date;
}

export interface Lock {
  release(): Promise<void>;
  /** deletes the lease (its registry is gone), unless someone else took it meanwhile */
  remove(): Promise<void>;
}

/** DNS-1123 name for a registry's lease: readable prefix plus a hash (names are bounded). */
export function leaseName(namespace: string, name: string): string {
  const hash = createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 10);
  const readable = `${namespace}-${name}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40).replace(/-+$/, '');
  return `mcpreg-sync-${readable}-${hash}`;
}

function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function createLeaseLocker(kubeConfig: KubeConfig, options: LeaseOptions) {
  const api = tracedApi(kubeConfig.makeApiClient(CoordinationV1Api), 'leases');
  const { namespace, identity } = options;
  // leases held by this locker right now: the same identity must not win a lease it holds
  const heldHere = new Set<string>();

  function expired(lease: V1Lease, now: Date): boolean {
    const spec = lease.spec;
    if (!spec?.holderIdentity) return true;
    const renewed = spec.renewTime ?? spec.acquireTime;
    if (!renewed) return true;
    const duration = (spec.leaseDurationSeconds ?? options.durationSeconds) * 1000;
    return new Date(renewed).getTime() + duration <= now.getTime();
  }

  /** Takes the lease of one registry, or returns null when another holder has it. */
  async function acquire(registryNamespace: string, registryName: string): Promise<Lock | null> {
    const name = leaseName(registryNamespace, registryName);
    if (heldHere.has(name)) return null;
    heldHere.add(name);
    try {
      const lock = await take(name, registryNamespace, registryName);
      if (!lock) heldHere.delete(name);
      return lock;
    } catch (e) {
      heldHere.delete(name);
      throw e;
    }
  }

  async function take(name: string, registryNamespace: string, registryName: string): Promise<Lock | null> {
    const now = options.now();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: options.durationSeconds,
      acquireTime: microTime(now) as unknown as Date,
      renewTime: microTime(now) as unknown as Date,
    };
    let held: V1Lease;
    try {
      let current: V1Lease | null = null;
      try {
        current = await api.readNamespacedLease({ name, namespace });
      } catch (e) {
        if (apiError(e, `get lease ${namespace}/${name}`).code !== 'not_found') throw e;
      }
      if (!current) {
        held = await api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace, labels: { 'toolhive.stacklok.io/registry-namespace': registryNamespace.slice(0, 63), 'toolhive.stacklok.io/registry-name': registryName.slice(0, 63) } },
            spec,
          },
        });
      } else {
        if (!expired(current, now) && current.spec?.holderIdentity !== identity) return null;
        held = await api.replaceNamespacedLease({
          name,
          namespace,
          body: { ...current, spec: { ...current.spec, ...spec, leaseTransitions: (current.spec?.leaseTransitions ?? 0) + 1 } },
        });
      }
    } catch (e) {
      const err = apiError(e, `take lease ${namespace}/${name}`);
      // someone else created or updated it between our read and write: they won
      if (err.code === 'conflict' || (err.code === 'invalid_argument' && /already exists/i.test(err.message))) return null;
      const status = (e as { code?: unknown }).code;
      if (status === 409) return null;
      throw err;
    }
    return {
      async release() {
        heldHere.delete(name);
        try {
          await api.replaceNamespacedLease({
            name,
            namespace,
            body: { ...held, spec: { ...held.spec, holderIdentity: undefined, renewTime: undefined, acquireTime: undefined } },
          });
        } catch {
          // a lease we cannot release expires by itself after durationSeconds
        }
      },
      async remove() {
        heldHere.delete(name);
        try {
          // the precondition keeps a lease someone took since (a new registry of that name)
          await api.deleteNamespacedLease({ name, namespace, body: { preconditions: { resourceVersion: held.metadata?.resourceVersion } } });
        } catch {
          // gone already, or taken: it expires by itself, and the next cleanup removes it
        }
      },
    };
  }

  return { acquire };
}

export type LeaseLocker = ReturnType<typeof createLeaseLocker>;
