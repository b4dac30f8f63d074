/**
 * {@link createWorker}: a process's share of the work queue. It claims
 * executions (queued, or leased by a worker whose lease expired) with
 * `FOR UPDATE SKIP LOCKED`, runs each with {@link runPipeline} on the
 * PostgreSQL store (so a taken-over execution resumes where the store says:
 * completed steps are not run again), heartbeats its leases, marks the rows
 * completed or failed, and on `stop()` gives back what it still holds.
 *
 * @module
 */
import { hostname } from 'node:os';
import { nanoid } from 'nanoid';
import { systemClock } from '../clock.js';
import type { Clock, TimerHandle } from '../clock.js';
import { toError, ValidationFailure } from '../errors.js';
import { runPipeline } from '../runner/run.js';
import type { Pipeline, PipelineRun } from '../runner/types.js';
import type { PostgresCheckpointStore } from '../stores/postgres-store.js';
import { parseInput } from '../validation.js';
import { fencedStore } from './fenced-store.js';
import { claim, finish, heartbeat, release, requirePostgresStore } from './queue.js';
import type { ClaimedExecution } from './queue.js';
import { firstError, optionsSchema, pipelineMap } from './worker-options.js';
import type { Worker, WorkerOptions, WorkerStats, WorkerStopOptions } from './worker-options.js';

export type { Worker, WorkerOptions, WorkerStats, WorkerStopOptions } from './worker-options.js';

interface Slot {
  claimed: ClaimedExecution;
  run: PipelineRun | null;
  /** Another worker took it over: this one must not mark or release it. */
  lost: boolean;
  /** Cancelled by stop(): its row goes back to the queue. */
  stopping: boolean;
  settled: Promise<void>;
}

class QueueWorker implements Worker {
  readonly workerId: string;
  readonly #store: PostgresCheckpointStore;
  readonly #pipelines: Map<string, Pipeline<never>>;
  readonly #options: WorkerOptions;
  readonly #clock: Clock;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #pollMs: number;
  readonly #maxAttempts: number;
  readonly #slots = new Map<string, Slot>();
  readonly #stats: WorkerStats = { claimed: 0, completed: 0, failed: 0, cancelled: 0, released: 0, lost: 0, errors: 0 };
  #stopping = false;
  #wake: (() => void) | null = null;
  #heartbeatTimer: TimerHandle = null;
  readonly #loop: Promise<void>;
  #stopped: Promise<void> | null = null;

  constructor(options: WorkerOptions) {
    this.#store = requirePostgresStore(options.store, 'createWorker');
    this.#pipelines = pipelineMap(options.pipelines);
    const parsed = parseInput(optionsSchema, options, 'createWorker options');
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.workerId = parsed.workerId ?? `${hostname()}-${process.pid}-${nanoid(6)}`;
    this.#concurrency = parsed.concurrency ?? 4;
    this.#leaseMs = parsed.leaseMs ?? 30_000;
    this.#heartbeatMs = parsed.heartbeatMs ?? Math.max(1, Math.floor(this.#leaseMs / 3));
    if (this.#heartbeatMs >= this.#leaseMs) {
      throw new ValidationFailure('heartbeatMs', `createWorker options: expected heartbeatMs (${this.#heartbeatMs}) below leaseMs (${this.#leaseMs})`);
    }
    this.#pollMs = parsed.pollMs ?? 1000;
    this.#maxAttempts = parsed.maxAttempts ?? 5;
    this.#scheduleHeartbeat();
    this.#loop = this.#claimLoop();
  }

  get active(): readonly string[] {
    return [...this.#slots.keys()];
  }

  stats(): WorkerStats {
    return { ...this.#stats };
  }

  #report(error: unknown, executionId: string | null): void {
    this.#stats.errors += 1;
    try {
      this.#options.onError?.(toError(error), executionId);
    } catch {
      // A throwing listener must not stop the worker.
    }
  }

  /** Waits `ms`, or less when woken (a slot freed, stop). */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        this.#clock.clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  /** Read through a call: `stop()` flips it while the loop awaits. */
  #isStopping(): boolean {
    return this.#stopping;
  }

