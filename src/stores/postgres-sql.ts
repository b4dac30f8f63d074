/**
 * Every SQL text of the PostgreSQL store, built once per schema. Values
 * always travel as bind parameters (`$1`); the only interpolated text is the
 * schema name, an identifier (which Postgres cannot bind), always through
 * {@link quoteIdent}.
 *
 * @module
 */
import { createHash } from 'node:crypto';

/** `name` as a quoted SQL identifier: `we"ird` -> `"we""ird"`. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Schema version 1: the three tables of the store and the indexes it reads by. */
function schemaV1(s: string): string {
  // COLLATE "C": ids and ISO timestamps sort by code point, as in every other store.
  return `
CREATE TABLE ${s}.executions (
  execution_id    text COLLATE "C" PRIMARY KEY,
  pipeline_id     text COLLATE "C" NOT NULL,
  status          text COLLATE "C" NOT NULL,
  created_at      text COLLATE "C" NOT NULL,
  updated_at      text COLLATE "C" NOT NULL,
  definition_hash text,
  metadata        text NOT NULL -- JSON object
);
CREATE INDEX executions_by_updated ON ${s}.executions (updated_at DESC, execution_id);
CREATE INDEX executions_by_status ON ${s}.executions (status, updated_at DESC, execution_id);
CREATE INDEX executions_by_pipeline ON ${s}.executions (pipeline_id, updated_at DESC, execution_id);

CREATE TABLE ${s}.journal (
  execution_id text COLLATE "C" NOT NULL REFERENCES ${s}.executions (execution_id) ON DELETE CASCADE,
  seq          integer NOT NULL,
  kind         text NOT NULL,
  step_id      text,
  payload      text NOT NULL, -- JSON text (not jsonb: kept byte for byte, \\u0000 included)
  at           text NOT NULL,
  PRIMARY KEY (execution_id, seq)
);

CREATE TABLE ${s}.checkpoints (
  id           text COLLATE "C" PRIMARY KEY,
  execution_id text COLLATE "C" NOT NULL REFERENCES ${s}.executions (execution_id) ON DELETE CASCADE,
  position     bigint GENERATED ALWAYS AS IDENTITY,
  created_at   text NOT NULL,
  description  text,
  journal_seq  integer NOT NULL,
  record       text NOT NULL -- JSON: the Checkpoint
);
CREATE INDEX checkpoints_by_execution ON ${s}.checkpoints (execution_id, position);
`;
}

/** Schema version 2: the work queue shared by the workers. */
function schemaV2(s: string): string {
  return `
CREATE TABLE ${s}.queue (
  execution_id     text COLLATE "C" PRIMARY KEY,
  pipeline_id      text COLLATE "C" NOT NULL,
  input            text NOT NULL, -- JSON
  status           text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  owner            text,
  -- Database time: leases are compared on one clock, whatever the workers' clocks say.
  lease_expires_at timestamptz,
  attempts         integer NOT NULL DEFAULT 0,
  enqueued_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  started_at       timestamptz,
  finished_at      timestamptz,
  error            text -- JSON: the serialised error of a failed execution
);
CREATE INDEX queue_claimable ON ${s}.queue (enqueued_at, execution_id) WHERE status IN ('queued', 'running');
`;
}

/** The SQL of one store schema. */
export interface PostgresSql {
  /** The quoted schema name. */
  schema: string;
  /** Prefix of this schema's prepared statement names (unique per schema on a shared pool). */
  prefix: string;
  ddl: { v1: string; v2: string; versionTable: string };
  hasVersionTable: string;
  currentVersion: string;
  recordVersion: string;
  migrationLock: string;
  lockExecutions: string;
  heads: string;
  apply: string;
  committed: string;
  selectExecution: string;
  selectCheckpoint: string;
  listCheckpoints: string;
  listExecutions: string;
}

