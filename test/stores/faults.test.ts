/**
 * Storage failures: a store whose disk or database throws reports
 * STORE_ERROR with the cause, keeps what was committed, leaves nothing
 * half-written, and takes the next write. The file store's writes fail
 * through a mocked `node:fs`; the SQLite store's through its statements.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFileStore, createSqliteStore, type CheckpointStore, type StoredExecution, type SyncStoreApi } from '../../src/stores/index.js';
import { ErrorCode, finished, makeCheckpoint, started, summary, syncOf, tempDir, thrownBy } from './fixtures.js';

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return {
    ...actual,
    writeSync: vi.fn(actual.writeSync),
    fsyncSync: vi.fn(actual.fsyncSync),
    linkSync: vi.fn(actual.linkSync),
    renameSync: vi.fn(actual.renameSync),
  };
});

const actualFs = await vi.importActual<typeof import('node:fs')>('node:fs');

function errno(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

let dir: string;
let remove: () => void;
let store: CheckpointStore;
let sync: SyncStoreApi;

beforeEach(() => {
  ({ dir, remove } = tempDir('faults-'));
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.mocked(fs.writeSync).mockImplementation(actualFs.writeSync);
  vi.mocked(fs.fsyncSync).mockImplementation(actualFs.fsyncSync);
  vi.mocked(fs.linkSync).mockImplementation(actualFs.linkSync);
  vi.mocked(fs.renameSync).mockImplementation(actualFs.renameSync);
  await store.close();
  remove();
});

/** Seeds two executions and returns what they hold. */
function seed(): StoredExecution[] {
  sync.write([
    { executionId: 'a', summary: summary('a'), journal: [started('s1'), finished('s1')], checkpoints: [makeCheckpoint('a', 'first')] },
    { executionId: 'b', summary: summary('b'), journal: [started('s1')] },
  ]);
  return ['a', 'b'].map((id) => sync.loadExecution(id)).filter((e) => e !== null);
}

/** After a failed write: the seeded data are intact and a retry-like write lands with the next seq. */
function expectIntactAndWritable(before: StoredExecution[]): void {
  expect(['a', 'b'].map((id) => sync.loadExecution(id))).toEqual(before);
  sync.write([{ executionId: 'a', journal: [started('s2')] }]);
  expect(sync.loadExecution('a')?.journal.map((e) => e.seq)).toEqual([1, 2, 3]);
}

