/**
 * Static checks of a CRD's CEL rules against the schema they are declared at, as kube-apiserver
 * makes them when a CRD is stored: the rule parses, names only declared fields (CEL sees an
 * object's declared properties only, and at a resource root only apiVersion, kind,
 * metadata.name and metadata.generateName besides), calls only known functions, evaluates to a
 * bool (a messageExpression to a string), and stays within the cost budget.
 *
 * The cost estimate follows Kubernetes' model (sizes from maxItems/maxLength/maxProperties or,
 * without them, what fits in a 3 MiB request; comprehensions cost their range's size times
 * their body; a string converted from another type has no bound) but is coarser than cel-go's,
 * so only a rule or messageExpression far over budget (more than 100x the per-CRD limit, where
 * the real server reports "more than 100x" for the rule and the total) is rejected here.
 */
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { isObject } from './objects.ts';
import type { Schema } from './schema.ts';

const parser = new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: true });

/** kube-apiserver's limits (k8s.io/apiextensions-apiserver validation) */
export const PER_RULE_COST_LIMIT = 10_000_000;
export const PER_CRD_COST_LIMIT = 100_000_000;
const MAX_REQUEST_BYTES = 3 * 1024 * 1024;
/** cel-go's size of a value it cannot bound (math.MaxUint64) */
const UNBOUNDED = 2 ** 64 - 1;

/** What CEL knows about a value: its kind, declared fields, element type and size bounds. */
export interface CelType {
  kind: 'object' | 'map' | 'list' | 'string' | 'int' | 'double' | 'bool' | 'dyn' | 'null';
  fields?: Record<string, CelType>;
  elem?: CelType;
  /** list items, map entries, string characters (the bound CEL's cost estimate uses) */
  maxElements: number;
  minSize: number;
}

const DYN: CelType = { kind: 'dyn', maxElements: MAX_REQUEST_BYTES, minSize: 1 };
const BOOL: CelType = { kind: 'bool', maxElements: 0, minSize: 4 };
const INT: CelType = { kind: 'int', maxElements: 0, minSize: 1 };
const STRING = (max = MAX_REQUEST_BYTES - 2): CelType => ({ kind: 'string', maxElements: max, minSize: 2 });

/** The CEL declaration of a schema node (SchemaDeclType); `root` adds the resource-root fields. */
export function declType(s: Schema | undefined, root: boolean): CelType | undefined {
  if (!s || typeof s !== 'object' || Array.isArray(s)) return undefined;
  if (s['x-kubernetes-int-or-string']) return { ...DYN, maxElements: s.maxLength ?? MAX_REQUEST_BYTES - 2 };
  const type = root && !s.type ? 'object' : s.type;
  switch (type) {
    case 'string': {
      const fromEnum = s.enum?.length ? Math.max(...s.enum.map((e) => (typeof e === 'string' ? e.length : 0))) : undefined;
      return STRING(s.maxLength ?? fromEnum ?? MAX_REQUEST_BYTES - 2);
    }
    case 'integer':
      return INT;
    case 'number':
      return { kind: 'double', maxElements: 0, minSize: 1 };
    case 'boolean':
      return BOOL;
    case 'array': {
      const elem = declType(s.items, s.items?.['x-kubernetes-embedded-resource'] === true);
      if (!elem) return undefined;
      return { kind: 'list', elem, maxElements: s.maxItems ?? Math.floor((MAX_REQUEST_BYTES - 2) / (elem.minSize + 1)), minSize: 2 };
    }
    case 'object': {
      if (isObject(s.additionalProperties)) {
        const elem = declType(s.additionalProperties as Schema, false);
        if (!elem) return undefined;
        return { kind: 'map', elem, maxElements: s.maxProperties ?? Math.floor((MAX_REQUEST_BYTES - 2) / (elem.minSize + 4 + 2)), minSize: 2 };
      }
      const fields: Record<string, CelType> = {};
      let minSize = 2;
      for (const [name, prop] of Object.entries(s.properties ?? {})) {
        const t = declType(prop, prop['x-kubernetes-embedded-resource'] === true);
        if (!t) continue;
        fields[name] = t;
        if (s.required?.includes(name) && prop.default === undefined) minSize += name.length + t.minSize + 4;
      }
      if (root) {
        fields.apiVersion = STRING();
        fields.kind = STRING();
        fields.metadata = { kind: 'object', fields: { name: STRING(), generateName: STRING() }, maxElements: 0, minSize: 2 };
      }
      return { kind: 'object', fields, maxElements: 0, minSize };
    }
    default:
      return undefined;
  }
}

