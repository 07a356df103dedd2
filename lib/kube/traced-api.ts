/**
 * A Kubernetes API client of @kubernetes/client-node whose calls are client spans
 * (`k8s getNamespacedCustomObject`, …) when a span is active: the real client does every
 * request; this only times the calls our code makes through it. Attributes name the method
 * and the resource, never a request body.
 */
import { outgoing } from '../telemetry/outgoing.ts';

export function tracedApi<T extends object>(api: T, resource: string): T {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const tracing = outgoing();
        if (!tracing.enabled) return method.apply(target, args);
        return tracing.child(`k8s ${property}`, { 'rpc.system': 'kubernetes', 'rpc.method': property, 'mcpreg.kube.resource': resource }, async (span) => {
          try {
            return await (method.apply(target, args) as Promise<unknown>);
          } catch (e) {
            const code = (e as { code?: unknown })?.code;
            if (typeof code === 'number') span.setAttributes({ 'http.response.status_code': code });
            span.fail(typeof code === 'number' ? `HTTP ${code}` : 'request failed');
            throw e;
          }
        });
      };
    },
  });
}