describe('file store with a failing disk', () => {
  let journalA: string;
  beforeEach(() => {
    store = createFileStore({ stateDir: dir });
    sync = syncOf(store);
    journalA = join(dir, 'a', 'journal.jsonl');
  });

  it.each([
    ['a thrown error', new Error('EIO: i/o error')],
    ['disk full', errno('ENOSPC', 'no space left on device')],
  ])('reports %s on the journal append as STORE_ERROR and leaves the journal as it was', (_, failure) => {
    const before = seed();
    const bytes = actualFs.readFileSync(journalA);
    vi.mocked(fs.writeSync).mockImplementationOnce(() => {
      throw failure;
    });
    const error = thrownBy(() => {
      sync.write([{ executionId: 'a', summary: summary('a', { status: 'completed' }), journal: [started('s2')] }]);
    });
    expect(error).toMatchObject({ code: ErrorCode.StoreError, retryable: false });
    expect(error.cause).toBe(failure);
    expect(actualFs.readFileSync(journalA)).toEqual(bytes);
    expectIntactAndWritable(before);
  });

  it('cuts a partial append back when the disk fills up halfway', () => {
    const before = seed();
    const size = actualFs.statSync(journalA).size;
    const halfWrite = (fd: number, buffer: NodeJS.ArrayBufferView, offset?: number | null, length?: number | null): number =>
      actualFs.writeSync(fd, buffer, offset ?? 0, Math.floor((length ?? 0) / 2));
    vi.mocked(fs.writeSync)
      .mockImplementationOnce(halfWrite as typeof fs.writeSync)
      .mockImplementationOnce(() => {
        throw errno('ENOSPC', 'no space left on device');
      });
    expect(thrownBy(() => { sync.write([{ executionId: 'a', journal: [started('s2'), finished('s2')] }]); }).code).toBe(ErrorCode.StoreError);
    expect(actualFs.statSync(journalA).size).toBe(size);
    expectIntactAndWritable(before);
  });

  it('undoes the executions already appended when a later one of the same write fails', () => {
    const before = seed();
    const checkpointsA = actualFs.readdirSync(join(dir, 'a', 'checkpoints'));
    let calls = 0;
    // The write below: a's checkpoint file, a's journal, then b's journal (the third writeSync) fails.
    vi.mocked(fs.writeSync).mockImplementation((...args: Parameters<typeof fs.writeSync>) => {
      calls += 1;
      if (calls === 3) throw errno('ENOSPC', 'no space left on device');
      return (actualFs.writeSync as (...a: Parameters<typeof fs.writeSync>) => number)(...args);
    });
    const error = thrownBy(() => {
      sync.write([
        { executionId: 'a', journal: [started('s2')], checkpoints: [makeCheckpoint('a', 'second')] },
        { executionId: 'b', journal: [finished('s1')] },
      ]);
    });
    vi.mocked(fs.writeSync).mockImplementation(actualFs.writeSync);
    expect(error.code).toBe(ErrorCode.StoreError);
    expect(calls).toBe(3);
    expect(actualFs.readdirSync(join(dir, 'a', 'checkpoints'))).toEqual(checkpointsA);
    expectIntactAndWritable(before);
  });

  it('reports a failing fsync and keeps the unsynced batch out of the journal', () => {
    const before = seed();
    vi.mocked(fs.fsyncSync).mockImplementationOnce(() => {
      throw errno('EIO', 'i/o error');
    });
    expect(thrownBy(() => { sync.write([{ executionId: 'a', journal: [started('s2')] }]); }).code).toBe(ErrorCode.StoreError);
    expectIntactAndWritable(before);
  });

  it('leaves no checkpoint file behind when placing it fails', () => {
    const before = seed();
    const files = actualFs.readdirSync(join(dir, 'a', 'checkpoints'));
    vi.mocked(fs.linkSync).mockImplementationOnce(() => {
      throw errno('EIO', 'i/o error');
    });
    const error = thrownBy(() => { sync.write([{ executionId: 'a', checkpoints: [makeCheckpoint('a', 'second')] }]); });
    expect(error).toMatchObject({ code: ErrorCode.StoreError, cause: { code: 'EIO' } });
    expect(actualFs.readdirSync(join(dir, 'a', 'checkpoints'))).toEqual(files);
    expectIntactAndWritable(before);
  });

  it('counts a write as done once its journal line is durable, even when summary.json cannot be replaced', () => {
    seed();
    vi.mocked(fs.renameSync).mockImplementationOnce(() => {
      throw errno('ENOSPC', 'no space left on device');
    });
    const completed = summary('a', { status: 'completed', updatedAt: '2026-03-02T00:00:00.000Z' });
    sync.write([{ executionId: 'a', summary: completed }]);
    const cached = JSON.parse(actualFs.readFileSync(join(dir, 'a', 'summary.json'), 'utf8')) as { summary: { status: string } };
    expect(cached.summary.status).toBe('running');
    expect(sync.listExecutions({ status: 'completed' })).toEqual([completed]);
    expect(sync.loadExecution('a')?.summary).toEqual(completed);
  });
});

