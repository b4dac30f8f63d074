/**
 * `--store`: which store a command opens. A path is a SQLite database (the
 * default `.orchestrator/state.db` in the working directory); `file:<dir>`
 * is the file store; `postgres://...` the PostgreSQL store (schema
 * `orchestrator`).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createFileStore, createSqliteStore } from '../stores/index.js';
import { createPostgresStore } from '../stores/postgres-store.js';
import type { CheckpointStore } from '../stores/types.js';
import { UsageError } from './args.js';

/** The default `--store`. */
export const DEFAULT_STORE = '.orchestrator/state.db';

/** A `--store` value resolved against the working directory. */
export interface StoreLocation {
  kind: 'sqlite' | 'file' | 'postgres';
  /** Absolute path of the database file or state directory; the connection string for PostgreSQL. */
  path: string;
  /** As the user gave it (for messages and the resume hint). */
  spec: string;
}

/** Resolves `--store` (undefined: the default SQLite file). */
export function locateStore(spec: string | undefined, cwd: string): StoreLocation {
  const given = spec ?? DEFAULT_STORE;
  if (/^postgres(ql)?:\/\//i.test(given)) return { kind: 'postgres', path: given, spec: given };
  if (given.startsWith('file:')) {
    const dir = given.slice('file:'.length);
    if (dir === '') throw new UsageError('--store: file: needs a directory, as in file:.orchestrator/files');
    return { kind: 'file', path: resolve(cwd, dir), spec: given };
  }
  return { kind: 'sqlite', path: resolve(cwd, given.startsWith('sqlite:') ? given.slice('sqlite:'.length) : given), spec: given };
}

/** Whether the store exists yet (reading commands do not create one). */
export function storeExists(location: StoreLocation): boolean {
  // A database server always "exists"; an unknown id is reported by the command.
  return location.kind === 'postgres' || existsSync(location.path);
}

/** Opens the store (creating the database file or directory when needed). */
export function openStore(location: StoreLocation): CheckpointStore {
  switch (location.kind) {
    case 'file':
      return createFileStore({ stateDir: location.path });
    case 'postgres':
      return createPostgresStore({ connectionString: location.path });
    case 'sqlite':
      return createSqliteStore({ filename: location.path });
  }
}
