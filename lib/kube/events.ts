import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { KubeObject } from './objects.ts';
import { tracedApi } from './traced-api.ts';

/**
 * Kubernetes Events on our resources (`kubectl describe mcpregistry x` shows them). Recording
 * is best effort: a failure to record never fails a sync.
 */

export interface EventRecorder {
  record(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export function createEventRecorder(kubeConfig: KubeConfig, component: string, now: () => Date, onError?: (e: unknown) => void): EventRecorder {
  const api = tracedApi(kubeConfig.makeApiClient(CoreV1Api), 'events');
  return {
    async record(object, type, reason, message) {
      const namespace = object.metadata.namespace ?? 'default';
      const time = now();
      try {
        await api.createNamespacedEvent({
          namespace,
          body: {
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name: `${object.metadata.name}.${time.getTime().toString(16)}${randomBytes(3).toString('hex')}`.slice(0, 253), namespace },
            involvedObject: {
              apiVersion: object.apiVersion,
              kind: object.kind,
              name: object.metadata.name,
              namespace,
              uid: object.metadata.uid,
              resourceVersion: object.metadata.resourceVersion,
            },
            reason,
            message: message.slice(0, 1024),
            type,
            source: { component },
            reportingComponent: component,
            firstTimestamp: time,
            lastTimestamp: time,
            count: 1,
          },
        });
      } catch (e) {
        onError?.(e);
      }
    },
  };
}
