/**
 * {@link FileStateManager}: one new file per saved context state, written
 * atomically, never overwriting and never deleting a file it did not name.
 *
 * @module
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  existsSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { nanoid } from 'nanoid';
import { z } from 'zod';
import { systemClock } from '../../clock.js';
import type { Clock } from '../../clock.js';
import { PersistenceFormat } from '../../constants.js';
import { ErrorCode, ExecutionError, ValidationFailure } from '../../errors.js';
import { countSchema, idSchema, parseInput } from '../../validation.js';
import { parseExecutionContextState } from './context-state.js';
import type { ExecutionContextState } from './context-state.js';

const pathSchema = z.string().min(1);

/** Options of {@link FileStateManager}. */
export interface FileStateManagerOptions {
  /** Directory of the state files; created on the first save. */
  stateDir: string;
  /**
   * Format of new files (reading detects either).
   * @default PersistenceFormat.JSON
   */
  format?: PersistenceFormat;
  /**
   * Time used in file names (and to order saves).
   * @default systemClock
   */
  clock?: Clock;
}

/** One state file as named by {@link FileStateManager}. */
export interface StateFileInfo {
  /** Absolute path. */
  path: string;
  executionId: string;
  /** ISO time (manager clock) of the save. */
  savedAt: string;
  /** Orders saves made in the same millisecond: 0, 1, 2... */
  sequence: number;
  format: PersistenceFormat;
}

const optionsSchema = z.strictObject({
  stateDir: z.string().min(1, { message: 'Expected a non-empty directory path' }),
  format: z.enum(PersistenceFormat).optional(),
  clock: z
    .custom<Clock>((value) => typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function', {
      message: 'Expected a Clock',
    })
    .optional(),
});

// <id>__<YYYY-MM-DDTHH-mm-ss-SSSZ>__<sequence>__<nanoid>.json[.gz]. The tail has
// a fixed shape, so the id part is unambiguous even when an id contains "__".
const FILE_NAME = /^(.+)__([+-]?\d{4,6}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)__(\d{4,})__([A-Za-z0-9_-]{21})\.json(\.gz)?$/;
const GZIP_MAGIC = [0x1f, 0x8b] as const;

