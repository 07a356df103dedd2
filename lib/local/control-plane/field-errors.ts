/**
 * Field errors in the shape kube-apiserver reports them: each becomes one `details.causes[]`
 * entry of a 422 `Status` (`reason` = the error type, `field` = the path, `message` = the
 * text after the path), and the Status message lists them as `path: message`.
 */

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueNotSupported'
  | 'FieldValueInvalid'
  | 'FieldValueTypeInvalid'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate'
  | 'FieldValueNotFound';

export interface FieldError {
  type: FieldErrorType;
  /** `spec.source.type`, `spec.items[0].name`, `metadata.labels[app]` */
  field: string;
  /** the text after `field: ` */
  message: string;
}

/** Appends a property to a field path. */
export function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Appends a list index or map key: `spec.items[0]`, `metadata.labels[app]`. */
export function index(path: string, key: number | string): string {
  return `${path}[${key}]`;
}

/** A value as Go's `%#v`/`%q` shows it in kube-apiserver messages. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return 'null';
  // Go's json.Marshal escapes <, > and & in strings
  const text = goJson(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** JSON as Go's encoding/json writes it (HTML-safe: <, > and & as \u escapes). */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

const withDetail = (head: string, detail?: string) => (detail ? `${head}: ${detail}` : head);

export const fieldError = {
  required: (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, message: withDetail('Required value', detail) }),
  invalid: (field: string, value: unknown, detail?: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    message: withDetail(`Invalid value: ${showValue(value)}`, detail),
  }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueTypeInvalid',
    field,
    message: `Invalid value: ${showValue(value)}: ${detail}`,
  }),
  notSupported: (field: string, value: unknown, allowed: readonly unknown[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    message: `Unsupported value: ${showValue(value)}${allowed.length ? `: supported values: ${allowed.map(showValue).join(', ')}` : ''}`,
  }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, message: withDetail('Forbidden', detail) }),
  tooLong: (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes` }),
  tooMany: (field: string, actual: number, max: number): FieldError => ({
    type: 'FieldValueTooMany',
    field,
    message: `Too many: ${actual}: must have at most ${max} items`,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, message: `Duplicate value: ${showValue(value)}` }),
  notFound: (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field, message: `Not found: ${showValue(value)}` }),
};

/** `a: x` for one error, `[a: x, b: y]` for several, as kube-apiserver aggregates them. */
export function aggregate(errors: readonly FieldError[]): string {
  const parts = errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
  return parts.length === 1 ? parts[0]! : `[${parts.join(', ')}]`;
}
