/**
 * {@link createFileStore}: executions as plain files, one directory each.
 *
 * ```
 * <stateDir>/<encoded executionId>/
 *   journal.jsonl          one line per committed batch (the commit record)
 *   summary.json           the latest summary: a cache, checked against the journal's size
 *   checkpoints/cp-*.json  one file per checkpoint (.json.gz when compressed)
 * ```
 *
 * @module
 */
import { mkdirSync, readdirSync, rmSync, statSync, type Dirent } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { nanoid } from 'nanoid';
import { z } from 'zod';
import { PersistenceFormat } from '../constants.js';
import type { Checkpoint } from '../services/context/index.js';
import { countSchema, parseInput } from '../validation.js';
import { planWrite } from './batch-plan.js';
import type { PlannedBatch } from './batch-plan.js';
import { advanceState, emptyJournalState, encodeLine, replayJournal, summarizeRef } from './file-journal.js';
import type { CheckpointRef, JournalState } from './file-journal.js';
import {
  appendDurably,
  createFileAtomically,
  fsyncDirectory,
  isGzip,
  isMissing,
  readIfExists,
  replaceFileAtomically,
  truncateQuietly,
} from './file-io.js';
import type { ValidBatch } from './records.js';
import { executionSummarySchema, filterSummaries, parseStoredCheckpoint } from './records.js';
import { corruptRecord, parseJsonText, readStored } from './store-errors.js';
import { embeddedStore } from './store-face.js';
import type { EmbeddedCheckpointStore, StoreEngine } from './store-face.js';
import type { CheckpointSummary, ExecutionFilter, ExecutionSummary, StoredCheckpoint, StoredExecution } from './types.js';

/** Options of {@link createFileStore}. */
export interface FileStoreOptions {
  /** Directory of the store; created on the first write. */
  stateDir: string;
  /**
   * Format of new checkpoint files (reading detects either).
   * @default PersistenceFormat.JSON
   */
  format?: PersistenceFormat;
}

const optionsSchema = z.strictObject({
  stateDir: z.string().min(1, { message: 'Expected a non-empty directory path' }),
  format: z.enum(PersistenceFormat).optional(),
});

const summaryFileSchema = z.strictObject({ v: z.literal(1), journalBytes: countSchema, summary: executionSummarySchema });

const JOURNAL_FILE = 'journal.jsonl';
const SUMMARY_FILE = 'summary.json';
const CHECKPOINT_DIR = 'checkpoints';

/**
 * `encodeURIComponent`, plus `!'()*` (awkward on some systems) and a leading
 * dot (so no id can name `.`, `..` or a hidden temporary file).
 */
function encodeName(id: string): string {
  const encoded = encodeURIComponent(id).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return encoded.startsWith('.') ? `%2E${encoded.slice(1)}` : encoded;
}

/** The id a directory name stands for; undefined for names this store would not have made. */
function decodeName(name: string): string | undefined {
  try {
    const id = decodeURIComponent(name);
    return id !== '' && encodeName(id) === name ? id : undefined;
  } catch {
    return undefined;
  }
}

