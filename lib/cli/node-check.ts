/**
 * The first thing `mcpreg` runs, before any of its code is loaded: on a Node.js older than the
 * CLI supports, one line saying which Node is needed and how to get it, instead of a
 * TypeError deep inside a dependency. Keep this file to syntax and APIs that old Node versions
 * parse and run (the bundle's other chunks are loaded only after the check passes).
 */
export const REQUIRED_NODE_MAJOR = 24;

export function nodeVersionProblem(program: string, version: string = process.versions.node, execPath: string = process.execPath): string | undefined {
  const major = Number(version.split('.')[0]);
  if (major >= REQUIRED_NODE_MAJOR) return undefined;
  return `${program}: needs Node.js ${REQUIRED_NODE_MAJOR} or newer, but ${execPath} is Node.js ${version}: install Node.js ${REQUIRED_NODE_MAJOR} (https://nodejs.org/, or \`nvm install ${REQUIRED_NODE_MAJOR}\`), or, in this project, run it through npm (\`npm run mcpreg -- …\`), which uses the Node.js ${REQUIRED_NODE_MAJOR} that npm installed with it\n`;
}

/** Exits with status 1 after one line on stderr when this Node.js is too old. */
export function requireSupportedNode(program: string): void {
  const problem = nodeVersionProblem(program);
  if (problem === undefined) return;
  process.stderr.write(problem);
  process.exit(1);
}
