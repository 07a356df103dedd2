import type { RegistryCondition } from './mcpregistry-status.ts';

/**
 * Status conditions as Kubernetes API conventions define them: one entry per type, and
 * `lastTransitionTime` changes only when `status` changes.
 */

/** A `metav1.Condition`, typed from the status schema; `type` is open so jobs can use it too. */
export type Condition = Omit<RegistryCondition, 'type'> & { type: string };
export type ConditionStatus = Condition['status'];

export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

/** Returns a new list with `update` applied; other conditions keep their order. */
export function setCondition(conditions: readonly Condition[] | undefined, update: ConditionUpdate, now: Date): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === update.type);
  const previous = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    previous && previous.status === update.status ? previous.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const next: Condition = { ...update, lastTransitionTime };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Kubernetes condition messages are bounded (32 KiB); keep ours short and readable. */
export function boundMessage(message: string, max = 1024): string {
  return message.length <= max ? message : `${message.slice(0, max - 1)}…`;
}
