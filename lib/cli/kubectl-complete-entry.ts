#!/usr/bin/env node
/**
 * `kubectl_complete-mcpreg` (dist/kubectl_complete-mcpreg.js): kubectl (1.26+) runs it with the
 * words after `kubectl mcpreg` when completing a plugin command line, and reads Cobra's
 * protocol from it, which `mcpreg complete` speaks.
 */
import { requireSupportedNode } from './node-check.ts';

requireSupportedNode('kubectl mcpreg');
const { main } = await import('./main.ts');
await main('kubectl mcpreg', ['complete', '--']);
