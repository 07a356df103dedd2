#!/usr/bin/env node
/**
 * `kubectl-mcpreg` (dist/kubectl-mcpreg.js): the same CLI as a kubectl plugin, so that
 * `kubectl mcpreg registry list` works once this executable is on the PATH (kubectl runs
 * `kubectl-<name>` executables it finds there).
 */
import { requireSupportedNode } from './node-check.ts';

requireSupportedNode('kubectl mcpreg');
const { main } = await import('./main.ts');
await main('kubectl mcpreg');
