/**
 * The one store interface. A store keeps, per execution: a summary row, an
 * append-only journal (steps started and finished with their outputs,
 * variable writes, status changes) and checkpoints (the versioned records
 * with the persisted actor snapshot and the variables as of that checkpoint).
 *
 * Every store has the async API. Embedded stores (memory, file, SQLite) also
 * expose the same operations synchronously under `sync`, which lets a manager
 * commit a step before the next one starts without an `await`.
 *
 * @module
 */
import type { ExecutionStatus } from '../constants.js';
import type { StepRecord } from '../machines/machine-types.js';
import type { Checkpoint } from '../services/context/index.js';
import type { VariableMetadata } from '../services/variables/index.js';
import type { JsonValue } from '../validation.js';

/** When a write is durable. */
export type DurabilityMode = 'sync' | 'batched' | 'none';

/** One execution's summary row. */
export interface ExecutionSummary {
  executionId: string;
  pipelineId: string;
  status: ExecutionStatus;
  /** ISO timestamps. */
  createdAt: string;
  updatedAt: string;
  /** Hash of the pipeline definition the execution was started with, when known. */
  definitionHash: string | null;
  /** Free JSON (the CLI records the pipeline module path here). */
  metadata: Record<string, JsonValue>;
}

/** A journal entry as the manager writes it. */
export type JournalEntry =
  | { kind: 'step_started'; stepId: string; stepName: string; attempt: number; at: string }
  /** `startedAt`: when the step's run began (absent for a step skipped without starting, and in older journals). */
  | { kind: 'step_finished'; record: StepRecord; output: JsonValue; at: string; startedAt?: string }
  | {
      kind: 'variable_set';
      name: string;
      value: JsonValue;
      metadata: VariableMetadata;
      contextId: string | null;
      at: string;
    }
  | { kind: 'variable_deleted'; name: string; contextId: string | null; at: string }
  | { kind: 'status'; status: ExecutionStatus; at: string }
  /** The execution was rolled back to a checkpoint: what came before it in the journal is replaced by the checkpoint. */
  | { kind: 'checkpoint_restored'; checkpointId: string; at: string };

/** A journal entry as stored: numbered in write order within its execution (1, 2, ...). */
export type StoredJournalEntry = JournalEntry & { seq: number };

/** A checkpoint's listing entry. */
export interface CheckpointSummary {
  id: string;
  executionId: string;
  createdAt: string;
  description: string | null;
  /** Journal position when the checkpoint was taken (entries with a greater seq came after it). */
  journalSeq: number;
}

/** A stored checkpoint: the record and where the journal stood. */
export interface StoredCheckpoint {
  checkpoint: Checkpoint;
  journalSeq: number;
}

/** Everything a store holds about one execution. */
export interface StoredExecution {
  summary: ExecutionSummary;
  journal: StoredJournalEntry[];
  /** Oldest first. */
  checkpoints: StoredCheckpoint[];
}

/**
 * One atomic write: all of it is committed or none of it. The journal entries
 * get the next sequence numbers of the execution; a checkpoint is stored with
 * the journal position after this batch's entries.
 */
export interface StoreBatch {
  executionId: string;
  /** Inserted, or replaces the stored summary (createdAt is kept). */
  summary?: ExecutionSummary;
  journal?: JournalEntry[];
  checkpoints?: Checkpoint[];
  /** After this batch keep only the newest N checkpoints of the execution. */
  keepCheckpoints?: number;
}

/** Filter of {@link CheckpointStore.listExecutions}. */
export interface ExecutionFilter {
  status?: ExecutionStatus;
  pipelineId?: string;
  /** Newest first (by updatedAt); at most this many. */
  limit?: number;
}

/** The synchronous face of an embedded store. */
export interface SyncStoreApi {
  /** Commits batches in ONE transaction (group commit across executions). */
  write(batches: readonly StoreBatch[]): void;
  loadExecution(executionId: string): StoredExecution | null;
  getCheckpoint(executionId: string, checkpointId: string): StoredCheckpoint | null;
  listCheckpoints(executionId: string): CheckpointSummary[];
  listExecutions(filter?: ExecutionFilter): ExecutionSummary[];
}

/** A place where executions persist. */
export interface CheckpointStore {
  readonly kind: 'memory' | 'file' | 'sqlite' | 'postgres';
  /** Present on embedded stores. */
  readonly sync?: SyncStoreApi;
  /** Commits batches in ONE transaction (group commit across executions). */
  write(batches: readonly StoreBatch[]): Promise<void>;
  loadExecution(executionId: string): Promise<StoredExecution | null>;
  getCheckpoint(executionId: string, checkpointId: string): Promise<StoredCheckpoint | null>;
  listCheckpoints(executionId: string): Promise<CheckpointSummary[]>;
  listExecutions(filter?: ExecutionFilter): Promise<ExecutionSummary[]>;
  /** Releases the store (closes the database). Idempotent. */
  close(): Promise<void>;
}
