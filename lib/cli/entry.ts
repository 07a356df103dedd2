#!/usr/bin/env node
/**
 * `mcpreg`'s executable (the bundle's dist/cli.js): checks the Node.js version, then loads the
 * CLI. The CLI is imported dynamically so that nothing of it is parsed on an unsupported Node.
 */
import { requireSupportedNode } from './node-check.ts';

requireSupportedNode('mcpreg');
const { main } = await import('./main.ts');
await main('mcpreg');
