/**
 * {@link createMemoryStore}: a store in this process's memory, for tests and
 * for runs that need no durability. Records are kept as JSON text, so what a
 * caller passes in or gets back is always its own copy.
 *
 * @module
 */
import { planWrite } from './batch-plan.js';
import type { PlannedBatch } from './batch-plan.js';
import type { ValidBatch } from './records.js';
import { filterSummaries } from './records.js';
import { parseJsonText } from './store-errors.js';
import { embeddedStore } from './store-face.js';
import type { EmbeddedCheckpointStore, StoreEngine } from './store-face.js';
import type { CheckpointSummary, ExecutionFilter, ExecutionSummary, StoredCheckpoint, StoredExecution, StoredJournalEntry } from './types.js';

interface MemoryCheckpoint {
  summary: CheckpointSummary;
  /** `StoredCheckpoint` as JSON. */
  text: string;
}

interface MemoryExecution {
  createdAt: string;
  /** `ExecutionSummary` as JSON. */
  summary: string;
  /** `StoredJournalEntry`s as JSON, in seq order (entry i has seq i + 1). */
  journal: string[];
  /** Oldest first. */
  checkpoints: MemoryCheckpoint[];
}

class MemoryEngine implements StoreEngine {
  private readonly executions = new Map<string, MemoryExecution>();
  /** Checkpoint id -> its execution (ids are unique per store, as in SQLite). */
  private readonly checkpointOwners = new Map<string, string>();

  write(batches: readonly ValidBatch[]): void {
    const plan = planWrite(batches, {
      head: (executionId) => {
        const stored = this.executions.get(executionId);
        return {
          createdAt: stored?.createdAt ?? null,
          lastSeq: stored?.journal.length ?? 0,
          checkpointIds: () => stored?.checkpoints.map((c) => c.summary.id) ?? [],
        };
      },
      checkpointTaken: (id) => this.checkpointOwners.has(id),
    });
    // Everything is serialised before the first change, so the apply below cannot fail halfway.
    const encoded = plan.map((batch) => ({ batch, ...encode(batch) }));
    for (const { batch, summary, journal, checkpoints } of encoded) {
      let stored = this.executions.get(batch.executionId);
      if (stored === undefined) {
        // planWrite refuses a new execution without a summary.
        stored = { createdAt: batch.summary?.createdAt ?? '', summary: summary ?? '', journal: [], checkpoints: [] };
        this.executions.set(batch.executionId, stored);
      } else if (summary !== null) {
        stored.summary = summary;
      }
      stored.journal.push(...journal);
      for (const checkpoint of checkpoints) {
        stored.checkpoints.push(checkpoint);
        this.checkpointOwners.set(checkpoint.summary.id, batch.executionId);
      }
      if (batch.pruned.length > 0) {
        const doomed = new Set(batch.pruned);
        stored.checkpoints = stored.checkpoints.filter((c) => !doomed.has(c.summary.id));
        for (const id of doomed) this.checkpointOwners.delete(id);
      }
    }
  }

  loadExecution(executionId: string): StoredExecution | null {
    const stored = this.executions.get(executionId);
    if (stored === undefined) return null;
    return {
      summary: parseJsonText(stored.summary) as ExecutionSummary,
      journal: stored.journal.map((text) => parseJsonText(text) as StoredJournalEntry),
      checkpoints: stored.checkpoints.map((c) => parseJsonText(c.text) as StoredCheckpoint),
    };
  }

  getCheckpoint(executionId: string, checkpointId: string): StoredCheckpoint | null {
    const found = this.executions.get(executionId)?.checkpoints.find((c) => c.summary.id === checkpointId);
    return found === undefined ? null : (parseJsonText(found.text) as StoredCheckpoint);
  }

  listCheckpoints(executionId: string): CheckpointSummary[] {
    return (this.executions.get(executionId)?.checkpoints ?? []).map((c) => ({ ...c.summary }));
  }

  listExecutions(filter: ExecutionFilter): ExecutionSummary[] {
    const summaries = [...this.executions.values()].map((stored) => parseJsonText(stored.summary) as ExecutionSummary);
    return filterSummaries(summaries, filter);
  }

  close(): void {
    this.executions.clear();
    this.checkpointOwners.clear();
  }
}

function encode(batch: PlannedBatch): { summary: string | null; journal: string[]; checkpoints: MemoryCheckpoint[] } {
  return {
    summary: batch.summary === null ? null : JSON.stringify(batch.summary),
    journal: batch.entries.map((entry) => JSON.stringify(entry)),
    checkpoints: batch.checkpoints.map(({ checkpoint, journalSeq }) => ({
      summary: {
        id: checkpoint.id,
        executionId: checkpoint.executionId,
        createdAt: checkpoint.createdAt,
        description: checkpoint.description,
        journalSeq,
      },
      text: JSON.stringify({ checkpoint, journalSeq }),
    })),
  };
}

/**
 * A store that keeps everything in memory (lost when the process ends).
 * It has the `sync` face; every record is copied in and out as JSON.
 *
 * @example
 * const store = createMemoryStore();
 * store.sync.write([{ executionId: 'run-1', summary, journal: [{ kind: 'status', status: 'running', at }] }]);
 * const run = store.sync.loadExecution('run-1');
 */
export function createMemoryStore(): EmbeddedCheckpointStore {
  return embeddedStore('memory', new MemoryEngine(), {}, () => ({}));
}
