import { stringify } from 'yaml';

/**
 * `-o table|wide|json|yaml|name`: what every command that prints objects shares. Tables are
 * aligned as kubectl aligns them (Go's tabwriter with padding 3 and minimum width 6: every
 * column but the last is as wide as its widest cell plus three spaces), `json`/`yaml` print
 * the full objects (a `List` for several, as kubectl does), `name` prints `kind.group/name`
 * lines for scripts.
 */
import type { OutputFormat } from './options.ts';

const PADDING = 3;
const MIN_WIDTH = 6;

/** Rows of cells as kubectl prints them; headers upper-cased by the caller. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(MIN_WIDTH, ...all.map((r) => (r[i] ?? '').length + PADDING)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('').trimEnd()).join('\n') + '\n';
}

/** One column of a table: its header and how a row shows in it; `wide` ones only with -o wide. */
export interface Column<T> {
  header: string;
  cell(row: T): string;
  wide?: boolean;
}

export function renderRows<T>(rows: readonly T[], columns: readonly Column<T>[], wide: boolean): string {
  const shown = columns.filter((c) => wide || !c.wide);
  return renderTable(
    shown.map((c) => c.header.toUpperCase()),
    rows.map((r) => shown.map((c) => c.cell(r))),
  );
}

/**
 * JSON (2-space indent, as kubectl) or YAML of one value. YAML quotes the strings YAML 1.1
 * reads as booleans (`Y`, `on`, `no`): kubectl parses YAML 1.1, so an env var named `Y`
 * would otherwise reach the cluster as `true`.
 */
export function renderDocument(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' });
}

/** Several objects as one document, in the shape kubectl prints for `get -o json` of a list. */
export function listDocument(items: readonly unknown[]): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
}

/** `-o name`: `mcpregistry.toolhive.stacklok.io/toolhive` */
export function objectName(kind: string, group: string, name: string): string {
  return `${kind.toLowerCase()}${group ? `.${group}` : ''}/${name}`;
}

/**
 * Prints objects in the chosen format: a table from `columns`, the objects themselves, or
 * their names. `single` prints one object (not a List) for json/yaml, as `kubectl get NAME`.
 */
export function renderObjects<T>(objects: readonly T[], format: OutputFormat, view: { columns: readonly Column<T>[]; name(o: T): string; document?(o: T): unknown; single?: boolean }): string {
  switch (format) {
    case 'table':
    case 'wide':
      return renderRows(objects, view.columns, format === 'wide');
    case 'name':
      return objects.map((o) => `${view.name(o)}\n`).join('');
    case 'json':
    case 'yaml': {
      const docs = objects.map((o) => (view.document ? view.document(o) : o));
      return renderDocument(view.single && docs.length === 1 ? docs[0] : listDocument(docs), format);
    }
  }
}