  async #claimLoop(): Promise<void> {
    let backoff = this.#pollMs;
    while (!this.#stopping) {
      const free = this.#concurrency - this.#slots.size;
      if (free > 0) {
        let claimed: ClaimedExecution[];
        try {
          claimed = await claim(this.#store, {
            owner: this.workerId,
            leaseMs: this.#leaseMs,
            pipelineIds: [...this.#pipelines.keys()],
            maxAttempts: this.#maxAttempts,
            limit: free,
            running: [...this.#slots.keys()],
          });
          backoff = this.#pollMs;
        } catch (error) {
          // Database unreachable: keep trying, slower, until it is back.
          this.#report(error, null);
          await this.#pause(backoff);
          backoff = Math.min(backoff * 2, Math.max(this.#pollMs, 5000));
          continue;
        }
        for (const item of claimed) this.#start(item);
        if (claimed.length === free && !this.#isStopping()) continue;
      }
      if (!this.#isStopping()) await this.#pause(this.#pollMs);
    }
  }

  #start(claimed: ClaimedExecution): void {
    this.#stats.claimed += 1;
    const slot: Slot = { claimed, run: null, lost: false, stopping: this.#stopping, settled: Promise.resolve() };
    this.#slots.set(claimed.executionId, slot);
    slot.settled = this.#execute(slot).finally(() => {
      this.#slots.delete(claimed.executionId);
      this.#wake?.();
    });
  }

  async #execute(slot: Slot): Promise<void> {
    const { claimed } = slot;
    const fence = { executionId: claimed.executionId, owner: this.workerId, attempt: claimed.attempt };
    try {
      // Claimed while stopping: straight back to the queue.
      if (slot.stopping) {
        await this.#release(slot);
        return;
      }
      const pipeline = this.#pipelines.get(claimed.pipelineId);
      if (pipeline === undefined) throw new Error(`Unknown pipeline "${claimed.pipelineId}"`);
      const run = runPipeline(pipeline, {
        executionId: claimed.executionId,
        store: fencedStore(this.#store, fence),
        input: claimed.input as never,
        metadata: claimed.metadata,
        ...(this.#options.stepConcurrency === undefined ? {} : { concurrency: this.#options.stepConcurrency }),
        ...(this.#options.durability === undefined ? {} : { durability: this.#options.durability }),
        ...(this.#options.clock === undefined ? {} : { clock: this.#options.clock }),
      });
      slot.run = run;
      try {
        this.#options.onStarted?.({ executionId: claimed.executionId, pipelineId: claimed.pipelineId, attempt: claimed.attempt, run });
      } catch {
        // A throwing listener must not stop the run.
      }
      const result = await run.done;
      // stop() and the heartbeat change the slot while the run is awaited.
      const now: Readonly<Slot> = slot;
      if (now.lost) return;
      if (result.status === 'cancelled' && now.stopping) {
        await this.#release(slot);
        return;
      }
      const status = result.status === 'completed' ? 'completed' : result.status === 'cancelled' ? 'cancelled' : 'failed';
      if (await finish(this.#store, fence, status, firstError(result))) {
        this.#stats[status] += 1;
        try {
          this.#options.onFinished?.({ executionId: claimed.executionId, status: result.status, attempt: claimed.attempt });
        } catch {
          // A throwing listener must not undo a finished execution.
        }
      } else {
        this.#stats.lost += 1;
      }
    } catch (error) {
      // The run could not finish (store unreachable past its retries, lease lost on a write):
      // give the execution back, or let the lease run out when even that fails.
      this.#report(error, claimed.executionId);
      if (!slot.lost) await this.#release(slot).catch((releaseError: unknown) => {
        this.#report(releaseError, claimed.executionId);
      });
    }
  }

  async #release(slot: Slot): Promise<void> {
    const { claimed } = slot;
    if (await release(this.#store, { executionId: claimed.executionId, owner: this.workerId, attempt: claimed.attempt })) this.#stats.released += 1;
  }

  #scheduleHeartbeat(): void {
    this.#heartbeatTimer = this.#clock.setTimeout(() => {
      this.#heartbeatTimer = null;
      void this.#beat().finally(() => {
        if (this.#stopped === null || this.#slots.size > 0) this.#scheduleHeartbeat();
      });
    }, this.#heartbeatMs);
  }

  async #beat(): Promise<void> {
    const sent = [...this.#slots.values()].filter((slot) => !slot.lost);
    if (sent.length === 0) return;
    let held: Set<string>;
    try {
      held = await heartbeat(
        this.#store,
        this.workerId,
        this.#leaseMs,
        sent.map((slot) => ({ executionId: slot.claimed.executionId, attempt: slot.claimed.attempt })),
      );
    } catch (error) {
      this.#report(error, null);
      return;
    }
    for (const slot of sent) {
      // Not extended: another worker claimed it after our lease ran out. Stop our copy of the run.
      if (held.has(slot.claimed.executionId) || this.#slots.get(slot.claimed.executionId) !== slot) continue;
      slot.lost = true;
      this.#stats.lost += 1;
      slot.run?.cancel('Lease lost to another worker');
    }
  }

  stop(options: WorkerStopOptions = {}): Promise<void> {
    this.#stopped ??= this.#stop(options);
    return this.#stopped;
  }

  async #stop(options: WorkerStopOptions): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    if (options.drain === true) {
      const all = Promise.all([...this.#slots.values()].map((slot) => slot.settled));
      let timer: TimerHandle;
      const timedOut = new Promise<void>((resolve) => {
        timer = this.#clock.setTimeout(resolve, options.timeoutMs ?? 30_000);
      });
      await Promise.race([all, timedOut]);
      this.#clock.clearTimeout(timer);
    }
    for (const slot of this.#slots.values()) {
      slot.stopping = true;
      slot.run?.cancel('Worker stopping');
    }
    await Promise.all([...this.#slots.values()].map((slot) => slot.settled));
    if (this.#heartbeatTimer !== null) this.#clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }
}

/**
 * Starts a worker on the queue of a PostgreSQL store. Run one or more per
 * process, on as many machines as share the database: each execution is
 * run by one worker at a time, and one that dies is resumed by another once
 * its lease expires.
 *
 * @throws ValidationFailure `INVALID_INPUT` for bad options (synchronously).
 *
 * @example
 * const store = createPostgresStore({ connectionString: process.env.DATABASE_URL });
 * const worker = createWorker({ store, pipelines: [etl], concurrency: 4 });
 * process.on('SIGTERM', () => void worker.stop().then(() => store.close()));
 */
export function createWorker(options: WorkerOptions): Worker {
  return new QueueWorker(options);
}
