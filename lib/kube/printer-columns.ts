/**
 * How Kubernetes prints an object's printer columns (a CRD's additionalPrinterColumns): its
 * JSONPath dialect and its human-readable ages. The embedded control plane builds
 * server-side Tables with these; the CLI prints the same columns as `kubectl get`.
 */
import { JSONPath } from 'jsonpath-plus';
import type { PrinterColumn } from './crds.ts';

/** Kubernetes' HumanDuration: 5s, 3m20s, 10m, 5h3m, 2d4h, 400d, 3y12d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Kubernetes JSONPath (`.a.b`, `.a\.b`, `[?(@.x=="y")]`) → jsonpath-plus syntax. */
export function toJsonPathPlus(path: string): string {
  let out = '$';
  let i = 0;
  while (i < path.length) {
    const c = path[i]!;
    if (c === '[') {
      let depth = 0;
      let j = i;
      for (; j < path.length; j++) {
        if (path[j] === '[') depth++;
        else if (path[j] === ']' && --depth === 0) break;
      }
      out += path.slice(i, j + 1);
      i = j + 1;
    } else if (c === '.') {
      let name = '';
      i++;
      while (i < path.length && path[i] !== '.' && path[i] !== '[') {
        if (path[i] === '\\' && i + 1 < path.length) {
          name += path[i + 1];
          i += 2;
        } else name += path[i++];
      }
      out += /^[A-Za-z_$][\w$]*$/.test(name) || name === '*' ? `.${name}` : `[${JSON.stringify(name).replace(/^"|"$/g, "'")}]`;
    } else {
      // a path without a leading dot
      path = `.${path.slice(i)}`;
      i = 0;
    }
  }
  return out;
}

const compiledPaths = new Map<string, string>();
export function evaluateJsonPath(obj: unknown, path: string): unknown[] {
  let p = compiledPaths.get(path);
  if (p === undefined) {
    p = toJsonPathPlus(path.replace(/^\{(.*)\}$/, '$1'));
    if (compiledPaths.size > 1000) compiledPaths.clear();
    compiledPaths.set(path, p);
  }
  try {
    return JSONPath({ path: p, json: obj as object, wrap: true, eval: 'safe' }) as unknown[];
  } catch {
    return [];
  }
}

/** One printer column's cell as kubectl shows it: ages for dates, nothing for a missing value. */
export function printerCell(column: Pick<PrinterColumn, 'type' | 'jsonPath'>, obj: unknown, now: number): string {
  const raw = evaluateJsonPath(obj, column.jsonPath)[0];
  if (raw === undefined || raw === null) return '';
  if (column.type === 'date') {
    const t = typeof raw === 'string' ? Date.parse(raw) : NaN;
    return Number.isNaN(t) ? '' : humanDuration(now - t);
  }
  return typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : JSON.stringify(raw);
}
