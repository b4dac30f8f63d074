/**
 * Every SQL text of the SQLite store, in one place. Values always travel as
 * bind parameters (`@name`); the only interpolated texts are PRAGMA values,
 * which SQLite cannot bind and which come from validated enums and integers.
 *
 * @module
 */

/** Schema version 1: the three tables and the indexes the store reads by. */
export const SCHEMA_V1 = `
CREATE TABLE executions (
  execution_id    TEXT PRIMARY KEY NOT NULL,
  pipeline_id     TEXT NOT NULL,
  status          TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  definition_hash TEXT,
  metadata        TEXT NOT NULL -- JSON object
);
CREATE INDEX executions_by_updated ON executions (updated_at DESC, execution_id);
CREATE INDEX executions_by_status ON executions (status, updated_at DESC, execution_id);
CREATE INDEX executions_by_pipeline ON executions (pipeline_id, updated_at DESC, execution_id);

CREATE TABLE journal (
  execution_id TEXT NOT NULL REFERENCES executions (execution_id) ON DELETE CASCADE,
  seq          INTEGER NOT NULL,
  kind         TEXT NOT NULL,
  step_id      TEXT,
  payload      TEXT NOT NULL, -- JSON: the JournalEntry without seq
  at           TEXT NOT NULL,
  PRIMARY KEY (execution_id, seq)
);

CREATE TABLE checkpoints (
  id           TEXT PRIMARY KEY NOT NULL,
  execution_id TEXT NOT NULL REFERENCES executions (execution_id) ON DELETE CASCADE,
  -- Insertion order within the execution: rowids are not stable across VACUUM.
  position     INTEGER NOT NULL,
  created_at   TEXT NOT NULL,
  description  TEXT,
  journal_seq  INTEGER NOT NULL,
  record       TEXT NOT NULL -- JSON: the Checkpoint
);
CREATE UNIQUE INDEX checkpoints_by_execution ON checkpoints (execution_id, position);
`;

/** The version table (one row per applied migration). */
export const CREATE_SCHEMA_VERSION = `
CREATE TABLE schema_version (
  version    INTEGER PRIMARY KEY NOT NULL,
  applied_at TEXT NOT NULL
)`;

export const SQL = {
  hasVersionTable: `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`,
  currentVersion: `SELECT COALESCE(MAX(version), 0) FROM schema_version`,
  recordVersion: `INSERT INTO schema_version (version, applied_at) VALUES (@version, @appliedAt)`,

  // The head of an execution for planning a write; no row when it is not stored.
  head: `
    SELECT created_at AS createdAt,
           (SELECT COALESCE(MAX(seq), 0) FROM journal WHERE execution_id = @id) AS lastSeq
    FROM executions WHERE execution_id = @id`,
  // Moves when ANOTHER connection commits: tells whether cached heads still hold.
  dataVersion: `PRAGMA data_version`,
  checkpointIds: `SELECT id FROM checkpoints WHERE execution_id = @id ORDER BY position`,
  checkpointTaken: `SELECT 1 FROM checkpoints WHERE id = @id`,

  // createdAt is kept on update: the conflict branch does not touch it.
  upsertExecution: `
    INSERT INTO executions (execution_id, pipeline_id, status, created_at, updated_at, definition_hash, metadata)
    VALUES (@executionId, @pipelineId, @status, @createdAt, @updatedAt, @definitionHash, @metadata)
    ON CONFLICT (execution_id) DO UPDATE SET
      pipeline_id = excluded.pipeline_id,
      status = excluded.status,
      updated_at = excluded.updated_at,
      definition_hash = excluded.definition_hash,
      metadata = excluded.metadata`,
  // Positional parameters (execution_id, seq, kind, step_id, payload, at): a
  // step's start and outcome usually commit together, as two rows of one statement.
  insertJournal: `
    INSERT INTO journal (execution_id, seq, kind, step_id, payload, at)
    VALUES (?, ?, ?, ?, ?, ?)`,
  insertTwoJournal: `
    INSERT INTO journal (execution_id, seq, kind, step_id, payload, at)
    VALUES (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?)`,
  insertCheckpoint: `
    INSERT INTO checkpoints (id, execution_id, position, created_at, description, journal_seq, record)
    VALUES (@id, @executionId,
            (SELECT COALESCE(MAX(position), 0) + 1 FROM checkpoints WHERE execution_id = @executionId),
            @createdAt, @description, @journalSeq, @record)`,
  deleteCheckpoint: `DELETE FROM checkpoints WHERE execution_id = @executionId AND id = @id`,

  selectExecution: `
    SELECT execution_id, pipeline_id, status, created_at, updated_at, definition_hash, metadata
    FROM executions WHERE execution_id = @id`,
  selectJournal: `SELECT seq, kind, payload FROM journal WHERE execution_id = @id ORDER BY seq`,
  selectCheckpoints: `SELECT id, journal_seq, record FROM checkpoints WHERE execution_id = @id ORDER BY position`,
  selectCheckpoint: `SELECT id, journal_seq, record FROM checkpoints WHERE execution_id = @id AND id = @checkpointId`,
  listCheckpoints: `
    SELECT id, created_at, description, journal_seq FROM checkpoints
    WHERE execution_id = @id ORDER BY position`,

  // One text per filter combination, so each is prepared once. LIMIT -1 means no limit.
  listExecutions: {
    all: `SELECT execution_id, pipeline_id, status, created_at, updated_at, definition_hash, metadata
          FROM executions ORDER BY updated_at DESC, execution_id LIMIT @limit`,
    status: `SELECT execution_id, pipeline_id, status, created_at, updated_at, definition_hash, metadata
             FROM executions WHERE status = @status ORDER BY updated_at DESC, execution_id LIMIT @limit`,
    pipeline: `SELECT execution_id, pipeline_id, status, created_at, updated_at, definition_hash, metadata
               FROM executions WHERE pipeline_id = @pipelineId ORDER BY updated_at DESC, execution_id LIMIT @limit`,
    both: `SELECT execution_id, pipeline_id, status, created_at, updated_at, definition_hash, metadata
           FROM executions WHERE status = @status AND pipeline_id = @pipelineId
           ORDER BY updated_at DESC, execution_id LIMIT @limit`,
  },
} as const;

/** The connection's PRAGMAs, in the order they are set (after the version check). */
export function connectionPragmas(synchronous: 'NORMAL' | 'FULL'): string[] {
  return ['journal_mode = WAL', `synchronous = ${synchronous}`, 'foreign_keys = ON'];
}

/** PRAGMA text of the busy timeout (set first: the version check may already wait). */
export function busyTimeoutPragma(ms: number): string {
  return `busy_timeout = ${Math.trunc(ms)}`;
}