/** Functions, macros and namespaces of CEL and of Kubernetes' CEL libraries (a call to anything else does not compile). */
const KNOWN_FUNCTIONS = new Set([
  // CEL standard and macros
  'has', 'all', 'exists', 'exists_one', 'map', 'filter', 'size', 'matches', 'contains', 'startsWith', 'endsWith',
  'int', 'uint', 'double', 'string', 'bytes', 'bool', 'duration', 'timestamp', 'type', 'dyn',
  'getFullYear', 'getMonth', 'getDayOfYear', 'getDayOfMonth', 'getDate', 'getDayOfWeek', 'getHours', 'getMinutes', 'getSeconds', 'getMilliseconds',
  // optional types
  'optional', 'of', 'none', 'ofNonZeroValue', 'hasValue', 'value', 'or', 'orValue', 'optMap', 'optFlatMap',
  // ext strings, sets, encoders, math, two-variable comprehensions, lists
  'charAt', 'indexOf', 'lastIndexOf', 'lowerAscii', 'upperAscii', 'replace', 'split', 'substring', 'trim', 'join', 'quote', 'reverse', 'format',
  'sets', 'equivalent', 'intersects', 'base64', 'encode', 'decode', 'math', 'greatest', 'least', 'ceil', 'floor', 'round', 'trunc', 'abs', 'sign', 'isNaN', 'isInf', 'isFinite',
  'bitAnd', 'bitOr', 'bitXor', 'bitNot', 'bitShiftLeft', 'bitShiftRight', 'sqrt', 'strings', 'lists', 'range', 'distinct', 'flatten', 'sort', 'sortBy', 'slice', 'first', 'last',
  'transformList', 'transformMap', 'transformMapEntry',
  // Kubernetes: lists, regex, urls, quantity, ip, cidr, format, semver, authz
  'isSorted', 'sum', 'min', 'max', 'find', 'findAll',
  'url', 'isURL', 'getScheme', 'getHost', 'getHostname', 'getPort', 'getEscapedPath', 'getQuery',
  'quantity', 'isQuantity', 'isGreaterThan', 'isLessThan', 'compareTo', 'add', 'sub', 'asInteger', 'isInteger', 'asApproximateFloat',
  'ip', 'isIP', 'family', 'isUnspecified', 'isLoopback', 'isLinkLocalMulticast', 'isLinkLocalUnicast', 'isGlobalUnicast', 'isCanonical',
  'cidr', 'isCIDR', 'containsIP', 'containsCIDR', 'prefixLength', 'masked',
  'named', 'validate', 'semver', 'isSemver', 'major', 'minor', 'patch',
  'authorizer', 'path', 'group', 'resource', 'subresource', 'namespace', 'name', 'check', 'allowed', 'reason', 'errored', 'error', 'serviceAccount', 'fieldSelector', 'labelSelector',
]);

const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const STRING_SCANS = new Set(['startsWith', 'endsWith', 'contains', 'matches', 'indexOf', 'lastIndexOf', 'find', 'findAll', 'split', 'replace', 'lowerAscii', 'upperAscii', 'trim']);

export interface RuleProblem {
  /** 'compile' for a compilation failure (the detail follows "compilation failed: "), else the whole detail */
  kind: 'compile' | 'type' | 'cost';
  detail: string;
  cost?: number;
}

function location(input: string, pos: number): string {
  const before = input.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `<input>:${line}:${column}`;
}

function compileFailure(input: string, pos: number, what: string): string {
  const line = input.split('\n')[input.slice(0, pos).split('\n').length - 1] ?? input;
  const column = pos - input.slice(0, pos).lastIndexOf('\n') - 1;
  return `ERROR: ${location(input, pos)}: ${what}\n | ${line}\n | ${'.'.repeat(Math.max(0, column))}^`;
}

interface Visit {
  type: CelType;
  cost: number;
}

