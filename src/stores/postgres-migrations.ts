/**
 * The PostgreSQL schema as ordered, append-only migrations in code. Each
 * store schema records its applied versions in `schema_version`; migrating
 * runs in one transaction under an advisory lock, so processes opening the
 * same schema at once migrate it exactly once, and a schema written by a
 * newer release is refused before anything changes.
 *
 * @module
 */
import type { PoolClient } from 'pg';
import { ErrorCode, ExecutionError } from '../errors.js';
import type { PostgresSql } from './postgres-sql.js';

/** One schema step. Never edit a released one: append a new version instead. */
export interface PostgresMigration {
  /** 1, 2, 3... in order. */
  version: number;
  /** What it changes. */
  description: string;
  /** The DDL (runs inside the migration transaction). */
  up(sql: PostgresSql): string;
}

/** Every migration, oldest first. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'executions, journal and checkpoints tables with their indexes',
    up: (sql) => sql.ddl.v1,
  },
  {
    version: 2,
    description: 'work queue of the workers (status, owner, lease, attempts)',
    up: (sql) => sql.ddl.v2,
  },
];

/** The schema version this release creates and the newest it reads. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** The schema's version; 0 for a schema this store has never opened. */
export async function readSchemaVersion(client: PoolClient, sql: PostgresSql, schemaName: string): Promise<number> {
  const exists = await client.query(sql.hasVersionTable, [schemaName]);
  if (exists.rowCount === 0) return 0;
  const result = await client.query<{ version: number }>(sql.currentVersion);
  return result.rows[0]?.version ?? 0;
}

/** Refuses a schema written by a newer release (`STORE_INCOMPATIBLE`, both versions named). */
export function assertKnownVersion(version: number, schemaName: string, supported = POSTGRES_SCHEMA_VERSION): void {
  if (version > supported) {
    throw new ExecutionError(
      ErrorCode.StoreIncompatible,
      `PostgreSQL store schema "${schemaName}" has schema version ${version}, but this release knows versions up to ${supported}; ` +
        'open it with a newer release of the package',
      { details: { schema: schemaName, version, supported } },
    );
  }
}

function checkOrder(migrations: readonly PostgresMigration[]): number {
  return migrations.reduce((max, m, index) => {
    // Append-only: a version out of order is a bug in this file, not in the database.
    if (m.version !== index + 1) throw new Error(`PostgreSQL migration #${index} has version ${m.version}; expected ${index + 1}`);
    return m.version;
  }, 0);
}

/**
 * Brings the schema up to date. A schema already current costs two reads and
 * no lock; otherwise the missing migrations run in one transaction under
 * `pg_advisory_xact_lock`, the version read again after the lock is held.
 *
 * @returns the schema version after migrating.
 */
export async function migrate(
  client: PoolClient,
  sql: PostgresSql,
  schemaName: string,
  now: () => string,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<number> {
  const supported = checkOrder(migrations);
  const seen = await readSchemaVersion(client, sql, schemaName);
  assertKnownVersion(seen, schemaName, supported);
  if (seen === supported) return seen;
  await client.query('BEGIN');
  try {
    await client.query(sql.migrationLock, [schemaName]);
    let version = await readSchemaVersion(client, sql, schemaName);
    assertKnownVersion(version, schemaName, supported);
    if (version === 0) await client.query(sql.ddl.versionTable);
    for (const migration of migrations) {
      if (migration.version <= version) continue;
      await client.query(migration.up(sql));
      await client.query(sql.recordVersion, [migration.version, now()]);
      version = migration.version;
    }
    await client.query('COMMIT');
    return version;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
