/**
 * Spans of outgoing requests (source fetches, S3 calls), made at our I/O edges deep inside
 * sources and stores that take no telemetry parameter. The SDK registers its tracing here
 * when traces are on; a span is recorded only inside another one (a sync, a query), so that
 * background requests do not start traces of their own. Off: `child` just runs the request.
 */
import { NO_TRACING, type Tracing } from './tracing.ts';

let current: Tracing = NO_TRACING;

export function setOutgoingTracing(tracing: Tracing): void {
  current = tracing;
}

export function outgoing(): Tracing {
  return current;
}
