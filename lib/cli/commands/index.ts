import type { CliCommand } from '../command.ts';
import complete from './complete.ts';
import completion from './completion.ts';
import controlPlane from './control-plane.ts';
import convert from './convert.ts';
import deploy from './deploy.ts';
import dev from './dev.ts';
import registryAdd from './registry-add.ts';
import registryExport from './registry-export.ts';
import registryGet from './registry-get.ts';
import registryImport from './registry-import.ts';
import registryList from './registry-list.ts';
import registryRemove from './registry-remove.ts';
import registrySync from './registry-sync.ts';
import search from './search.ts';
import show from './show.ts';
import validate from './validate.ts';

/** Every command, one line each (keep sorted). A test checks that each file here is listed. */
export const commands: readonly CliCommand[] = [complete, completion, controlPlane, convert, deploy, dev, registryAdd, registryExport, registryGet, registryImport, registryList, registryRemove, registrySync, search, show, validate];

/** One-line summaries of the groups that commands' paths create (`mcpreg registry …`). */
export const groups: Readonly<Record<string, string>> = {
  registry: 'manage MCPRegistries: list, get, add, sync, remove, import, export',
};
