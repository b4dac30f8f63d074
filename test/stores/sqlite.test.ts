/**
 * SQLite specifics: migrations and the version table, refusing a newer
 * schema without touching the file, corrupted rows, PRAGMAs, and journal
 * numbering shared by two connections.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore, SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, type SqliteCheckpointStore } from '../../src/stores/index.js';
import { migrate } from '../../src/stores/sqlite-migrations.js';
import { ErrorCode, everyKind, finished, makeCheckpoint, started, summary, tempDir, thrownBy } from './fixtures.js';

let dir: string;
let remove: () => void;
let file: string;
const open: SqliteCheckpointStore[] = [];

function openStore(options: Parameters<typeof createSqliteStore>[0] = {}): SqliteCheckpointStore {
  const store = createSqliteStore({ filename: file, ...options });
  open.push(store);
  return store;
}

/** A raw connection to the same file, for looking behind the store's back. */
function raw(): Database.Database {
  return new Database(file);
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

beforeEach(() => {
  ({ dir, remove } = tempDir('sqlite-'));
  file = join(dir, 'a', 'b', 'state.db');
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  remove();
});

describe('schema and migrations', () => {
  it('creates the parent directory, the tables, the indexes and the version row', () => {
    openStore();
    expect(existsSync(file)).toBe(true);
    const db = raw();
    const names = (type: string): string[] =>
      (db.prepare('SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE ? ORDER BY name').pluck().all(type, 'sqlite_%') as string[]);
    expect(names('table')).toEqual(['checkpoints', 'executions', 'journal', 'schema_version']);
    expect(names('index')).toEqual(['checkpoints_by_execution', 'executions_by_pipeline', 'executions_by_status', 'executions_by_updated']);
    expect(db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all()).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
    expect(SQLITE_SCHEMA_VERSION).toBe(SQLITE_MIGRATIONS.length);
    db.close();
  });

  it('migrates once: reopening applies nothing again', async () => {
    const first = openStore();
    first.sync.write([{ executionId: 'e1', summary: summary('e1'), journal: [started('s1')] }]);
    await first.close();
    openStore();
    const db = raw();
    expect(db.prepare('SELECT COUNT(*) FROM schema_version').pluck().get()).toBe(SQLITE_MIGRATIONS.length);
    db.close();
  });

  it('applies only the migrations a database lacks, in order, and refuses a gap', () => {
    const db = new Database(':memory:');
    const applied: number[] = [];
    const v2 = { version: 2, description: 'test column', up: (d: Database.Database) => d.exec('ALTER TABLE executions ADD COLUMN note TEXT') };
    expect(migrate(db, 'memory', () => 'now', SQLITE_MIGRATIONS)).toBe(1);
    expect(migrate(db, 'memory', () => 'now', [...SQLITE_MIGRATIONS, { ...v2, up: (d) => { applied.push(2); v2.up(d); } }])).toBe(2);
    expect(applied).toEqual([2]);
    expect(db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all()).toEqual([1, 2]);
    expect(() => migrate(db, 'memory', () => 'now', [{ ...v2, version: 3 }])).toThrow(/version 3; expected 1/);
    db.close();
  });

  it('refuses a database with a newer schema version and leaves the file unchanged', async () => {
    const store = openStore();
    store.sync.write([{ executionId: 'e1', summary: summary('e1'), journal: [started('s1')] }]);
    await store.close();
    const db = raw();
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (999, ?)').run('2030-01-01T00:00:00.000Z');
    db.close();
    const before = sha(file);
    const error = thrownBy(() => createSqliteStore({ filename: file }));
    expect(error.code).toBe(ErrorCode.StoreIncompatible);
    expect(error.message).toContain('999');
    expect(error.message).toContain(`up to ${SQLITE_SCHEMA_VERSION}`);
    expect(error.details).toMatchObject({ version: 999, supported: SQLITE_SCHEMA_VERSION });
    expect(sha(file)).toBe(before);
  });

  it('reports a file that is not a database as STORE_CORRUPT', () => {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(file, 'this is not a database, just some text that is long enough to be read as a header page');
    expect(thrownBy(() => createSqliteStore({ filename: file })).code).toBe(ErrorCode.StoreCorrupt);
  });

  it('refuses bad options with INVALID_INPUT', () => {
    expect(thrownBy(() => createSqliteStore({ synchronous: 'OFF' as never }))).toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'synchronous' } });
    expect(thrownBy(() => createSqliteStore({ filename: '' }))).toMatchObject({ details: { field: 'filename' } });
  });
});