function sizeIfExists(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

interface ExecutionPaths {
  name: string;
  dir: string;
  journal: string;
  summary: string;
  checkpoints: string;
}

/** What one execution's part of a write did, to undo it when a later part fails. */
interface Undo {
  journal: string;
  keepBytes: number;
  appended: boolean;
  files: string[];
}

class FileEngine implements StoreEngine {
  /** Journal states this process has read or written, checked against the file size before use. */
  private readonly heads = new Map<string, JournalState>();

  constructor(
    private readonly stateDir: string,
    private readonly format: PersistenceFormat,
  ) {}

  private paths(executionId: string): ExecutionPaths {
    const name = encodeName(executionId);
    const dir = join(this.stateDir, name);
    return { name, dir, journal: join(dir, JOURNAL_FILE), summary: join(dir, SUMMARY_FILE), checkpoints: join(dir, CHECKPOINT_DIR) };
  }

  /** The journal state without entries, from the cache while the file has the size we left it at. */
  private head(executionId: string): JournalState {
    const paths = this.paths(executionId);
    const size = sizeIfExists(paths.journal);
    if (size === undefined) {
      this.heads.delete(executionId);
      return emptyJournalState();
    }
    const cached = this.heads.get(executionId);
    if (cached?.fileBytes === size) return cached;
    const bytes = readIfExists(paths.journal) ?? Buffer.alloc(0);
    const state = replayJournal(bytes, executionId, `${paths.name}/${JOURNAL_FILE}`, false);
    this.heads.set(executionId, state);
    return state;
  }

  write(batches: readonly ValidBatch[]): void {
    const plan = planWrite(batches, {
      head: (id) => {
        const state = this.head(id);
        return { createdAt: state.summary?.createdAt ?? null, lastSeq: state.lastSeq, checkpointIds: () => state.checkpoints.map((ref) => ref.id) };
      },
    });
    const groups = new Map<string, PlannedBatch[]>();
    for (const batch of plan) groups.set(batch.executionId, [...(groups.get(batch.executionId) ?? []), batch]);
    const undos: Undo[] = [];
    const committed: { executionId: string; state: JournalState; batches: PlannedBatch[]; refs: CheckpointRef[][]; bytes: number }[] = [];
    try {
      // Phase 1, the commit: checkpoint files, then each execution's journal lines in one fsync'd append.
      for (const [executionId, group] of groups) {
        const head = this.head(executionId);
        const paths = this.paths(executionId);
        const undo: Undo = { journal: paths.journal, keepBytes: head.committedBytes, appended: false, files: [] };
        undos.push(undo);
        const createdDir = mkdirSync(paths.checkpoints, { recursive: true });
        const refs = group.map((batch) => batch.checkpoints.map(({ checkpoint, journalSeq }) => this.writeCheckpoint(paths, checkpoint, journalSeq, undo)));
        if (undo.files.length > 0) fsyncDirectory(paths.checkpoints);
        let lastSeq = head.lastSeq;
        const text = group
          .map((batch, index) => {
            const line = encodeLine(batch, lastSeq + 1, refs[index] ?? []);
            lastSeq += batch.entries.length;
            return line;
          })
          .join('');
        const data = Buffer.from(text, 'utf8');
        appendDurably(paths.journal, head.committedBytes, head.fileBytes, data);
        undo.appended = true;
        if (head.fileBytes === 0) fsyncDirectory(paths.dir);
        if (createdDir !== undefined) fsyncDirectory(this.stateDir);
        committed.push({ executionId, state: head, batches: group, refs, bytes: data.length });
      }
    } catch (error) {
      // A multi-execution write is all or nothing against errors: undo the parts already committed.
      for (const undo of undos.reverse()) {
        if (undo.appended) truncateQuietly(undo.journal, undo.keepBytes);
        for (const file of undo.files) rmSync(file, { force: true });
      }
      for (const executionId of groups.keys()) this.heads.delete(executionId);
      throw error;
    }
    // Phase 2, after the commit: caches and cleanup. Failures here lose nothing (the journal
    // says what is true), so they are not reported as a failed write.
    for (const { executionId, state, batches: group, refs, bytes } of committed) this.afterCommit(executionId, state, group, refs, bytes);
  }

  private writeCheckpoint(paths: ExecutionPaths, checkpoint: Checkpoint, journalSeq: number, undo: Undo): CheckpointRef {
    const gzip = this.format === PersistenceFormat.COMPRESSED_JSON;
    // A fresh suffix: a file left by a crashed write of the same checkpoint never blocks a retry.
    const file = `cp-${encodeName(checkpoint.id)}-${nanoid(10)}.json${gzip ? '.gz' : ''}`;
    const text = Buffer.from(JSON.stringify(checkpoint), 'utf8');
    const path = join(paths.checkpoints, file);
    createFileAtomically(paths.checkpoints, path, gzip ? gzipSync(text) : text);
    undo.files.push(path);
    return { id: checkpoint.id, file, createdAt: checkpoint.createdAt, description: checkpoint.description, journalSeq };
  }

  private afterCommit(executionId: string, state: JournalState, group: PlannedBatch[], refs: CheckpointRef[][], bytes: number): void {
    const paths = this.paths(executionId);
    const doomed: string[] = [];
    group.forEach((batch, index) => {
      const known = [...state.checkpoints, ...(refs[index] ?? [])];
      for (const id of batch.pruned) {
        const ref = known.find((candidate) => candidate.id === id);
        if (ref !== undefined) doomed.push(join(paths.checkpoints, ref.file));
      }
      advanceState(state, batch, refs[index] ?? []);
    });
    state.committedBytes += bytes;
    state.fileBytes = state.committedBytes;
    this.heads.set(executionId, state);
    try {
      const summary = { v: 1, journalBytes: state.committedBytes, summary: state.summary };
      replaceFileAtomically(paths.dir, paths.summary, Buffer.from(JSON.stringify(summary), 'utf8'), false);
    } catch {
      // summary.json is a cache: listExecutions sees its journalBytes disagree and replays the journal.
    }
    for (const file of doomed) {
      try {
        rmSync(file, { force: true });
      } catch {
        // The journal says it is pruned; a leftover file is never read.
      }
    }
  }

  loadExecution(executionId: string): StoredExecution | null {
    const paths = this.paths(executionId);
    const bytes = readIfExists(paths.journal);
    if (bytes === undefined) return null;
    const state = replayJournal(bytes, executionId, `${paths.name}/${JOURNAL_FILE}`, true);
    if (state.summary === null) return null;
    const checkpoints = state.checkpoints.map((ref) => ({ checkpoint: this.readCheckpoint(executionId, paths, ref), journalSeq: ref.journalSeq }));
    return { summary: state.summary, journal: state.entries, checkpoints };
  }

  private readCheckpoint(executionId: string, paths: ExecutionPaths, ref: CheckpointRef): Checkpoint {
    const where = `file ${paths.name}/${CHECKPOINT_DIR}/${ref.file} (checkpoint "${ref.id}")`;
    const bytes = readIfExists(join(paths.checkpoints, ref.file));
    if (bytes === undefined) throw corruptRecord(executionId, where, 'the file is missing');
    const raw = readStored(executionId, where, () => {
      if (ref.file.endsWith('.gz') && !isGzip(bytes)) throw new Error('expected gzip data');
      return parseJsonText((isGzip(bytes) ? gunzipSync(bytes) : bytes).toString('utf8'));
    });
    const checkpoint = parseStoredCheckpoint(raw, executionId, where);
    if (checkpoint.id !== ref.id) throw corruptRecord(executionId, where, `the record has id "${checkpoint.id}"`);
    return checkpoint;
  }

  getCheckpoint(executionId: string, checkpointId: string): StoredCheckpoint | null {
    const ref = this.head(executionId).checkpoints.find((candidate) => candidate.id === checkpointId);
    if (ref === undefined) return null;
    return { checkpoint: this.readCheckpoint(executionId, this.paths(executionId), ref), journalSeq: ref.journalSeq };
  }

  listCheckpoints(executionId: string): CheckpointSummary[] {
    return this.head(executionId).checkpoints.map((ref) => summarizeRef(ref, executionId));
  }

  listExecutions(filter: ExecutionFilter): ExecutionSummary[] {
    let entries: Dirent[];
    try {
      entries = readdirSync(this.stateDir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const summaries: ExecutionSummary[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const executionId = decodeName(entry.name);
      if (executionId === undefined) continue;
      const summary = this.summaryOf(executionId);
      if (summary !== null) summaries.push(summary);
    }
    return filterSummaries(summaries, filter);
  }

  /** The summary from summary.json when it matches the journal's size, else from the journal. */
  private summaryOf(executionId: string): ExecutionSummary | null {
    const paths = this.paths(executionId);
    const size = sizeIfExists(paths.journal);
    if (size === undefined) return null;
    const cached = readIfExists(paths.summary);
    if (cached !== undefined) {
      try {
        const parsed = parseInput(summaryFileSchema, parseJsonText(cached.toString('utf8')), 'summary.json');
        if (parsed.journalBytes === size && parsed.summary.executionId === executionId) return parsed.summary;
      } catch {
        // Unreadable cache (e.g. torn by a power loss): the journal decides.
      }
    }
    return this.head(executionId).summary;
  }

  close(): void {
    this.heads.clear();
  }
}

/**
 * A store of plain files under `stateDir`, one directory per execution (see
 * the module comment for the layout). A batch commits when its journal line
 * is fsync'd; a torn last line left by a crash is ignored. Checkpoint files
 * are new files, never overwritten; the store deletes only files it named in
 * its own journal. One process should write a state directory at a time.
 *
 * @example
 * const store = createFileStore({ stateDir: '.orchestrator/runs' });
 * const manager = createComprehensiveExecutionManager({ executionId: 'etl-1', pipelineId: 'etl', store });
 */
export function createFileStore(options: FileStoreOptions): EmbeddedCheckpointStore {
  const parsed = parseInput(optionsSchema, options, 'createFileStore options');
  const stateDir = resolve(parsed.stateDir);
  return embeddedStore('file', new FileEngine(stateDir, parsed.format ?? PersistenceFormat.JSON), { stateDir }, () => ({}));
}
