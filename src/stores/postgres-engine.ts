/**
 * The PostgreSQL store's engine: migrating on first use, the write queue
 * (writes of one tick commit together; the optimistic statement first, the
 * locking transaction when it does not apply), the reads, and retrying
 * while the server is unreachable. {@link createPostgresStore} wraps it.
 *
 * @module
 */
import type { Pool, PoolClient } from 'pg';
import { isoNow } from '../clock.js';
import type { Clock } from '../clock.js';
import { isConnectionError, isRolledBack, toPostgresError } from './postgres-errors.js';
import { migrate } from './postgres-migrations.js';
import { checkpointSummaryOf, executionOf } from './postgres-rows.js';
import { postgresSql } from './postgres-sql.js';
import type { PostgresSql } from './postgres-sql.js';
import { fastWrite, hasLanded, KnownHeads, lockedWrite, TransactionFailure } from './postgres-write.js';
import type { CommitProof, WriteFence } from './postgres-write.js';
import { WriterConnection } from './postgres-writer.js';
import type { ValidBatch } from './records.js';
import { checkpointOf, summaryOf } from './sql-rows.js';
import type { Row } from './sql-rows.js';
import type { CheckpointSummary, ExecutionFilter, ExecutionSummary, StoredCheckpoint, StoredExecution } from './types.js';

/** How a store's transactions went so far. */
export interface PostgresStoreStats {
  /** Committed in one statement from the heads this store knew (the common case). */
  optimistic: number;
  /**
   * Of `optimistic`, those of one execution with a few rows (a step's
   * write), sent as a statement of scalar parameters: the cheapest there is.
   */
  solo: number;
  /**
   * Run as a locking transaction: the first write of an execution this store
   * had not read, after another process wrote it, and refused writes.
   */
  locked: number;
}

interface PendingWrite {
  batches: ValidBatch[];
  fences: readonly WriteFence[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

const sleep = (clock: Clock, ms: number): Promise<void> =>
  new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });

/** The store's work on its pool: migration, the group-committed write queue, reads; with retries. */
export class PostgresEngine {
  readonly sql: PostgresSql;
  readonly #pool: Pool;
  readonly #schema: string;
  readonly #clock: Clock;
  readonly #retryWindowMs: number;
  #ready: Promise<void> | null = null;
  /** Set once the schema is migrated: a write then need not await `ready()`. */
  #migrated = false;
  readonly #queue: PendingWrite[] = [];
  readonly stats: PostgresStoreStats = { optimistic: 0, solo: 0, locked: 0 };
  /** What this store last saw of each execution: lets most writes skip the locking round trips. */
  readonly #heads = new KnownHeads();
  #draining: Promise<void> | null = null;
  /** The write queue's connection, kept from one write to the next. */
  readonly #writer: WriterConnection;

  constructor(pool: Pool, schema: string, clock: Clock, retryWindowMs: number) {
    this.#pool = pool;
    this.#writer = new WriterConnection(pool);
    this.#schema = schema;
    this.#clock = clock;
    this.#retryWindowMs = retryWindowMs;
    this.sql = postgresSql(schema);
  }

