import { z } from 'zod';

/**
 * zod schema → Kubernetes structural schema (the `openAPIV3Schema` of a CRD). Pure.
 *
 * zod 4 emits JSON Schema 2020-12; a CRD takes a restricted OpenAPI v3 dialect. This maps
 * the keywords both understand one to one and refuses everything else with the path of the
 * offending node, so that a zod construct without a faithful CRD equivalent (unions,
 * transforms, open objects) fails the generator instead of silently loosening the CRD.
 */

export type JsonSchema = { [key: string]: unknown };

/** Keywords copied as they are, in the order they are written to the CRD. */
const COPIED = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
] as const;

/** Formats the API server validates (k8s.io/kube-openapi strfmt); others would be ignored there. */
const K8S_FORMATS = new Set(['date-time', 'date', 'uri', 'email', 'uuid', 'byte', 'int32', 'int64', 'hostname', 'ipv4', 'ipv6', 'cidr']);

export class SchemaConversionError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path || '<root>'}: ${message}`);
    this.name = 'SchemaConversionError';
    this.path = path;
  }
}

/** The structural schema of a zod schema, as its input (defaults make fields optional). */
export function toStructuralSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw', reused: 'inline' }) as JsonSchema;
  delete json.$schema;
  return convertNode(json, '');
}

export function convertNode(node: JsonSchema, path: string): JsonSchema {
  const out: JsonSchema = {};
  const seen = new Set<string>();
  const take = (key: string) => {
    seen.add(key);
    return node[key];
  };

  for (const key of COPIED) {
    if (node[key] !== undefined) out[key] = take(key);
  }
  if (node.const !== undefined) out.enum = [take('const')];

  if (typeof out.type !== 'string') {
    throw new SchemaConversionError(path, `every node needs a single type (found ${JSON.stringify(node.type ?? node.anyOf ?? node.oneOf ?? null)}); unions are not structural`);
  }
  if (out.type === 'integer') {
    // zod bounds plain .int() to the safe-integer range; Kubernetes integers are int64 anyway.
    if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
    if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  }
  if (out.format !== undefined) {
    if (!K8S_FORMATS.has(String(out.format))) throw new SchemaConversionError(path, `format ${JSON.stringify(out.format)} is not validated by Kubernetes`);
    // the API server checks date-time itself; zod's long regex for it adds nothing
    if (out.format === 'date-time') delete out.pattern;
  }
  if (typeof node.exclusiveMinimum === 'number') {
    out.minimum = take('exclusiveMinimum');
    out.exclusiveMinimum = true;
  }
  if (typeof node.exclusiveMaximum === 'number') {
    out.maximum = take('exclusiveMaximum');
    out.exclusiveMaximum = true;
  }

  const properties = take('properties') as Record<string, JsonSchema> | undefined;
  if (properties !== undefined) {
    out.properties = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, convertNode(v, `${path}.${k}`)]));
  }
  const required = take('required') as string[] | undefined;
  if (required !== undefined && required.length > 0) out.required = required;

  const items = take('items');
  if (items !== undefined) {
    if (Array.isArray(items) || typeof items !== 'object' || items === null) throw new SchemaConversionError(path, 'tuple items are not structural');
    out.items = convertNode(items as JsonSchema, `${path}[]`);
  }
  if (out.type === 'array' && out.items === undefined) throw new SchemaConversionError(path, 'an array needs an items schema');

  const additional = take('additionalProperties');
  take('propertyNames'); // map keys are always strings in Kubernetes
  if (additional !== undefined && additional !== false) {
    if (typeof additional !== 'object' || additional === null || Object.keys(additional).length === 0) {
      throw new SchemaConversionError(path, 'open objects need x-kubernetes-preserve-unknown-fields, which this project does not use');
    }
    if (properties !== undefined) throw new SchemaConversionError(path, 'properties and additionalProperties cannot be combined');
    out.additionalProperties = convertNode(additional as JsonSchema, `${path}.*`);
  }

  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-')) {
      seen.add(key);
      out[key] = value;
    }
  }
  for (const key of Object.keys(node)) {
    if (!seen.has(key)) {
      throw new SchemaConversionError(path, `JSON Schema keyword ${JSON.stringify(key)} has no structural equivalent`);
    }
  }
  return out;
}