describe('connection settings', () => {
  it('uses WAL, NORMAL, foreign keys and the busy timeout by default', () => {
    expect(openStore().pragmas()).toEqual({ journalMode: 'wal', synchronous: 1, foreignKeys: 1, busyTimeoutMs: 5000 });
  });

  it('takes synchronous FULL and a busy timeout', () => {
    expect(openStore({ synchronous: 'FULL', busyTimeoutMs: 250 }).pragmas()).toMatchObject({ journalMode: 'wal', synchronous: 2, busyTimeoutMs: 250 });
  });

  it('passes PRAGMA integrity_check', () => {
    const store = openStore();
    store.sync.write([{ executionId: 'e1', summary: summary('e1'), journal: everyKind(), checkpoints: [makeCheckpoint('e1')] }]);
    expect(store.integrityCheck()).toBe('ok');
  });

  it('lists executions through its indexes', () => {
    openStore();
    const db = raw();
    const plan = (sql: string): string => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan("SELECT * FROM executions WHERE status = 'running' ORDER BY updated_at DESC, execution_id LIMIT 5")).toContain('executions_by_status');
    expect(plan("SELECT * FROM executions WHERE pipeline_id = 'p' ORDER BY updated_at DESC, execution_id LIMIT 5")).toContain('executions_by_pipeline');
    expect(plan('SELECT * FROM executions ORDER BY updated_at DESC, execution_id LIMIT 5')).toContain('executions_by_updated');
    db.close();
  });
});

describe('corrupted rows', () => {
  const seed = (store: SqliteCheckpointStore): string => {
    const checkpoint = makeCheckpoint('e1');
    store.sync.write([
      { executionId: 'e1', summary: summary('e1'), journal: [started('s1'), finished('s1')], checkpoints: [checkpoint] },
      { executionId: 'e2', summary: summary('e2'), journal: [started('s1')] },
    ]);
    return checkpoint.id;
  };

  it('names the execution, table and seq of a journal row that is not JSON; others still load', () => {
    const store = openStore();
    seed(store);
    const db = raw();
    db.prepare("UPDATE journal SET payload = '{not json' WHERE execution_id = 'e1' AND seq = 2").run();
    db.close();
    const error = thrownBy(() => store.sync.loadExecution('e1'));
    expect(error.code).toBe(ErrorCode.StoreCorrupt);
    expect(error.message).toContain('"e1"');
    expect(error.message).toContain('table journal, row seq 2');
    expect(store.sync.loadExecution('e2')?.journal).toHaveLength(1);
    expect(store.sync.listExecutions().map((s) => s.executionId).sort()).toEqual(['e1', 'e2']);
  });

  it('reports a journal row of the wrong shape, and a kind column that disagrees', () => {
    const store = openStore();
    seed(store);
    const db = raw();
    db.prepare(`UPDATE journal SET payload = '{"kind":"step_started","stepId":""}' WHERE execution_id = 'e1' AND seq = 1`).run();
    db.prepare("UPDATE journal SET kind = 'status' WHERE execution_id = 'e2' AND seq = 1").run();
    db.close();
    expect(thrownBy(() => store.sync.loadExecution('e1'))).toMatchObject({ code: ErrorCode.StoreCorrupt, details: { where: 'table journal, row seq 1' } });
    expect(thrownBy(() => store.sync.loadExecution('e2')).message).toContain('kind column says "status"');
  });

  it('reports a bad summary row on listing and loading', () => {
    const store = openStore();
    seed(store);
    const db = raw();
    db.prepare("UPDATE executions SET metadata = '[1,' WHERE execution_id = 'e2'").run();
    db.close();
    expect(thrownBy(() => store.sync.listExecutions()).message).toContain('table executions, row "e2"');
    expect(thrownBy(() => store.sync.loadExecution('e2')).code).toBe(ErrorCode.StoreCorrupt);
    expect(store.sync.loadExecution('e1')?.journal).toHaveLength(2);
  });

  it('names the checkpoint of a bad record, and refuses a newer record with CHECKPOINT_INCOMPATIBLE', () => {
    const store = openStore();
    const id = seed(store);
    const db = raw();
    const record = JSON.parse(db.prepare('SELECT record FROM checkpoints WHERE id = ?').pluck().get(id) as string) as Record<string, unknown>;
    db.prepare('UPDATE checkpoints SET record = ? WHERE id = ?').run(JSON.stringify({ ...record, formatVersion: 2 }), id);
    expect(thrownBy(() => store.sync.getCheckpoint('e1', id)).code).toBe(ErrorCode.CheckpointIncompatible);
    db.prepare('UPDATE checkpoints SET record = ? WHERE id = ?').run(JSON.stringify({ ...record, metrics: 'none' }), id);
    db.close();
    const error = thrownBy(() => store.sync.loadExecution('e1'));
    expect(error.code).toBe(ErrorCode.StoreCorrupt);
    expect(error.message).toContain(`table checkpoints, row "${id}"`);
    expect(store.sync.listCheckpoints('e1').map((c) => c.id)).toEqual([id]);
  });
});

