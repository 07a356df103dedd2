import { RegistryError } from '../errors.ts';
import type { ParsedDocument } from '../formats/parse.ts';
import type { ExportFormat } from '../jobs/export-render.ts';
import type { ImportMode, ServerReport, TargetFormat } from '../jobs/import-plan.ts';
import type { FilterFlags } from './registry-spec.ts';
import { readDocument } from './read-document.ts';
import { writeAtomically } from './write-atomically.ts';

/**
 * `registry import` and `registry export` between files (`--from FILE --to FILE`): the same
 * pure planning and rendering as the jobs (lib/jobs/), with the files as the I/O edges.
 */

async function parseFile(file: string, stdin: NodeJS.ReadableStream, format: TargetFormat | undefined): Promise<{ doc: ParsedDocument; bytes: Uint8Array }> {
  const bytes = await readDocument(file, stdin);
  const { parseRegistryDocument } = await import('../formats/parse.ts');
  return { doc: parseRegistryDocument(bytes, { file: file === '-' ? '<stdin>' : file, format, mode: 'lenient' }), bytes };
}

export interface ImportFileOptions extends FilterFlags {
  from: string;
  to: string;
  mode: ImportMode;
  format?: TargetFormat | undefined;
  convertTo?: TargetFormat | undefined;
  dryRun: boolean;
  report?: string | undefined;
}

export interface ImportFileResult {
  summary: string;
  report: ServerReport[];
}

export async function importBetweenFiles(options: ImportFileOptions, stdin: NodeJS.ReadableStream, now = new Date()): Promise<ImportFileResult> {
  const { planImport, summarizeImport } = await import('../jobs/import-plan.ts');
  const { filterFromFlags } = await import('./registry-spec.ts');
  const incoming = await parseFile(options.from, stdin, options.format);
  let existing: { document: ParsedDocument; text: string } | null = null;
  try {
    const read = await parseFile(options.to, stdin, undefined);
    existing = { document: read.doc, text: Buffer.from(read.bytes).toString('utf8') };
  } catch (e) {
    if (!(e instanceof RegistryError && e.code === 'source_not_found')) throw e;
  }
  const plan = planImport({
    incoming: incoming.doc,
    existing,
    mode: options.mode,
    convertTo: options.convertTo,
    filter: filterFromFlags(options),
    now: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
  if (!options.dryRun && plan.changed) await writeAtomically(options.to, plan.text);
  if (options.report !== undefined) await writeAtomically(options.report, `${JSON.stringify({ counts: plan.counts, servers: plan.report }, null, 2)}\n`);
  const where = options.dryRun ? ' (dry run: nothing written)' : plan.changed ? '' : ' (already up to date: file not rewritten)';
  return { summary: `${options.to}: ${summarizeImport(plan.counts, options.dryRun)}${where}\n`, report: plan.report };
}

export interface ExportFileOptions extends FilterFlags {
  from: string;
  to: string;
  format: ExportFormat;
}

export async function exportBetweenFiles(options: ExportFileOptions, stdin: NodeJS.ReadableStream): Promise<string> {
  const { contentOfDocument, renderExport } = await import('../jobs/export-render.ts');
  const { filterFromFlags } = await import('./registry-spec.ts');
  const { doc } = await parseFile(options.from, stdin, undefined);
  const out = renderExport(contentOfDocument(doc), options.format, filterFromFlags(options));
  await writeAtomically(options.to, out.text);
  return `${options.to}: ${out.serverCount} servers, ${out.bytes} bytes (${options.format})\n`;
}