/** Builds the SQL of the store in `schemaName`. */
export function postgresSql(schemaName: string): PostgresSql {
  const s = quoteIdent(schemaName);
  const prefix = `orch_${createHash('sha1').update(schemaName).digest('hex').slice(0, 10)}_`;
  return {
    schema: s,
    prefix,
    ddl: {
      v1: schemaV1(s),
      v2: schemaV2(s),
      versionTable: `CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer PRIMARY KEY, applied_at text NOT NULL)`,
    },
    hasVersionTable: `SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = 'schema_version'`,
    currentVersion: `SELECT COALESCE(MAX(version), 0)::integer AS version FROM ${s}.schema_version`,
    recordVersion: `INSERT INTO ${s}.schema_version (version, applied_at) VALUES ($1, $2)`,
    // Two processes opening a fresh schema at once migrate it once: the second waits here.
    migrationLock: `SELECT pg_advisory_xact_lock(hashtext('orchestrator.migrate'), hashtext($1))`,

    // One lock per execution, taken in key order so that two writers of
    // overlapping executions never deadlock. It also covers executions that
    // have no row yet, which SELECT ... FOR UPDATE could not.
    lockExecutions: `
      SELECT pg_advisory_xact_lock(hashtext($1), k)
      FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($2::text[]) AS id ORDER BY k) AS keys`,
    // Read after the locks, in a statement of its own: READ COMMITTED takes a
    // fresh snapshot per statement, so it sees every write committed before ours.
    heads: `
      WITH fence AS (
        SELECT q.execution_id FROM ${s}.queue q
        JOIN unnest($3::text[], $4::text[], $5::integer[]) AS f (id, owner, attempt)
          ON q.execution_id = f.id AND q.owner = f.owner AND q.attempts = f.attempt
        ORDER BY q.execution_id
        FOR SHARE OF q
      )
      SELECT i.id AS execution_id, e.created_at,
             COALESCE((SELECT MAX(j.seq) FROM ${s}.journal j WHERE j.execution_id = i.id), 0) AS last_seq,
             ARRAY(SELECT c.id FROM ${s}.checkpoints c WHERE c.execution_id = i.id ORDER BY c.position) AS checkpoint_ids,
             ARRAY(SELECT c.id FROM ${s}.checkpoints c WHERE c.id = ANY($2::text[])) AS taken,
             ARRAY(SELECT execution_id FROM fence) AS fenced
      FROM unnest($1::text[]) AS i (id)
      LEFT JOIN ${s}.executions e ON e.execution_id = i.id`,
    // The whole plan in one statement (one round trip). Checkpoints are
    // inserted in plan order, so the identity column keeps their order.
    apply: `
      WITH upserted AS (
        INSERT INTO ${s}.executions AS e (execution_id, pipeline_id, status, created_at, updated_at, definition_hash, metadata)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
        ON CONFLICT (execution_id) DO UPDATE SET
          pipeline_id = excluded.pipeline_id,
          status = excluded.status,
          updated_at = excluded.updated_at,
          definition_hash = excluded.definition_hash,
          metadata = excluded.metadata
        RETURNING 1
      ), journaled AS (
        INSERT INTO ${s}.journal (execution_id, seq, kind, step_id, payload, at)
        SELECT * FROM unnest($8::text[], $9::integer[], $10::text[], $11::text[], $12::text[], $13::text[])
        RETURNING 1
      ), checkpointed AS (
        INSERT INTO ${s}.checkpoints (id, execution_id, created_at, description, journal_seq, record)
        SELECT id, execution_id, created_at, description, journal_seq, record
        FROM unnest($14::text[], $15::text[], $16::text[], $17::text[], $18::integer[], $19::text[])
             WITH ORDINALITY AS t (id, execution_id, created_at, description, journal_seq, record, ord)
        ORDER BY ord
        RETURNING 1
      ), pruned AS (
        DELETE FROM ${s}.checkpoints WHERE id = ANY($20::text[]) RETURNING 1
      )
      SELECT (SELECT COUNT(*) FROM upserted) + (SELECT COUNT(*) FROM journaled)
           + (SELECT COUNT(*) FROM checkpointed) + (SELECT COUNT(*) FROM pruned) AS changed`,
    // After a connection died during COMMIT: did that transaction land?
    committed: `
      SELECT EXISTS (SELECT 1 FROM ${s}.journal WHERE execution_id = $1 AND seq = $2 AND payload = $3)
          OR EXISTS (SELECT 1 FROM ${s}.checkpoints WHERE id = $4) AS landed`,

    // One statement, one snapshot: the summary, journal and checkpoints agree.
    selectExecution: `
      SELECT e.execution_id, e.pipeline_id, e.status, e.created_at, e.updated_at, e.definition_hash, e.metadata,
             j.seqs, j.kinds, j.payloads, c.ids, c.journal_seqs, c.records
      FROM ${s}.executions e
      LEFT JOIN LATERAL (
        SELECT array_agg(seq ORDER BY seq) AS seqs, array_agg(kind ORDER BY seq) AS kinds,
               array_agg(payload ORDER BY seq) AS payloads
        FROM ${s}.journal WHERE execution_id = e.execution_id
      ) j ON true
      LEFT JOIN LATERAL (
        SELECT array_agg(id ORDER BY position) AS ids, array_agg(journal_seq ORDER BY position) AS journal_seqs,
               array_agg(record ORDER BY position) AS records
        FROM ${s}.checkpoints WHERE execution_id = e.execution_id
      ) c ON true
      WHERE e.execution_id = $1`,
    selectCheckpoint: `SELECT id, journal_seq, record FROM ${s}.checkpoints WHERE execution_id = $1 AND id = $2`,
    listCheckpoints: `
      SELECT id, created_at, description, journal_seq FROM ${s}.checkpoints
      WHERE execution_id = $1 ORDER BY position`,
    // LIMIT NULL means no limit.
    listExecutions: `
      SELECT execution_id, pipeline_id, status, created_at, updated_at, definition_hash, metadata
      FROM ${s}.executions
      WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR pipeline_id = $2)
      ORDER BY updated_at DESC, execution_id
      LIMIT $3`,
  };
}