describe('file store with damaged files', () => {
  beforeEach(() => {
    store = createFileStore({ stateDir: dir });
    sync = syncOf(store);
  });

  it('ignores a torn last journal line, and the next write cuts it off', () => {
    const before = seed();
    const journal = join(dir, 'a', 'journal.jsonl');
    actualFs.appendFileSync(journal, '{"v":1,"seq":3,"entries":[{"kind":"step_st');
    expect(sync.loadExecution('a')).toEqual(before[0]);
    expect(sync.listExecutions().map((s) => s.executionId)).toEqual(['a', 'b']);
    sync.write([{ executionId: 'a', journal: [started('s2')] }]);
    const lines = actualFs.readFileSync(journal, 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(() => lines.slice(0, -1).map((line) => JSON.parse(line) as unknown)).not.toThrow();
    expect(sync.loadExecution('a')?.journal.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('reports a damaged complete line as STORE_CORRUPT naming file and line; other executions load', () => {
    const before = seed();
    const journal = join(dir, 'a', 'journal.jsonl');
    sync.write([{ executionId: 'a', journal: [finished('s2')] }]);
    const lines = actualFs.readFileSync(journal, 'utf8').split('\n');
    lines[0] = '{not json';
    actualFs.writeFileSync(journal, lines.join('\n'));
    const error = thrownBy(() => sync.loadExecution('a'));
    expect(error.code).toBe(ErrorCode.StoreCorrupt);
    expect(error.message).toContain('file a/journal.jsonl, line 1');
    expect(error.message).toContain('"a"');
    expect(sync.loadExecution('b')).toEqual(before[1]);
  });

  it.each([false, true])('reports a truncated checkpoint file (gzip: %s) naming the checkpoint; the listing still works', (gzip) => {
    if (gzip) {
      void store.close();
      store = createFileStore({ stateDir: dir, format: 'compressed_json' });
      sync = syncOf(store);
    }
    const before = seed();
    const [checkpoint] = sync.listCheckpoints('a');
    const [name] = actualFs.readdirSync(join(dir, 'a', 'checkpoints'));
    const path = join(dir, 'a', 'checkpoints', name ?? '');
    expect(name?.endsWith(gzip ? '.json.gz' : '.json')).toBe(true);
    actualFs.truncateSync(path, Math.floor(actualFs.statSync(path).size / 2));
    const error = thrownBy(() => sync.getCheckpoint('a', checkpoint?.id ?? ''));
    expect(error.code).toBe(ErrorCode.StoreCorrupt);
    expect(error.message).toContain(`checkpoint "${checkpoint?.id ?? ''}"`);
    expect(error.message).toContain(name);
    expect(thrownBy(() => sync.loadExecution('a')).code).toBe(ErrorCode.StoreCorrupt);
    expect(sync.listCheckpoints('a')).toEqual([checkpoint]);
    expect(sync.loadExecution('b')).toEqual(before[1]);
    actualFs.rmSync(path);
    expect(thrownBy(() => sync.loadExecution('a')).message).toContain('the file is missing');
  });

  it('refuses newer formats: a journal line (STORE_INCOMPATIBLE) and a checkpoint record (CHECKPOINT_INCOMPATIBLE)', () => {
    seed();
    const [name] = actualFs.readdirSync(join(dir, 'a', 'checkpoints'));
    const path = join(dir, 'a', 'checkpoints', name ?? '');
    const record = JSON.parse(actualFs.readFileSync(path, 'utf8')) as Record<string, unknown>;
    actualFs.writeFileSync(path, JSON.stringify({ ...record, formatVersion: 2 }));
    expect(thrownBy(() => sync.loadExecution('a')).code).toBe(ErrorCode.CheckpointIncompatible);
    actualFs.appendFileSync(join(dir, 'b', 'journal.jsonl'), '{"v":2,"seq":2,"stuff":[]}\n');
    expect(thrownBy(() => sync.loadExecution('b'))).toMatchObject({ code: ErrorCode.StoreIncompatible, details: { version: 2 } });
  });
});

describe('sqlite store with a failing database', () => {
  const statementProto = (): { run: (...args: unknown[]) => unknown } => {
    const db = new Database(':memory:');
    const proto = Object.getPrototypeOf(db.prepare('SELECT 1')) as { run: (...args: unknown[]) => unknown };
    db.close();
    return proto;
  };

  /** Makes the `nth` statement run of the next write throw `failure`. */
  const failRun = (nth: number, failure: Error): void => {
    const proto = statementProto();
    const original = proto.run;
    let calls = 0;
    vi.spyOn(proto, 'run').mockImplementation(function (this: unknown, ...args: unknown[]) {
      calls += 1;
      if (calls === nth) throw failure;
      return original.apply(this, args);
    });
  };

  beforeEach(() => {
    store = createSqliteStore({ filename: join(dir, 'state.db') });
    sync = syncOf(store);
  });

  it.each([
    ['a thrown error', new Error('unexpected'), false],
    ['disk full', Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }), false],
    ['busy', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }), true],
  ])('rolls back a write on %s: STORE_ERROR with the cause', (_, failure, retryable) => {
    const before = seed();
    // Runs of this write: a's summary upsert, a's journal insert, b's journal insert (fails).
    failRun(3, failure);
    const error = thrownBy(() => {
      sync.write([
        { executionId: 'a', summary: summary('a', { status: 'completed' }), journal: [started('s2')] },
        { executionId: 'b', journal: [finished('s1')] },
      ]);
    });
    vi.restoreAllMocks();
    expect(error).toMatchObject({ code: ErrorCode.StoreError, retryable });
    expect(error.cause).toBe(failure);
    expectIntactAndWritable(before);
  });

  it('reports a real SQLITE_BUSY as retryable, and writes once the lock is gone', async () => {
    await store.close();
    store = createSqliteStore({ filename: join(dir, 'state.db'), busyTimeoutMs: 0 });
    sync = syncOf(store);
    const before = seed();
    const other = new Database(join(dir, 'state.db'));
    other.prepare('BEGIN IMMEDIATE').run();
    const error = thrownBy(() => { sync.write([{ executionId: 'a', journal: [started('s2')] }]); });
    expect(error).toMatchObject({ code: ErrorCode.StoreError, retryable: true, details: { storageCode: 'SQLITE_BUSY' } });
    other.prepare('ROLLBACK').run();
    other.close();
    expectIntactAndWritable(before);
  });
});
