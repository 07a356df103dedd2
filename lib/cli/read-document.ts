import { open } from 'node:fs/promises';
import { RegistryError } from '../errors.ts';
import { DEFAULT_MAX_BYTES } from '../formats/json-text.ts';

/**
 * Reads a document named on the command line: a file path, or `-` for standard input. Stops at
 * `maxBytes` (one byte more is read to tell "exactly the limit" from "over it").
 */
export async function readDocument(name: string, stdin: NodeJS.ReadableStream, maxBytes = DEFAULT_MAX_BYTES): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  const tooLarge = () => new RegistryError('too_large', `input is over the limit of ${maxBytes} bytes`, { where: { file: name === '-' ? '<stdin>' : name } });
  if (name === '-') {
    for await (const chunk of stdin) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > maxBytes) throw tooLarge();
      chunks.push(buf);
    }
    return Buffer.concat(chunks);
  }
  let handle;
  try {
    handle = await open(name, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : ((e as Error).message ?? String(e));
    throw new RegistryError(code === 'ENOENT' ? 'source_not_found' : 'invalid_argument', `cannot read: ${why}`, { where: { file: name } });
  }
  try {
    for await (const chunk of handle.createReadStream()) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > maxBytes) throw tooLarge();
      chunks.push(buf);
    }
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new RegistryError('invalid_argument', `cannot read: ${code === 'EISDIR' ? 'is a directory' : (e as Error).message}`, { where: { file: name } });
  } finally {
    await handle.close().catch(() => {});
  }
  return Buffer.concat(chunks);
}
