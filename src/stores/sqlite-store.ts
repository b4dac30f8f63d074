/**
 * {@link createSqliteStore}: executions in one SQLite file (better-sqlite3),
 * in WAL mode, every `write` one IMMEDIATE transaction.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { z } from 'zod';
import { isoNow, systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { parseInput } from '../validation.js';
import { planWrite } from './batch-plan.js';
import type { PlannedBatch } from './batch-plan.js';
import type { ValidBatch } from './records.js';
import { stepIdOf } from './records.js';
import { assertKnownVersion, migrate, readSchemaVersion } from './sqlite-migrations.js';
import { SQL, busyTimeoutPragma, connectionPragmas } from './sqlite-sql.js';
import { checkpointOf, journalEntryOf, summaryOf, type Row } from './sql-rows.js';
import { corruptRecord, toStoreError } from './store-errors.js';
import { embeddedStore } from './store-face.js';
import type { EmbeddedCheckpointStore, StoreEngine } from './store-face.js';
import type { CheckpointSummary, ExecutionFilter, ExecutionSummary, StoredCheckpoint, StoredExecution } from './types.js';

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * Database file; its directory is created. `':memory:'` keeps it in memory.
   * @default '.orchestrator/state.db'
   */
  filename?: string;
  /**
   * `NORMAL`: a commit survives a crash of the process; after a power loss
   * the last commits may be lost (never half of one). `FULL`: every commit is
   * fsync'd and survives a power loss too, at the cost of one fsync per write.
   * @default 'NORMAL'
   */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * How long a write waits for another connection's lock before failing with
   * a retryable `STORE_ERROR`.
   * @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * Time of the `schema_version` rows.
   * @default systemClock
   */
  clock?: Clock;
}

/** The SQLite store: a {@link CheckpointStore} with the `sync` face and a few SQLite extras. */
export type SqliteCheckpointStore = EmbeddedCheckpointStore & {
  /** The database file as given. */
  readonly filename: string;
  /** `PRAGMA integrity_check`: `'ok'`, or the problems found, one per line. */
  integrityCheck(): string;
  /** The connection's settings as SQLite reports them now (for diagnostics and tests). */
  pragmas(): SqlitePragmas;
};

/** Live PRAGMA values of the store's connection. */
export interface SqlitePragmas {
  /** `'wal'` for a file, `'memory'` for `':memory:'`. */
  journalMode: string;
  /** 1 = NORMAL, 2 = FULL. */
  synchronous: number;
  /** 1 when foreign keys are enforced. */
  foreignKeys: number;
  busyTimeoutMs: number;
}

const optionsSchema = z.strictObject({
  filename: z.string().min(1, { message: 'Expected a non-empty file name' }).optional(),
  synchronous: z.enum(['NORMAL', 'FULL']).optional(),
  busyTimeoutMs: z.number().int().min(0).max(2_147_483_647).optional(),
  clock: z
    .custom<Clock>((value) => typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function', {
      message: 'Expected a Clock',
    })
    .optional(),
});

interface IdParam {
  id: string;
}

/** A journal row as positional parameters: execution_id, seq, kind, step_id, payload, at. */
type JournalRow = [string, number, string, string | null, string, string];

/** What the store knows of an execution's head from its own last write. */
interface CachedHead {
  createdAt: string;
  lastSeq: number;
}

/** Heads remembered at most; the oldest are forgotten (they are read again when needed). */
const HEAD_CACHE_SIZE = 10_000;

class SqliteEngine implements StoreEngine {
  private readonly head: Statement<[IdParam], { createdAt: string; lastSeq: number }>;
  private readonly dataVersion: Statement<[], number>;
  private readonly insertTwoJournal: Statement<[...JournalRow, ...JournalRow]>;
  /**
   * Heads as this connection left them. Valid while `PRAGMA data_version`
   * (which moves only when ANOTHER connection commits) stays where it was
   * after our last write; otherwise they are read again inside the
   * transaction. Saves a query per commit on the per-step path.
   */
  private readonly heads = new Map<string, CachedHead>();
  private headsVersion: number | null = null;
  private readonly checkpointIds: Statement<[IdParam], string>;
  private readonly checkpointTaken: Statement<[IdParam], number>;
  private readonly upsertExecution: Statement<[Row]>;
  private readonly insertJournal: Statement<JournalRow>;
  private readonly insertCheckpoint: Statement<[Row]>;
  private readonly deleteCheckpoint: Statement<[Row]>;
  private readonly selectExecution: Statement<[IdParam], Row>;
  private readonly selectJournal: Statement<[IdParam], Row>;
  private readonly selectCheckpoints: Statement<[IdParam], Row>;
  private readonly selectCheckpoint: Statement<[IdParam & { checkpointId: string }], Row>;
  private readonly listCheckpointRows: Statement<[IdParam], Row>;
  private readonly listings: Record<keyof typeof SQL.listExecutions, Statement<[Row], Row>>;
  private readonly writeTx: ReturnType<Db['transaction']>;
  private readonly loadTx: (executionId: string) => StoredExecution | null;