/** Type and cost of an expression, reporting undeclared fields and unknown functions. */
function analyse(input: string, root: ASTNode, scope: Record<string, CelType>, problems: string[]): Visit {
  const visit = (n: ASTNode, vars: Record<string, CelType>): Visit => {
    switch (n.op) {
      case 'value': {
        const v = n.args;
        if (typeof v === 'string') return { type: STRING(v.length), cost: 0 };
        if (typeof v === 'boolean') return { type: BOOL, cost: 0 };
        if (typeof v === 'bigint') return { type: INT, cost: 0 };
        if (typeof v === 'number') return { type: { kind: 'double', maxElements: 0, minSize: 1 }, cost: 0 };
        if (v === null) return { type: { kind: 'null', maxElements: 0, minSize: 4 }, cost: 0 };
        return { type: DYN, cost: 0 };
      }
      case 'id': {
        const t = vars[n.args];
        if (t) return { type: t, cost: 1 };
        if (!KNOWN_FUNCTIONS.has(n.args)) problems.push(compileFailure(input, n.pos, `undeclared reference to '${n.args}' (in container '')`));
        return { type: DYN, cost: 1 };
      }
      case '.':
      case '.?': {
        const [target, name] = n.args;
        // a namespaced function name (sets.contains, base64.encode, optional.of)
        if (target.op === 'id' && !vars[target.args] && KNOWN_FUNCTIONS.has(target.args)) return { type: DYN, cost: 1 };
        const t = visit(target, vars);
        return { type: member(t.type, name, n.pos, n.op === '.?'), cost: t.cost + 1 };
      }
      case '[]':
      case '[?]': {
        const [target, key] = n.args;
        const t = visit(target, vars);
        const k = visit(key, vars);
        let type = DYN;
        if (t.type.kind === 'list' || t.type.kind === 'map') type = t.type.elem ?? DYN;
        else if (t.type.kind === 'object' && key.op === 'value' && typeof key.args === 'string') type = member(t.type, key.args, n.pos, n.op === '[?]');
        return { type, cost: t.cost + k.cost + 1 };
      }
      case 'call': {
        const [name, args] = n.args;
        if (!KNOWN_FUNCTIONS.has(name)) problems.push(compileFailure(input, n.pos, `undeclared reference to '${name}' (in container '')`));
        const visited = args.map((a) => visit(a, vars));
        const cost = visited.reduce((s, v) => s + v.cost, 0) + 1;
        if (name === 'has') return { type: BOOL, cost };
        if (name === 'size' || name === 'int') return { type: INT, cost };
        // cel-go has no size bound for a string converted from another type
        if (name === 'string') return { type: visited[0]?.type.kind === 'string' ? visited[0].type : STRING(UNBOUNDED), cost };
        if (name === 'bool') return { type: BOOL, cost };
        return { type: DYN, cost };
      }
      case 'rcall': {
        const [name, target, args] = n.args;
        if (COMPREHENSIONS.has(name) && args.length >= 2 && args[0]!.op === 'id') {
          const range = visit(target, vars);
          const elem = range.type.kind === 'list' ? range.type.elem ?? DYN : range.type.kind === 'map' || range.type.kind === 'object' ? STRING() : DYN;
          const inner = { ...vars, [args[0]!.args as string]: elem };
          const bodies = args.slice(1).map((a) => visit(a, inner));
          const iterations = range.type.kind === 'dyn' ? 1 : range.type.maxElements;
          const cost = range.cost + iterations * (bodies.reduce((s, b) => s + b.cost, 0) + 1);
          const body = bodies[bodies.length - 1]!;
          if (name === 'map') return { type: { kind: 'list', elem: body.type, maxElements: iterations, minSize: 2 }, cost };
          if (name === 'filter') return { type: { kind: 'list', elem, maxElements: iterations, minSize: 2 }, cost };
          return { type: BOOL, cost };
        }
        // a namespaced function call: sets.contains(...), base64.decode(...)
        if (target.op === 'id' && !vars[target.args] && KNOWN_FUNCTIONS.has(target.args)) {
          const visited = args.map((a) => visit(a, vars));
          return { type: DYN, cost: visited.reduce((s, v) => s + v.cost, 0) + 1 };
        }
        if (!KNOWN_FUNCTIONS.has(name)) problems.push(compileFailure(input, n.pos, `undeclared reference to '${name}' (in container '')`));
        const t = visit(target, vars);
        const visited = args.map((a) => visit(a, vars));
        if (STRING_ONLY.has(name) && args.length === 1) {
          const [tk, ak] = [t.type.kind, visited[0]!.type.kind];
          if ((SCALARS.has(tk) && tk !== 'string') || (SCALARS.has(ak) && ak !== 'string'))
            problems.push(compileFailure(input, n.pos, `found no matching overload for '${name}' applied to '${tk}.(${ak})'`));
        }
        const scan = STRING_SCANS.has(name) && t.type.kind === 'string' ? Math.ceil(0.1 * t.type.maxElements) : 0;
        const cost = t.cost + visited.reduce((s, v) => s + v.cost, 0) + 1 + scan;
        if (['startsWith', 'endsWith', 'contains', 'matches', 'isSorted', 'isURL', 'isIP', 'isCIDR', 'isQuantity', 'isSemver'].includes(name)) return { type: BOOL, cost };
        if (name === 'size') return { type: INT, cost };
        return { type: DYN, cost };
      }
      case 'list': {
        const visited = n.args.map((a) => visit(a, vars));
        return { type: { kind: 'list', elem: visited[0]?.type ?? DYN, maxElements: visited.length, minSize: 2 }, cost: visited.reduce((s, v) => s + v.cost, 0) + 1 };
      }
      case 'map': {
        const visited = n.args.flatMap(([k, v]) => [visit(k, vars), visit(v, vars)]);
        return { type: { kind: 'map', elem: DYN, maxElements: n.args.length, minSize: 2 }, cost: visited.reduce((s, v) => s + v.cost, 0) + 1 };
      }
      case '?:': {
        const [c, a, b] = n.args;
        const [vc, va, vb] = [visit(c, vars), visit(a, vars), visit(b, vars)];
        return { type: va.type.kind === vb.type.kind ? va.type : DYN, cost: vc.cost + Math.max(va.cost, vb.cost) };
      }
      case '&&':
      case '||': {
        const [a, b] = n.args;
        return { type: BOOL, cost: visit(a, vars).cost + visit(b, vars).cost };
      }
      case '!_':
        return { type: BOOL, cost: visit(n.args, vars).cost + 1 };
      case '-_':
        return { type: visit(n.args, vars).type, cost: 1 };
      default: {
        const [a, b] = n.args as [ASTNode, ASTNode];
        const [va, vb] = [visit(a, vars), visit(b, vars)];
        if (!operandsMatch(n.op, va.type.kind, vb.type.kind)) problems.push(compileFailure(input, n.pos, `found no matching overload for '_${n.op}_' applied to '(${va.type.kind}, ${vb.type.kind})'`));
        let cost = va.cost + vb.cost + 1;
        if (n.op === '==' || n.op === '!=') cost += equalityCost(va.type, vb.type);
        if (n.op === 'in' && vb.type.kind === 'list') cost += vb.type.maxElements;
        if (['==', '!=', '<', '<=', '>', '>=', 'in'].includes(n.op)) return { type: BOOL, cost };
        if (n.op === '+' && va.type.kind === 'string' && vb.type.kind === 'string') {
          const size = va.type.maxElements + vb.type.maxElements;
          return { type: STRING(size), cost: cost + Math.ceil(0.1 * size) };
        }
        return { type: va.type.kind === vb.type.kind ? va.type : DYN, cost };
      }
    }
  };
  // an optional select (self.?x) of an undeclared field fails as a plain one does
  const member = (t: CelType, name: string, pos: number, _optional: boolean): CelType => {
    if (t.kind === 'object') {
      const f = t.fields?.[name];
      if (f) return f;
      problems.push(compileFailure(input, pos, `undefined field '${name}'`));
      return DYN;
    }
    if (t.kind === 'map') return t.elem ?? DYN;
    return DYN;
  };
  return visit(root, scope);
}

