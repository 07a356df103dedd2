/**
 * Label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`, `>`, `<`) and field
 * selectors (`field=value`, `field!=value`), parsed and matched as kube-apiserver does.
 * Parse failures throw ApiError 400 with the position of the mistake.
 */
import { apiError } from './status.ts';
import { isQualifiedName, isLabelValue } from './names.ts';

export type LabelRequirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' }
  | { key: string; op: 'gt' | 'lt'; value: number };

type Token = { kind: 'word'; text: string } | { kind: 'op'; text: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'op', text: c });
      i++;
    } else if (c === '=' || c === '!' || c === '<' || c === '>') {
      const two = input.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        tokens.push({ kind: 'op', text: two });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: c });
        i++;
      }
    } else {
      let j = i;
      while (j < input.length && !/[\s(),=!<>]/.test(input[j]!)) j++;
      tokens.push({ kind: 'word', text: input.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

export function parseLabelSelector(input: string): LabelRequirement[] {
  const tokens = tokenize(input);
  const out: LabelRequirement[] = [];
  let p = 0;
  const fail = (why: string): never => {
    throw apiError.badRequest(`unable to parse requirement: ${why} (labelSelector ${JSON.stringify(input)})`);
  };
  const peek = () => tokens[p];
  const word = (what: string): string => {
    const t = tokens[p++];
    if (!t || t.kind !== 'word') fail(`expected ${what}${t ? `, found '${t.text}'` : ''}`);
    return (t as Token).text;
  };
  const checkKey = (key: string) => {
    if (!isQualifiedName(key)) fail(`invalid label key ${JSON.stringify(key)}: must be a qualified name (name or prefix/name)`);
  };
  const checkValue = (value: string) => {
    if (!isLabelValue(value)) fail(`invalid label value ${JSON.stringify(value)}: at most 63 characters, alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`);
  };

  while (p < tokens.length) {
    const first = peek()!;
    if (first.kind === 'op' && first.text === '!') {
      p++;
      const key = word('a label key after !');
      checkKey(key);
      out.push({ key, op: '!exists' });
    } else {
      const key = word('a label key');
      checkKey(key);
      const op = peek();
      if (!op || (op.kind === 'op' && op.text === ',')) {
        out.push({ key, op: 'exists' });
      } else if (op.kind === 'op' && (op.text === '=' || op.text === '==' || op.text === '!=')) {
        p++;
        const next = peek();
        const value = next && next.kind === 'word' ? (p++, next.text) : '';
        checkValue(value);
        out.push({ key, op: op.text === '!=' ? 'notin' : 'in', values: [value] });
      } else if (op.kind === 'op' && (op.text === '<' || op.text === '>')) {
        p++;
        const text = word('an integer');
        if (!/^-?\d+$/.test(text)) fail(`for 'gt', 'lt' operators, the value must be an integer, found ${JSON.stringify(text)}`);
        out.push({ key, op: op.text === '>' ? 'gt' : 'lt', value: Number(text) });
      } else if (op.kind === 'word' && (op.text === 'in' || op.text === 'notin')) {
        p++;
        const open = tokens[p++];
        if (!open || open.text !== '(') fail(`expected '(' after '${op.text}'`);
        const values: string[] = [];
        for (;;) {
          const t = tokens[p];
          if (!t) fail(`expected ')' to close '${op.text}'`);
          if (t!.kind === 'op' && t!.text === ')') {
            p++;
            break;
          }
          if (t!.kind === 'op' && t!.text === ',') {
            p++;
            continue;
          }
          if (t!.kind !== 'word') fail(`unexpected '${t!.text}' in value list`);
          checkValue(t!.text);
          values.push(t!.text);
          p++;
        }
        if (values.length === 0) fail(`for '${op.text}' operator, values set can't be empty`);
        out.push({ key, op: op.text as 'in' | 'notin', values });
      } else {
        fail(`found '${op.text}', expected: '=', '!=', '==', 'in', 'notin'`);
      }
    }
    const sep = tokens[p];
    if (sep) {
      if (sep.kind !== 'op' || sep.text !== ',') fail(`found '${sep.text}', expected: ','`);
      p++;
      if (p === tokens.length) fail('expected a requirement after \',\'');
    }
  }
  return out;
}

export function matchesLabels(requirements: readonly LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(l[r.key]!)) return false;
        const n = Number(l[r.key]);
        return r.op === 'gt' ? n > r.value : n < r.value;
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Splits on unescaped separators; `\,`, `\=`, `\!` and `\\` are escapes, as in Kubernetes. */
export function parseFieldSelector(input: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === '\\' && i + 1 < input.length) {
      cur += c + input[++i];
    } else if (c === ',') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^((?:[^\\=!]|\\.)+?)\s*(==|!=|=)\s*((?:[^\\]|\\.)*)$/.exec(part);
    if (!m) throw apiError.badRequest(`invalid selector: '${part}'; can't understand '${part}'`);
    out.push({ field: m[1]!.trim(), op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]!) });
  }
  return out;
}

export function matchesFields(requirements: readonly FieldRequirement[], get: (field: string) => string | undefined): boolean {
  return requirements.every((r) => {
    const v = get(r.field) ?? '';
    return r.op === '=' ? v === r.value : v !== r.value;
  });
}
