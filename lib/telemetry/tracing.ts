/**
 * Spans, as plain calls (no OpenTelemetry import here; sdk.ts implements it). The parent of
 * a root span comes from W3C trace-context headers (`traceparent`, `tracestate`) of the
 * incoming HTTP request or CloudEvent; spans started inside `span()` nest under it.
 */

export type SpanAttributes = Record<string, string | number | boolean | undefined>;

export interface SpanHandle {
  setAttributes(attrs: SpanAttributes): void;
  /** marks the span failed with a message (never a secret) */
  fail(message: string): void;
  /** a finished child span: started `ms` milliseconds ago, ended now */
  childDone(name: string, ms: number, attrs?: SpanAttributes): void;
  /** the trace id, when tracing is on */
  readonly traceId: string | undefined;
}

export interface Tracing {
  readonly enabled: boolean;
  span<T>(name: string, attrs: SpanAttributes, fn: (span: SpanHandle) => Promise<T>, parent?: Record<string, string | string[] | undefined>): Promise<T>;
  /** a span only when one is active (a child of it), else just `fn`: for outgoing requests */
  child<T>(name: string, attrs: SpanAttributes, fn: (span: SpanHandle) => Promise<T>): Promise<T>;
}

const NO_SPAN: SpanHandle = { setAttributes: () => {}, fail: () => {}, childDone: () => {}, traceId: undefined };

export const NO_TRACING: Tracing = {
  enabled: false,
  span: (_name, _attrs, fn) => fn(NO_SPAN),
  child: (_name, _attrs, fn) => fn(NO_SPAN),
};
