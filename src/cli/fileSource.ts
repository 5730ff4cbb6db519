/**
 * Dump files for the engine: positional reads of the bytes asked for, never the whole file,
 * and never a write. The file is opened for each read, so nothing stays open however long
 * a program or debug session holding the dump lives; pages read are cached above this.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ByteSource, DumpError } from '../dump/source';

function reason(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e);
}

/** A read-only source over a file; throws DumpError when it cannot be opened. */
export function openFileSource(path: string, name = path): ByteSource {
  let size: number;
  let regular: boolean;
  try {
    const fd = openSync(path, 'r');
    try {
      const st = fstatSync(fd);
      size = st.size;
      regular = st.isFile();
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new DumpError(`cannot open ${path}: ${reason(e)}`);
  }
  // A folder opens but cannot be read; a FIFO or device has no size to read positionally.
  if (!regular) throw new DumpError(`cannot open ${path}: not a regular file (give the dump file itself)`);
  return {
    name,
    size,
    read(offset, length) {
      const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (e) {
        throw new DumpError(`cannot read ${path} at offset 0x${offset.toString(16)}: ${reason(e)}`);
      }
      try {
        for (let done = 0; done < out.length;) {
          const n = readSync(fd, out, done, out.length - done, offset + done);
          if (n === 0) return out.subarray(0, done);
          done += n;
        }
      } catch (e) {
        throw new DumpError(`cannot read ${path} at offset 0x${offset.toString(16)}: ${reason(e)}`);
      } finally {
        closeSync(fd);
      }
      return out;
    },
  };
}