  constructor(private readonly db: Db) {
    this.head = db.prepare(SQL.head);
    this.dataVersion = db.prepare<[], number>(SQL.dataVersion).pluck();
    this.insertTwoJournal = db.prepare(SQL.insertTwoJournal);
    this.checkpointIds = db.prepare<[IdParam], string>(SQL.checkpointIds).pluck();
    this.checkpointTaken = db.prepare<[IdParam], number>(SQL.checkpointTaken).pluck();
    this.upsertExecution = db.prepare(SQL.upsertExecution);
    this.insertJournal = db.prepare(SQL.insertJournal);
    this.insertCheckpoint = db.prepare(SQL.insertCheckpoint);
    this.deleteCheckpoint = db.prepare(SQL.deleteCheckpoint);
    this.selectExecution = db.prepare(SQL.selectExecution);
    this.selectJournal = db.prepare(SQL.selectJournal);
    this.selectCheckpoints = db.prepare(SQL.selectCheckpoints);
    this.selectCheckpoint = db.prepare(SQL.selectCheckpoint);
    this.listCheckpointRows = db.prepare(SQL.listCheckpoints);
    this.listings = {
      all: db.prepare(SQL.listExecutions.all),
      status: db.prepare(SQL.listExecutions.status),
      pipeline: db.prepare(SQL.listExecutions.pipeline),
      both: db.prepare(SQL.listExecutions.both),
    };
    this.writeTx = db.transaction((batches: readonly ValidBatch[]) => {
      this.apply(batches);
    });
    this.loadTx = db.transaction((executionId: string) => this.load(executionId));
  }

  write(batches: readonly ValidBatch[]): void {
    // IMMEDIATE takes the write lock first: a deferred transaction that reads
    // and then writes can fail with SQLITE_BUSY without waiting in WAL mode.
    try {
      this.writeTx.immediate(batches);
    } catch (error) {
      // Rolled back: what we cached during it never landed.
      this.heads.clear();
      this.headsVersion = null;
      throw error;
    }
  }

  private apply(batches: readonly ValidBatch[]): void {
    // The heads are as of inside the transaction (cached ones only while no
    // other connection has committed since our last write), so numbering is
    // right even when another process wrote the same execution meanwhile.
    const version = this.dataVersion.get();
    if (version !== this.headsVersion) {
      this.heads.clear();
      this.headsVersion = version ?? null;
    }
    const plan = planWrite(batches, {
      head: (id) => {
        const cached = this.heads.get(id);
        const row = cached ?? this.head.get({ id });
        return {
          createdAt: row?.createdAt ?? null,
          lastSeq: row?.lastSeq ?? 0,
          checkpointIds: () => this.checkpointIds.all({ id }),
        };
      },
      checkpointTaken: (id) => this.checkpointTaken.get({ id }) !== undefined,
    });
    for (const batch of plan) {
      const executionId = batch.executionId;
      const summary = batch.summary;
      if (summary !== null) this.upsertExecution.run({ ...summary, metadata: JSON.stringify(summary.metadata) });
      this.insertEntries(executionId, batch.entries);
      for (const { checkpoint, journalSeq } of batch.checkpoints) {
        this.insertCheckpoint.run({
          id: checkpoint.id,
          executionId,
          createdAt: checkpoint.createdAt,
          description: checkpoint.description,
          journalSeq,
          record: JSON.stringify(checkpoint),
        });
      }
      for (const id of batch.pruned) this.deleteCheckpoint.run({ executionId, id });
      this.remember(executionId, batch);
    }
  }

  /** A step's start and outcome usually commit together: two rows, one statement. */
  private insertEntries(executionId: string, entries: PlannedBatch['entries']): void {
    const row = ({ seq, ...entry }: PlannedBatch['entries'][number]): JournalRow => [
      executionId,
      seq,
      entry.kind,
      stepIdOf(entry),
      JSON.stringify(entry),
      entry.at,
    ];
    for (let index = 0; index < entries.length; index += 2) {
      const first = entries[index];
      const second = entries[index + 1];
      if (first === undefined) break;
      if (second === undefined) this.insertJournal.run(...row(first));
      else this.insertTwoJournal.run(...row(first), ...row(second));
    }
  }

  private remember(executionId: string, batch: PlannedBatch): void {
    const known = this.heads.get(executionId);
    const createdAt = batch.summary?.createdAt ?? known?.createdAt;
    // Without a summary in this write and nothing cached, the stored createdAt is unknown here: read it next time.
    if (createdAt === undefined) return;
    const lastSeq = batch.entries.at(-1)?.seq ?? known?.lastSeq ?? this.head.get({ id: executionId })?.lastSeq ?? 0;
    this.heads.delete(executionId);
    this.heads.set(executionId, { createdAt, lastSeq });
    if (this.heads.size > HEAD_CACHE_SIZE) {
      const oldest = this.heads.keys().next();
      if (oldest.done !== true) this.heads.delete(oldest.value);
    }
  }

  loadExecution(executionId: string): StoredExecution | null {
    // One read transaction: summary, journal and checkpoints from the same snapshot.
    return this.loadTx(executionId);
  }

