import { RegistryError } from '../errors.ts';
import { formatPath, type PathSegment } from './json-path.ts';

interface Node {
  value: object;
  depth: number;
  segment: PathSegment | undefined;
  parent: Node | undefined;
}

/**
 * Nesting depth of an already parsed value, checked without recursion so that a hostile value
 * cannot overflow the stack here or in any recursive code that runs after this check.
 */
export function checkDepth(value: unknown, maxDepth: number, file?: string): void {
  if (typeof value !== 'object' || value === null) return;
  const stack: Node[] = [{ value, depth: 1, segment: undefined, parent: undefined }];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (node.depth > maxDepth) {
      throw new RegistryError('too_deep', `nesting deeper than ${maxDepth} levels`, {
        where: { ...(file === undefined ? {} : { file }), path: formatPath(pathOf(node)) },
      });
    }
    if (Array.isArray(node.value)) {
      for (let i = 0; i < node.value.length; i++) {
        const child: unknown = node.value[i];
        if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: node.depth + 1, segment: i, parent: node });
      }
    } else {
      const obj = node.value as Record<string, unknown>;
      for (const key in obj) {
        const child = obj[key];
        if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: node.depth + 1, segment: key, parent: node });
      }
    }
  }
}

function pathOf(node: Node | undefined): PathSegment[] {
  const out: PathSegment[] = [];
  for (let n = node; n !== undefined && n.segment !== undefined; n = n.parent) out.push(n.segment);
  return out.reverse();
}