  ready(): Promise<void> {
    // Only success is kept: after a failure (server down) the next call tries again.
    this.#ready ??= this.#retrying('migrate the schema', async () => {
      const client = await this.#pool.connect();
      await this.#run(client, () => migrate(client, this.sql, this.#schema, () => isoNow(this.#clock)));
      this.#migrated = true;
    }).catch((error: unknown) => {
      this.#ready = null;
      throw error;
    });
    return this.#ready;
  }

  /** Runs `fn` on a pooled connection; a connection that failed is dropped from the pool, not reused. */
  async #run<T>(client: PoolClient, fn: () => Promise<T>): Promise<T> {
    // A checked-out connection the server drops between two queries emits
    // 'error' (the pool listens only to idle ones): without a listener that
    // would end the process. The failure reaches us through the next query.
    let broken: Error | undefined;
    const onError = (error: Error): void => {
      broken = error;
    };
    client.on('error', onError);
    try {
      const result = await fn();
      client.off('error', onError);
      client.release(broken);
      return result;
    } catch (error) {
      const cause = error instanceof TransactionFailure ? error.original : error;
      client.off('error', onError);
      client.release(broken ?? (isConnectionError(cause) ? (cause as Error) : undefined));
      throw error;
    }
  }

  /** Runs `attempt` again while the server is unreachable, for up to the retry window. */
  async #retrying<T>(doing: string, attempt: () => Promise<T>): Promise<T> {
    const deadline = this.#clock.now() + this.#retryWindowMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 1000)) {
      try {
        return await attempt();
      } catch (error) {
        const retry = (isConnectionError(error) || isRolledBack(error)) && this.#clock.now() + delay <= deadline;
        if (!retry) throw toPostgresError(error, doing, { schema: this.#schema });
        await sleep(this.#clock, delay);
      }
    }
  }

  async withClient<T>(doing: string, fn: (client: PoolClient, sql: PostgresSql) => Promise<T>): Promise<T> {
    await this.ready();
    return this.#retrying(doing, async () => {
      const client = await this.#pool.connect();
      return this.#run(client, () => fn(client, this.sql));
    });
  }

  /**
   * Queues a write. Writes queued in the same turn (before the microtasks
   * run out: executions that a commit released all write their next step
   * then) commit together in one transaction, and so do writes that arrive
   * while one is under way (group commit).
   */
  write(batches: ValidBatch[], fences: readonly WriteFence[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ batches, fences, resolve, reject });
      this.#draining ??= Promise.resolve().then(() => this.#drain());
    });
  }

  /** Resolves when every queued write has settled, and gives the write connection back. */
  async settled(): Promise<void> {
    while (this.#draining !== null) await this.#draining;
    this.#writer.release();
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#queue.splice(0);
      if (group.length === 1) {
        await this.#commitSeparately(group);
        continue;
      }
      try {
        await this.#commit(group.flatMap((w) => w.batches), group.flatMap((w) => w.fences));
        for (const w of group) w.resolve();
      } catch {
        // One refusal must not fail the others, and must name its own batch: each alone.
        await this.#commitSeparately(group);
      }
    }
    this.#draining = null;
    // The next write usually follows within the same turn of the event loop (the next step): it keeps the connection.
    this.#writer.releaseWhenIdle(() => this.#draining !== null);
  }

  async #commitSeparately(group: readonly PendingWrite[]): Promise<void> {
    for (const w of group) {
      try {
        await this.#commit(w.batches, w.fences);
        w.resolve();
      } catch (error) {
        w.reject(error);
      }
    }
  }

  async #commit(batches: readonly ValidBatch[], fences: readonly WriteFence[]): Promise<void> {
    // Awaiting even a settled promise costs a turn of the microtask queue per write.
    if (!this.#migrated) await this.ready();
    const doing = `write ${batches.length} batch${batches.length === 1 ? '' : 'es'}`;
    // Set when a COMMIT went unanswered: its fate is unknown, it may have landed and must not land twice.
    let unclear: { proof: CommitProof | null } | null = null;
    await this.#retrying(doing, async () => {
      const client = this.#writer.held() ?? (await this.#writer.acquire());
      let failure: Error | undefined;
      try {
        if (unclear !== null) {
          const { proof } = unclear;
          // Without journal rows or checkpoints it only upserted summaries and pruned: running it twice is harmless.
          if (proof !== null && (await hasLanded(client, this.sql, proof))) return;
          unclear = null;
        }
        const outcome = await fastWrite(client, this.sql, batches, fences, this.#heads, isConnectionError);
        if (outcome !== null) {
          this.stats.optimistic += 1;
          if (outcome === 'solo') this.stats.solo += 1;
          return;
        }
        this.stats.locked += 1;
        await lockedWrite(client, this.sql, this.#schema, batches, fences, this.#heads);
      } catch (error) {
        const original = error instanceof TransactionFailure ? error.original : error;
        if (error instanceof TransactionFailure && error.phase === 'commit' && isConnectionError(original)) unclear = { proof: error.proof };
        // A connection that failed is dropped from the pool, not reused.
        if (isConnectionError(original)) failure = original as Error;
        throw original;
      } finally {
        this.#writer.done(failure);
      }
    });
  }

  async loadExecution(executionId: string): Promise<StoredExecution | null> {
    const result = await this.withClient('load an execution', (client, sql) =>
      client.query<Row>({ name: `${sql.prefix}execution`, text: sql.selectExecution, values: [executionId] }),
    );
    const row = result.rows[0];
    if (row === undefined) {
      this.#heads.set(executionId, { version: null, createdAt: null, lastSeq: 0, checkpointIds: [] });
      return null;
    }
    const stored = executionOf(row);
    if (typeof row.version === 'number') {
      this.#heads.set(executionId, {
        version: row.version,
        createdAt: stored.summary.createdAt,
        lastSeq: stored.journal.at(-1)?.seq ?? 0,
        checkpointIds: stored.checkpoints.map((c) => c.checkpoint.id),
      });
    }
    return stored;
  }

  async getCheckpoint(executionId: string, checkpointId: string): Promise<StoredCheckpoint | null> {
    const result = await this.withClient('read a checkpoint', (client, sql) =>
      client.query<Row>({ name: `${sql.prefix}checkpoint`, text: sql.selectCheckpoint, values: [executionId, checkpointId] }),
    );
    const row = result.rows[0];
    return row === undefined ? null : checkpointOf(row.id, row.journal_seq, row.record, executionId);
  }

  async listCheckpoints(executionId: string): Promise<CheckpointSummary[]> {
    const result = await this.withClient('list checkpoints', (client, sql) =>
      client.query<Row>({ name: `${sql.prefix}checkpoints`, text: sql.listCheckpoints, values: [executionId] }),
    );
    return result.rows.map((row) => checkpointSummaryOf(row, executionId));
  }

  async listExecutions(filter: ExecutionFilter): Promise<ExecutionSummary[]> {
    const result = await this.withClient('list executions', (client, sql) =>
      client.query<Row>({
        name: `${sql.prefix}executions`,
        text: sql.listExecutions,
        values: [filter.status ?? null, filter.pipelineId ?? null, filter.limit ?? null],
      }),
    );
    return result.rows.map(summaryOf);
  }
}