const SCALARS = new Set<CelType['kind']>(['string', 'int', 'double', 'bool']);
const NUMBERS = new Set<CelType['kind']>(['int', 'double']);
/** string methods whose receiver and argument must both be strings */
const STRING_ONLY = new Set(['startsWith', 'endsWith', 'contains', 'matches']);

/**
 * Whether CEL has an overload of the operator for two operand kinds, when both are known
 * scalars (anything involving dyn, lists, maps or objects is left to the evaluator). Ordering
 * compares int with double; equality and arithmetic want the same kind.
 */
function operandsMatch(op: string, a: CelType['kind'], b: CelType['kind']): boolean {
  if (!SCALARS.has(a) || !SCALARS.has(b)) return true;
  switch (op) {
    case '==':
    case '!=':
      return a === b || (NUMBERS.has(a) && NUMBERS.has(b));
    case '<':
    case '<=':
    case '>':
    case '>=':
      return a === b || (NUMBERS.has(a) && NUMBERS.has(b));
    case '+':
      return a === b && a !== 'bool';
    case '-':
    case '*':
    case '/':
      return a === b && NUMBERS.has(a);
    case '%':
      return a === b && a === 'int';
    default:
      return true;
  }
}

function equalityCost(a: CelType, b: CelType): number {
  const size = (t: CelType) => (t.kind === 'string' || t.kind === 'list' || t.kind === 'map' || t.kind === 'object' ? t.maxElements : 0);
  const n = Math.min(size(a) || Infinity, size(b) || Infinity);
  return Number.isFinite(n) ? Math.ceil(0.1 * n) : 0;
}