describe('several connections', () => {
  it('numbers one execution right when two connections write it in turn', () => {
    const a = openStore();
    const b = openStore();
    a.sync.write([{ executionId: 'shared', summary: summary('shared') }]);
    for (let i = 0; i < 20; i++) (i % 3 === 0 ? a : b).sync.write([{ executionId: 'shared', journal: [started(`s${i}`), finished(`s${i}`)] }]);
    const journal = a.sync.loadExecution('shared')?.journal ?? [];
    expect(journal.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(b.sync.loadExecution('shared')?.journal).toEqual(journal);
  });

  it('numbers right after a raw connection appended behind its back, and after a write it rolled back', () => {
    const store = openStore();
    store.sync.write([{ executionId: 'e', summary: summary('e'), journal: [started('s1'), finished('s1')] }]);
    // Another connection commits a row: the store's remembered head is stale now.
    const db = raw();
    db.prepare(`INSERT INTO journal (execution_id, seq, kind, step_id, payload, at) VALUES ('e', 3, 'step_started', 's2', ?, ?)`).run(
      JSON.stringify(started('s2')),
      started('s2').at,
    );
    db.close();
    store.sync.write([{ executionId: 'e', journal: [finished('s2')] }]);
    // A write refused inside the transaction (a checkpoint id taken) leaves nothing and numbering intact.
    const checkpoint = makeCheckpoint('e');
    store.sync.write([{ executionId: 'e', checkpoints: [checkpoint] }]);
    expect(() => {
      store.sync.write([{ executionId: 'e', journal: [started('s3')], checkpoints: [checkpoint] }]);
    }).toThrow();
    store.sync.write([{ executionId: 'e', journal: [started('s3'), finished('s3'), started('s4')] }]);
    const journal = store.sync.loadExecution('e')?.journal ?? [];
    expect(journal.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(journal.map((entry) => (entry.kind === 'step_finished' ? `done ${entry.record.stepId}` : entry.kind))).toEqual([
      'step_started',
      'done s1',
      'step_started',
      'done s2',
      'step_started',
      'done s3',
      'step_started',
    ]);
  });

  it('keeps checkpoint ids unique across executions, as its primary key says', () => {
    const store = openStore();
    const checkpoint = makeCheckpoint('e1');
    store.sync.write([{ executionId: 'e1', summary: summary('e1'), checkpoints: [checkpoint] }]);
    const copy = { ...checkpoint, executionId: 'e2' };
    const error = thrownBy(() => {
      store.sync.write([{ executionId: 'e2', summary: summary('e2'), checkpoints: [copy] }]);
    });
    expect(error).toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'batches[0].checkpoints[0].id' } });
    expect(store.sync.loadExecution('e2')).toBeNull();
  });
});
