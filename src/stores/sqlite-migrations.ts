/**
 * The SQLite schema as ordered, append-only migrations in code. A database
 * records each applied version in `schema_version`; opening one written by a
 * newer release is refused before anything in the file changes.
 *
 * @module
 */
import type { Database } from 'better-sqlite3';
import { ErrorCode, ExecutionError } from '../errors.js';
import { CREATE_SCHEMA_VERSION, SCHEMA_V1, SQL } from './sqlite-sql.js';

/** One schema step. Never edit a released one: append a new version instead. */
export interface SqliteMigration {
  /** 1, 2, 3... in order. */
  version: number;
  /** What it changes. */
  description: string;
  /** Applies the change (inside the migration transaction). */
  up(db: Database): void;
}

/** Every migration, oldest first. */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    description: 'executions, journal and checkpoints tables with their indexes',
    up: (db) => {
      db.exec(SCHEMA_V1);
    },
  },
];

/** The schema version this release creates and the newest it reads. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** The database's schema version; 0 for a database this store has never opened. */
export function readSchemaVersion(db: Database): number {
  if (db.prepare(SQL.hasVersionTable).get() === undefined) return 0;
  const version = db.prepare(SQL.currentVersion).pluck().get();
  return typeof version === 'number' ? version : 0;
}

/** Refuses a database written by a newer release (`STORE_INCOMPATIBLE`, both versions named). */
export function assertKnownVersion(version: number, filename: string, supported = SQLITE_SCHEMA_VERSION): void {
  if (version > supported) {
    throw new ExecutionError(
      ErrorCode.StoreIncompatible,
      `SQLite store ${filename} has schema version ${version}, but this release knows versions up to ${supported}; ` +
        'open it with a newer release of the package',
      { details: { filename, version, supported } },
    );
  }
}

/**
 * Applies the missing migrations in one IMMEDIATE transaction: the write lock
 * is taken before the version is read again, so two processes opening a new
 * file at once migrate it exactly once (the second sees the first's version).
 *
 * @returns the schema version after migrating.
 */
export function migrate(db: Database, filename: string, now: () => string, migrations = SQLITE_MIGRATIONS): number {
  const supported = migrations.reduce((max, m, index) => {
    // Append-only: a version out of order is a bug in this file, not in the database.
    if (m.version !== index + 1) throw new Error(`SQLite migration #${index} has version ${m.version}; expected ${index + 1}`);
    return m.version;
  }, 0);
  const run = db.transaction((): number => {
    let version = readSchemaVersion(db);
    assertKnownVersion(version, filename, supported);
    if (version === 0) db.exec(CREATE_SCHEMA_VERSION);
    const record = db.prepare(SQL.recordVersion);
    for (const migration of migrations) {
      if (migration.version <= version) continue;
      migration.up(db);
      record.run({ version: migration.version, appliedAt: now() });
      version = migration.version;
    }
    return version;
  });
  return run.immediate();
}
