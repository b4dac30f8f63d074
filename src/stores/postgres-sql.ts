/**
 * Every SQL text of the PostgreSQL store, built once per schema. Values
 * always travel as bind parameters (`$1`); the only interpolated text is the
 * schema name, an identifier (which Postgres cannot bind), always through
 * {@link quoteIdent}.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { checkpointsCte, FAST_GROUP_SIZES, fastApplyText, fenceCte, journalCte, prunedCte, soloApplyText, soloKey, STALE_HEADS } from './postgres-fast-sql.js';
import type { FastShape, SoloShape } from './postgres-fast-sql.js';

export { STALE_HEADS } from './postgres-fast-sql.js';

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
  metadata        text NOT NULL, -- JSON object
  -- Bumped by every write of the execution: a writer that read version N
  -- may write without further reads only while it is still N (optimistic path).
  version         integer NOT NULL DEFAULT 1
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

-- Aborts an optimistic write whose expected heads no longer hold (and with it everything the statement did).
CREATE FUNCTION ${s}.stale_heads() RETURNS boolean LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'orchestrator: an execution changed since this writer last saw it' USING ERRCODE = '${STALE_HEADS}';
END
$fn$;
`;
}

/** Schema version 2: the work queue shared by the workers. */
function schemaV2(s: string): string {
  return `
CREATE TABLE ${s}.queue (
  execution_id     text COLLATE "C" PRIMARY KEY,
  pipeline_id      text COLLATE "C" NOT NULL,
  input            text NOT NULL, -- JSON: the run's input
  metadata         text NOT NULL DEFAULT '{}', -- JSON: kept with the execution (the CLI records the module path)
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
  /** The optimistic write statement of a shape (name and text, made once per shape). */
  fastApply(shape: FastShape): { name: string; text: string };
  /** The optimistic write of one execution with few rows, scalar parameters (name and text, made once per shape). */
  soloApply(shape: SoloShape): { name: string; text: string };
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
  const fastTexts = new Map<string, string>();
  const soloTexts = new Map<string, string>();
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

    // One advisory lock per execution, taken in key order so that two
    // writers of overlapping executions never deadlock; it also covers
    // executions that have no row yet, which FOR UPDATE could not. Then the
    // rows themselves, which the optimistic path's UPDATE takes too.
    lockExecutions: `
      SELECT (SELECT count(*) FROM (
                SELECT pg_advisory_xact_lock(hashtext($1), k)
                FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($2::text[]) AS id ORDER BY k) AS keys) AS a) AS locks,
             (SELECT count(*) FROM (
                SELECT 1 FROM ${s}.executions WHERE execution_id = ANY($2::text[]) ORDER BY execution_id FOR UPDATE) AS r) AS rows`,
    // Read after the locks, in a statement of its own: READ COMMITTED takes a
    // fresh snapshot per statement, so it sees every write committed before ours.
    heads: `
      WITH ${fenceCte(s, '$3', '$4', '$5')}
      SELECT i.id AS execution_id, e.created_at, e.version,
             COALESCE((SELECT MAX(j.seq) FROM ${s}.journal j WHERE j.execution_id = i.id), 0) AS last_seq,
             ARRAY(SELECT c.id FROM ${s}.checkpoints c WHERE c.execution_id = i.id ORDER BY c.position) AS checkpoint_ids,
             ARRAY(SELECT c.id FROM ${s}.checkpoints c WHERE c.id = ANY($2::text[])) AS taken,
             ARRAY(SELECT execution_id FROM fence) AS fenced
      FROM unnest($1::text[]) AS i (id)
      LEFT JOIN ${s}.executions e ON e.execution_id = i.id`,
    // The whole plan in one statement (one round trip). Every execution of
    // the call gets one upsert (a row may change once per statement): its
    // summary when the call has one, and always a version bump. A row
    // without a summary (status '') exists already (planWrite checked), so
    // only the update applies, keeping the stored columns.
    apply: `
      WITH upserted AS (
        INSERT INTO ${s}.executions AS e (execution_id, pipeline_id, status, created_at, updated_at, definition_hash, metadata)
        SELECT id, pipeline_id, status, created_at, updated_at, definition_hash, metadata
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
             AS v (id, pipeline_id, status, created_at, updated_at, definition_hash, metadata)
        ON CONFLICT (execution_id) DO UPDATE SET
          version = e.version + 1,
          pipeline_id = CASE WHEN excluded.status <> '' THEN excluded.pipeline_id ELSE e.pipeline_id END,
          status = CASE WHEN excluded.status <> '' THEN excluded.status ELSE e.status END,
          updated_at = CASE WHEN excluded.status <> '' THEN excluded.updated_at ELSE e.updated_at END,
          definition_hash = CASE WHEN excluded.status <> '' THEN excluded.definition_hash ELSE e.definition_hash END,
          metadata = CASE WHEN excluded.status <> '' THEN excluded.metadata ELSE e.metadata END
        RETURNING e.execution_id, e.version
      ), ${journalCte(s, 8)}, ${checkpointsCte(s, 14)}, ${prunedCte(s, 20)}
      SELECT execution_id, version FROM upserted`,
    fastApply: (shape) => {
      const key = (Object.keys(FAST_GROUP_SIZES) as (keyof FastShape)[]).map((group) => (shape[group] ? '1' : '0')).join('');
      let text = fastTexts.get(key);
      if (text === undefined) {
        text = fastApplyText(s, shape);
        fastTexts.set(key, text);
      }
      return { name: `${prefix}fast_${key}`, text };
    },
    soloApply: (shape) => {
      const key = soloKey(shape);
      let text = soloTexts.get(key);
      if (text === undefined) {
        text = soloApplyText(s, shape);
        soloTexts.set(key, text);
      }
      return { name: `${prefix}solo_${key}`, text };
    },
    // After a connection died during COMMIT: did that transaction land?
    committed: `
      SELECT EXISTS (SELECT 1 FROM ${s}.journal WHERE execution_id = $1 AND seq = $2 AND payload = $3)
          OR EXISTS (SELECT 1 FROM ${s}.checkpoints WHERE id = $4) AS landed`,

    // One statement, one snapshot: the summary, journal and checkpoints agree.
    selectExecution: `
      SELECT e.execution_id, e.pipeline_id, e.status, e.created_at, e.updated_at, e.definition_hash, e.metadata, e.version,
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
