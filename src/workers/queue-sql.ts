/**
 * The SQL of the work queue (the `queue` table of a PostgreSQL store's
 * schema). Values are bind parameters; the schema is a quoted identifier.
 * Lease times are the database's (`now()`), so workers on machines with
 * different clocks agree on when a lease has expired.
 *
 * @module
 */
import { quoteIdent } from '../stores/postgres-sql.js';

/** The queue statements of one schema. */
export interface QueueSql {
  prefix: string;
  enqueue: string;
  claim: string;
  heartbeat: string;
  finish: string;
  release: string;
  entry: string;
  counts: string;
}

/** Builds the queue SQL of the store in `schemaName`; `prefix` names its prepared statements. */
export function queueSql(schemaName: string, prefix: string): QueueSql {
  const q = `${quoteIdent(schemaName)}.queue`;
  return {
    prefix: `${prefix}q_`,
    // The execution id is the key: submitting it twice queues it once.
    enqueue: `
      INSERT INTO ${q} (execution_id, pipeline_id, input, metadata) VALUES ($1, $2, $3, $4)
      ON CONFLICT (execution_id) DO NOTHING
      RETURNING execution_id`,
    // SKIP LOCKED: concurrent claimers each take other rows, nobody waits.
    // READ COMMITTED re-checks the WHERE clause on a row locked after a
    // concurrent claim committed, so a row is never handed out twice. A row
    // past maxAttempts is failed here instead of being handed out again.
    claim: `
      UPDATE ${q} AS q SET
        status = CASE WHEN q.attempts + 1 > $4 THEN 'failed' ELSE 'running' END,
        owner = $1,
        attempts = q.attempts + 1,
        lease_expires_at = CASE WHEN q.attempts + 1 > $4 THEN NULL ELSE now() + $2::integer * interval '1 millisecond' END,
        started_at = COALESCE(q.started_at, now()),
        finished_at = CASE WHEN q.attempts + 1 > $4 THEN now() ELSE NULL END,
        error = CASE WHEN q.attempts + 1 > $4
                THEN json_build_object('name', 'ExecutionError', 'message',
                       'Execution was claimed ' || q.attempts || ' times without finishing; giving up')::text
                ELSE q.error END
      FROM (
        SELECT execution_id FROM ${q}
        WHERE pipeline_id = ANY($3::text[])
          AND (status = 'queued' OR (status = 'running' AND lease_expires_at < now()))
          -- Never what this worker runs already (its lease may look expired while its heartbeat is late).
          AND execution_id <> ALL($6::text[])
        ORDER BY enqueued_at, execution_id
        LIMIT $5
        FOR UPDATE SKIP LOCKED
      ) AS next
      WHERE q.execution_id = next.execution_id
      RETURNING q.execution_id, q.pipeline_id, q.input, q.metadata, q.attempts, q.status`,
    // Rows locked in id order, as the store's fenced writes lock them: no deadlock between the two.
    heartbeat: `
      UPDATE ${q} AS q SET lease_expires_at = now() + $2::integer * interval '1 millisecond'
      FROM (
        SELECT execution_id FROM ${q}
        WHERE execution_id = ANY($3::text[]) AND owner = $1 AND status = 'running'
          AND (execution_id, attempts) IN (SELECT * FROM unnest($3::text[], $4::integer[]))
        ORDER BY execution_id
        FOR UPDATE
      ) AS mine
      WHERE q.execution_id = mine.execution_id
      RETURNING q.execution_id`,
    finish: `
      UPDATE ${q} SET status = $4, finished_at = now(), lease_expires_at = NULL, error = $5
      WHERE execution_id = $1 AND owner = $2 AND attempts = $3 AND status = 'running'
      RETURNING execution_id`,
    // Back to the queue; owner cleared, so the releasing worker's fence fails from now on.
    release: `
      UPDATE ${q} SET status = 'queued', owner = NULL, lease_expires_at = NULL
      WHERE execution_id = $1 AND owner = $2 AND attempts = $3 AND status = 'running'
      RETURNING execution_id`,
    entry: `
      SELECT execution_id, pipeline_id, input, metadata, status, owner, attempts, error,
             to_char(lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS lease_expires_at,
             to_char(enqueued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS enqueued_at,
             to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS finished_at
      FROM ${q} WHERE execution_id = $1`,
    counts: `SELECT status, COUNT(*)::integer AS count FROM ${q} GROUP BY status`,
  };
}