export interface RuleCheck {
  /** "compilation failed: …" or "cel expression must evaluate to a bool" */
  ruleError?: string;
  messageExpressionError?: string;
  /** the estimated cost of the rule at its node, times the node's cardinality */
  cost: number;
  /** the same for the messageExpression (0 without one) */
  messageExpressionCost: number;
  usesOldSelf: boolean;
}

function parse(expr: string): { ast: ASTNode } | { error: string } {
  try {
    const p = parser.parse(expr) as unknown as { ast: ASTNode };
    return { ast: p.ast };
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
    return { error: `compilation failed: ERROR: <input>:1:1: Syntax error: ${message}` };
  }
}

function usesIdentifier(n: unknown, name: string): boolean {
  if (!isObject(n)) return Array.isArray(n) ? n.some((x) => usesIdentifier(x, name)) : false;
  if (n.op === 'id') return n.args === name;
  return usesIdentifier(n.args, name);
}

/** Checks one rule (and its messageExpression) at a schema node whose values occur `cardinality` times. */
export function checkRule(rule: { rule: string; messageExpression?: string }, self: CelType, cardinality: number): RuleCheck {
  const out: RuleCheck = { cost: 0, messageExpressionCost: 0, usesOldSelf: false };
  const scope = { self, oldSelf: self };
  const parsed = parse(rule.rule);
  if ('error' in parsed) out.ruleError = parsed.error;
  else {
    out.usesOldSelf = usesIdentifier(parsed.ast, 'oldSelf');
    const problems: string[] = [];
    const result = analyse(rule.rule, parsed.ast, scope, problems);
    if (problems.length) out.ruleError = `compilation failed: ${problems.join('\n')}`;
    else if (result.type.kind !== 'bool' && result.type.kind !== 'dyn') out.ruleError = 'cel expression must evaluate to a bool';
    out.cost = result.cost * Math.max(1, cardinality);
  }
  if (rule.messageExpression?.trim()) {
    const m = parse(rule.messageExpression);
    if ('error' in m) out.messageExpressionError = `messageExpression ${m.error}`;
    else {
      const problems: string[] = [];
      const result = analyse(rule.messageExpression, m.ast, scope, problems);
      if (problems.length) out.messageExpressionError = `messageExpression compilation failed: ${problems.join('\n')}`;
      else if (result.type.kind !== 'string' && result.type.kind !== 'dyn') out.messageExpressionError = 'messageExpression must evaluate to a string';
      out.messageExpressionCost = result.cost * Math.max(1, cardinality);
    }
  }
  return out;
}

/** kube-apiserver's wording of a cost over its limit (getCostErrorMessage). */
export function costMessage(what: string, cost: number, limit: number): string {
  const factor = cost / limit;
  const shown = factor > 100 ? 'more than 100x' : factor < 1.5 ? `${factor.toFixed(6)}x` : `${factor.toFixed(1)}x`;
  return `${what} exceeds budget by factor of ${shown} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`;
}