  private load(executionId: string): StoredExecution | null {
    const row = this.selectExecution.get({ id: executionId });
    if (row === undefined) return null;
    const journal = this.selectJournal.all({ id: executionId }).map((r) => journalEntryOf(r.seq, r.kind, r.payload, executionId));
    const checkpoints = this.selectCheckpoints.all({ id: executionId }).map((r) => checkpointOf(r.id, r.journal_seq, r.record, executionId));
    return { summary: summaryOf(row), journal, checkpoints };
  }

  getCheckpoint(executionId: string, checkpointId: string): StoredCheckpoint | null {
    const row = this.selectCheckpoint.get({ id: executionId, checkpointId });
    return row === undefined ? null : checkpointOf(row.id, row.journal_seq, row.record, executionId);
  }

  listCheckpoints(executionId: string): CheckpointSummary[] {
    return this.listCheckpointRows.all({ id: executionId }).map((row) => {
      const where = `table checkpoints, row "${String(row.id)}"`;
      const { id, created_at: createdAt, description, journal_seq: journalSeq } = row;
      if (typeof id !== 'string' || typeof createdAt !== 'string' || typeof journalSeq !== 'number' || (description !== null && typeof description !== 'string')) {
        throw corruptRecord(executionId, where, 'unexpected column types');
      }
      return { id, executionId, createdAt, description, journalSeq };
    });
  }

  listExecutions(filter: ExecutionFilter): ExecutionSummary[] {
    const key = filter.status === undefined ? (filter.pipelineId === undefined ? 'all' : 'pipeline') : filter.pipelineId === undefined ? 'status' : 'both';
    const params: Row = { limit: filter.limit ?? -1 };
    if (filter.status !== undefined) params.status = filter.status;
    if (filter.pipelineId !== undefined) params.pipelineId = filter.pipelineId;
    return this.listings[key].all(params).map(summaryOf);
  }

  integrityCheck(): string {
    const rows = this.db.pragma('integrity_check') as { integrity_check: unknown }[];
    return rows.map((row) => String(row.integrity_check)).join('\n');
  }

  pragmas(): SqlitePragmas {
    const read = (name: string): unknown => this.db.pragma(name, { simple: true });
    return {
      journalMode: String(read('journal_mode')),
      synchronous: Number(read('synchronous')),
      foreignKeys: Number(read('foreign_keys')),
      busyTimeoutMs: Number(read('busy_timeout')),
    };
  }

  close(): void {
    this.db.close();
  }
}

function openDatabase(filename: string, synchronous: 'NORMAL' | 'FULL', busyTimeoutMs: number, clock: Clock): Db {
  const inMemory = filename === ':memory:' || filename.startsWith('file:');
  try {
    if (!inMemory) mkdirSync(dirname(resolve(filename)), { recursive: true });
  } catch (error) {
    throw toStoreError(error, `create the directory of ${filename}`, { filename });
  }
  let db: Db;
  try {
    db = new Database(filename, { timeout: busyTimeoutMs });
  } catch (error) {
    throw toStoreError(error, `open ${filename}`, { filename });
  }
  try {
    db.pragma(busyTimeoutPragma(busyTimeoutMs));
    // Before any PRAGMA that writes (journal_mode): a newer file must stay byte-for-byte unchanged.
    assertKnownVersion(readSchemaVersion(db), filename);
    for (const pragma of connectionPragmas(synchronous)) db.pragma(pragma);
    migrate(db, filename, () => isoNow(clock));
    return db;
  } catch (error) {
    db.close();
    throw toStoreError(error, `open ${filename}`, { filename });
  }
}

/**
 * A store in one SQLite file: WAL mode, one IMMEDIATE transaction per
 * `write` (batches of several executions commit together), prepared
 * statements, schema created and upgraded by migrations in code. Has the
 * `sync` face and `integrityCheck()`.
 *
 * @throws ExecutionError `STORE_INCOMPATIBLE` when the file has a newer
 *   schema version (the file is left unchanged); `STORE_ERROR` when it cannot
 *   be opened; `STORE_CORRUPT` when it is not a SQLite database.
 *
 * @example
 * const store = createSqliteStore({ filename: '.orchestrator/state.db' });
 * const manager = createComprehensiveExecutionManager({ executionId: 'etl-1', pipelineId: 'etl', store });
 * // ...
 * await store.close();
 */
export function createSqliteStore(options: SqliteStoreOptions = {}): SqliteCheckpointStore {
  const parsed = parseInput(optionsSchema, options, 'createSqliteStore options');
  const filename = parsed.filename ?? '.orchestrator/state.db';
  const db = openDatabase(filename, parsed.synchronous ?? 'NORMAL', parsed.busyTimeoutMs ?? 5000, parsed.clock ?? systemClock);
  const engine = new SqliteEngine(db);
  return embeddedStore('sqlite', engine, { filename }, (guard) => ({
    filename,
    integrityCheck: () => guard('check integrity', () => engine.integrityCheck()),
    pragmas: () => guard('read its settings', () => engine.pragmas()),
  }));
}
