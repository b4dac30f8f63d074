/**
 * The file store's few careful file operations: new files that appear whole
 * or not at all and never replace anything, atomic replacement of a file the
 * store owns, appends that are undone when they fail, and directory fsyncs so
 * new names survive a power loss.
 *
 * @module
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { errorCode } from './store-errors.js';

/** The first bytes of a gzip stream. */
export const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Writes all of `data` at the fd's position (writeSync may write less than asked). */
function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
}

/** Writes `data` to a new temporary file in `dir` (fsync'd when `durable`) and returns its path. */
function writeTemp(dir: string, data: Buffer, durable = true): string {
  const temp = join(dir, `.tmp-${nanoid()}`);
  const fd = openSync(temp, 'wx');
  try {
    writeAll(fd, data);
    if (durable) fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  return temp;
}

/**
 * Creates `target` with `data`: written to a temporary name, fsync'd, then
 * hard-linked into place, so a reader sees the whole file or none, and an
 * existing file makes it fail (`EEXIST`) instead of being replaced.
 */
export function createFileAtomically(dir: string, target: string, data: Buffer): void {
  const temp = writeTemp(dir, data);
  try {
    linkSync(temp, target);
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * Replaces `target` (a file the store owns) with `data` in one atomic rename.
 * Not `durable`: the data are not fsync'd, for files that are only a cache
 * and are checked when read.
 */
export function replaceFileAtomically(dir: string, target: string, data: Buffer, durable = true): void {
  const temp = writeTemp(dir, data, durable);
  try {
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * Appends `data` to `path` (created when missing) and fsyncs it. The file is
 * first cut back to `keepBytes` (dropping a torn tail left by a crash), and
 * cut back again when the append fails, so a failed append leaves nothing.
 */
export function appendDurably(path: string, keepBytes: number, currentBytes: number, data: Buffer): void {
  const fd = openSync(path, 'a');
  try {
    if (currentBytes !== keepBytes) ftruncateSync(fd, keepBytes);
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } catch (error) {
      try {
        ftruncateSync(fd, keepBytes);
      } catch {
        // The torn tail this leaves is ignored by readers and cut by the next append.
      }
      throw error;
    }
  } finally {
    closeSync(fd);
  }
}

/** Cuts `path` back to `bytes` (undoing a committed append of this call); best effort. */
export function truncateQuietly(path: string, bytes: number): void {
  try {
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Nothing better to do while reporting the original failure.
  }
}

/** Makes a directory's new or renamed entries durable. Some file systems refuse; that is not an error. */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'EBADF') throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Whether a file system error says the path does not exist (or a part of it is not a directory). */
export function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The file's bytes, or undefined when it does not exist. */
export function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** Whether `bytes` start like gzip. */
export function isGzip(bytes: Buffer): boolean {
  return bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}