function encodeId(executionId: string): string {
  // encodeURIComponent leaves !'()* alone; they are awkward in file names on some systems.
  return encodeURIComponent(executionId).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeId(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

function timePart(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

function timeFromPart(part: string): string {
  // 2026-01-02T03-04-05-678Z -> 2026-01-02T03:04:05.678Z
  return part.replace(/T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/, 'T$1:$2:$3.$4Z');
}

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function storeError(message: string, cause: unknown, details: Record<string, unknown>): ExecutionError {
  return new ExecutionError(ErrorCode.StoreError, `${message}: ${cause instanceof Error ? cause.message : String(cause)}`, {
    cause,
    details,
  });
}

/**
 * Saves and loads {@link ExecutionContextState}s as files, one new file per
 * save: `<executionId>__<time>__<sequence>__<nanoid>.json` (or `.json.gz`).
 * Files are written to a temporary name and hard-linked into place, so a
 * reader never sees a half-written file and an existing file is never
 * replaced. `list`, `loadLatest` and `prune` only ever consider files whose
 * name this scheme gives to that exact execution id.
 *
 * @example
 * const files = new FileStateManager({ stateDir: '.orchestrator/contexts' });
 * const path = files.save(context.exportState());
 * const latest = files.loadLatest(context.executionId);
 */
export class FileStateManager {
  /** Absolute directory of the files. */
  readonly stateDir: string;
  /** Format of new files. */
  readonly format: PersistenceFormat;
  private readonly clock: Clock;

  constructor(options: FileStateManagerOptions) {
    const parsed = parseInput(optionsSchema, options, 'FileStateManager options');
    this.stateDir = resolve(parsed.stateDir);
    this.format = parsed.format ?? PersistenceFormat.JSON;
    this.clock = parsed.clock ?? systemClock;
  }

  /**
   * Writes `state` to a new file and returns its path. The state is validated
   * first (`INVALID_INPUT`); I/O failures throw `STORE_ERROR`.
   */
  save(state: ExecutionContextState): string {
    const valid = parseExecutionContextState(state, 'FileStateManager.save state');
    const now = this.clock.now();
    const time = timePart(now);
    const sequence = this.nextSequence(valid.executionId, now);
    const gzip = this.format === PersistenceFormat.COMPRESSED_JSON;
    const name = `${encodeId(valid.executionId)}__${time}__${String(sequence).padStart(4, '0')}__${nanoid()}.json${gzip ? '.gz' : ''}`;
    const text = JSON.stringify(valid);
    const data = gzip ? gzipSync(text) : Buffer.from(text, 'utf8');
    const target = join(this.stateDir, name);
    try {
      mkdirSync(this.stateDir, { recursive: true });
    } catch (error) {
      throw storeError(`Cannot create state directory ${this.stateDir}`, error, { stateDir: this.stateDir });
    }
    this.writeNewFile(target, data);
    return target;
  }

  /** Paths of this execution's files, oldest first. */
  list(executionId: string): string[] {
    return this.listFiles(executionId).map((file) => file.path);
  }

  /** This execution's files with what their names say, oldest first. */
  listFiles(executionId: string): StateFileInfo[] {
    const id = parseInput(idSchema, executionId, 'FileStateManager executionId');
    return this.scan().filter((file) => file.executionId === id);
  }

  /** Execution ids that have at least one file here, sorted. */
  listExecutions(): string[] {
    return [...new Set(this.scan().map((file) => file.executionId))].sort();
  }

  /**
   * Reads one state file (gzip or JSON, detected from its first bytes) and
   * validates it. Unreadable -> `STORE_ERROR`; truncated or corrupt ->
   * `STORE_CORRUPT`; written by a newer release -> `STATE_INCOMPATIBLE`.
   */
  load(path: string): ExecutionContextState {
    const file = parseInput(pathSchema, path, 'FileStateManager.load path');
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw storeError(`Cannot read state file ${file}`, error, { file });
    }
    const corrupt = (why: string, cause?: unknown, details: Record<string, unknown> = {}): ExecutionError =>
      new ExecutionError(ErrorCode.StoreCorrupt, `State file ${file} is corrupt: ${why}`, {
        cause,
        details: { file, ...details },
      });
    const gzipped = bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
    if (!gzipped && file.endsWith('.gz')) throw corrupt('expected gzip data');
    let text: string;
    try {
      text = gzipped ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
    } catch (error) {
      throw corrupt(error instanceof Error ? error.message : 'cannot decompress', error);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw corrupt(error instanceof Error ? error.message : 'not JSON', error);
    }
    try {
      return parseExecutionContextState(json, `State file ${file}`);
    } catch (error) {
      if (error instanceof ValidationFailure && error.code === ErrorCode.InvalidInput) {
        throw corrupt(error.message, error, { field: error.field });
      }
      throw error;
    }
  }

  /** The newest state of an execution, or undefined when it has no file. */
  loadLatest(executionId: string): ExecutionContextState | undefined {
    const latest = this.listFiles(executionId).at(-1);
    if (latest === undefined) return undefined;
    const state = this.load(latest.path);
    if (state.executionId !== latest.executionId) {
      throw new ExecutionError(
        ErrorCode.StoreCorrupt,
        `State file ${latest.path} holds execution "${state.executionId}", not "${latest.executionId}"`,
        { details: { file: latest.path } },
      );
    }
    return state;
  }

  /**
   * Deletes all but the newest `keep` files of this execution and returns the
   * deleted paths. Files of other executions and files not named by this
   * manager are never touched.
   */
  prune(executionId: string, keep: number): string[] {
    const count = parseInput(countSchema, keep, 'FileStateManager.prune keep');
    const files = this.listFiles(executionId);
    const doomed = files.slice(0, Math.max(0, files.length - count)).map((file) => file.path);
    for (const path of doomed) {
      try {
        rmSync(path, { force: true });
      } catch (error) {
        throw storeError(`Cannot delete state file ${path}`, error, { file: path });
      }
    }
    return doomed;
  }

  private scan(): StateFileInfo[] {
    let names: string[];
    try {
      names = readdirSync(this.stateDir);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw storeError(`Cannot list state directory ${this.stateDir}`, error, { stateDir: this.stateDir });
    }
    const files: (StateFileInfo & { ms: number })[] = [];
    for (const name of names) {
      const match = FILE_NAME.exec(name);
      if (match === null) continue;
      const [, encoded = '', time = '', sequence = '', , gz] = match;
      const executionId = decodeId(encoded);
      const savedAt = timeFromPart(time);
      const ms = Date.parse(savedAt);
      if (executionId === undefined || executionId === '' || Number.isNaN(ms)) continue;
      files.push({
        path: join(this.stateDir, name),
        executionId,
        savedAt,
        sequence: Number(sequence),
        format: gz === undefined ? PersistenceFormat.JSON : PersistenceFormat.COMPRESSED_JSON,
        ms,
      });
    }
    files.sort((a, b) => a.ms - b.ms || a.sequence - b.sequence || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return files.map(({ ms: _ms, ...file }) => file);
  }

  private nextSequence(executionId: string, ms: number): number {
    const sameTime = this.scan().filter((file) => file.executionId === executionId && Date.parse(file.savedAt) === ms);
    return sameTime.reduce((next, file) => Math.max(next, file.sequence + 1), 0);
  }

  private writeNewFile(target: string, data: Buffer): void {
    const temp = join(this.stateDir, `.${nanoid()}.tmp`);
    try {
      const fd = openSync(temp, 'wx');
      try {
        writeSync(fd, data);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        // link() fails with EEXIST instead of replacing: atomic and never overwriting.
        linkSync(temp, target);
      } catch (error) {
        const code = errnoCode(error);
        if (code === 'EEXIST') throw error;
        // File systems without hard links: rename is still atomic; the name holds a fresh nanoid.
        if (existsSync(target)) throw error;
        renameSync(temp, target);
      }
    } catch (error) {
      throw storeError(`Cannot write state file ${target}`, error, { file: target });
    } finally {
      rmSync(temp, { force: true });
    }
  }
}
