import { boundMessage, setCondition, type Condition } from '../kube/conditions.ts';
import type { MCPRegistryStatus } from '../kube/mcpregistry-status.ts';
import type { WorkloadReport } from './reconcile.ts';

/**
 * What a reconciliation report puts in MCPRegistry.status (pure): `workloads` (associated,
 * behind, failed) and the WorkloadsSynced condition — False with reason WorkloadCRDMissing
 * when no workload CRD is installed (deploy, discovery and updates are off; the registry
 * still syncs and serves), WorkloadsFailed when some workload could not be changed.
 */
export function withWorkloadStatus(status: MCPRegistryStatus, report: WorkloadReport | undefined, now: Date, generation: number | undefined): MCPRegistryStatus {
  if (!report) return status;
  let conditions = (status.conditions ?? []) as Condition[];
  const set = (s: Condition['status'], reason: string, message: string) => {
    conditions = setCondition(conditions, { type: 'WorkloadsSynced', status: s, reason, message: boundMessage(message), ...(generation !== undefined ? { observedGeneration: generation } : {}) }, now);
  };
  const out: MCPRegistryStatus = { ...status };
  if (report.off) {
    set('False', report.off.code === 'not_found' ? 'WorkloadCRDMissing' : 'WorkloadsUnavailable', report.off.message);
    delete out.workloads;
  } else {
    out.workloads = { associated: report.associated, behind: report.behind, ...(report.failures.length > 0 ? { failed: report.failures.length } : {}) };
    const missing = report.missingKinds.length > 0 ? `; the ${report.missingKinds.join(', ')} CRD is not installed, so those are off` : '';
    if (report.failures.length > 0) {
      set('False', 'WorkloadsFailed', `${report.failures.length} workload${report.failures.length === 1 ? '' : 's'} not reconciled, retried at the next sync: ${report.failures.slice(0, 5).map((f) => `${f.workload}: ${f.message}`).join('; ')}${missing}`);
    } else {
      set('True', report.behind > 0 ? 'Behind' : 'UpToDate', `${report.associated} associated, ${report.behind} behind${missing}`);
    }
  }
  out.conditions = conditions as MCPRegistryStatus['conditions'];
  return out;
}
