/**
 * The SQL of the PostgreSQL store's writes: the parts shared with the
 * locking path (journal, checkpoints, pruning, fences as `unnest` of
 * arrays), and the optimistic one-statement writes: {@link fastApplyText}
 * for any write, {@link soloApplyText} for the common one (a single
 * execution, a few rows), whose parameters are scalars. Values always travel
 * as bind parameters; `s` is the schema, already quoted.
 *
 * @module
 */

/** SQLSTATE of an optimistic write that found the heads changed (the store then takes the locking path). */
export const STALE_HEADS = 'OR409';

/** `$n::type` placeholders of consecutive parameters from `first`. */
function params(first: number, types: readonly string[]): string {
  return types.map((type, i) => `$${first + i}::${type}`).join(', ');
}

/** Column types of a journal row, in insert order. */
const JOURNAL_TYPES = ['text', 'integer', 'text', 'text', 'text', 'text'] as const;
/** Column types of a checkpoint row, in insert order. */
const CHECKPOINT_TYPES = ['text', 'text', 'text', 'text', 'integer', 'text'] as const;
const arrays = (types: readonly string[]): string[] => types.map((type) => `${type}[]`);

/** Journal rows: six array parameters from `first`. */
export function journalCte(s: string, first: number): string {
  return `journaled AS (
        INSERT INTO ${s}.journal (execution_id, seq, kind, step_id, payload, at)
        SELECT * FROM unnest(${params(first, arrays(JOURNAL_TYPES))})
        RETURNING 1
      )`;
}

/** Checkpoints, inserted in plan order so that the identity column keeps their order: six array parameters from `first`. */
export function checkpointsCte(s: string, first: number): string {
  return `checkpointed AS (
        INSERT INTO ${s}.checkpoints (id, execution_id, created_at, description, journal_seq, record)
        SELECT id, execution_id, created_at, description, journal_seq, record
        FROM unnest(${params(first, arrays(CHECKPOINT_TYPES))})
             WITH ORDINALITY AS t (id, execution_id, created_at, description, journal_seq, record, ord)
        ORDER BY ord
        RETURNING 1
      )`;
}

/** Pruned checkpoint ids: one parameter. */
export function prunedCte(s: string, at: number): string {
  return `pruned AS (DELETE FROM ${s}.checkpoints WHERE id = ANY($${at}::text[]) RETURNING 1)`;
}

/** Queue rows whose claim a fenced write must still hold, locked against a concurrent claim. */
export function fenceCte(s: string, ids: string, owners: string, attempts: string): string {
  return `fence AS (
        SELECT q.execution_id FROM ${s}.queue q
        JOIN unnest(${ids}::text[], ${owners}::text[], ${attempts}::integer[]) AS f (id, owner, attempt)
          ON q.execution_id = f.id AND q.owner = f.owner AND q.attempts = f.attempt
        -- Spelled out for the planner: a key lookup, never a scan of a long queue.
        WHERE q.execution_id = ANY(${ids}::text[])
        ORDER BY q.execution_id
        FOR SHARE OF q
      )`;
}

/**
 * Which parts an optimistic write has (each a group of parameters, in this
 * order): executions at a known version, new executions, fences, journal
 * rows, checkpoints, pruned checkpoints.
 */
export interface FastShape {
  bumped: boolean;
  created: boolean;
  fence: boolean;
  journal: boolean;
  checkpoints: boolean;
  pruned: boolean;
}

/** Parameters per group of {@link FastShape}. */
export const FAST_GROUP_SIZES = { bumped: 8, created: 7, fence: 3, journal: 6, checkpoints: 6, pruned: 1 } as const;

/**
 * The optimistic write of one shape, in one autocommit statement (one round
 * trip, no locks held between statements; only the parts the write has, as
 * every CTE costs). Each execution must still be at the version seen (the
 * UPDATE waits for a concurrent writer and re-checks the row), or still
 * absent; the fences must hold. Otherwise stale_heads() aborts the whole
 * statement and the store takes the locking path.
 */
export function fastApplyText(s: string, shape: FastShape): string {
  let next = 1;
  const take = (group: keyof typeof FAST_GROUP_SIZES): number => {
    const first = next;
    next += FAST_GROUP_SIZES[group];
    return first;
  };
  const ctes: string[] = [];
  const checks: string[] = [];
  if (shape.bumped) {
    const first = take('bumped');
    ctes.push(`bumped AS (
        UPDATE ${s}.executions AS e SET
          version = e.version + 1,
          pipeline_id = CASE WHEN v.has_summary THEN v.pipeline_id ELSE e.pipeline_id END,
          status = CASE WHEN v.has_summary THEN v.status ELSE e.status END,
          updated_at = CASE WHEN v.has_summary THEN v.updated_at ELSE e.updated_at END,
          definition_hash = CASE WHEN v.has_summary THEN v.definition_hash ELSE e.definition_hash END,
          metadata = CASE WHEN v.has_summary THEN v.metadata ELSE e.metadata END
        FROM unnest(${params(first, ['text[]', 'integer[]', 'boolean[]', 'text[]', 'text[]', 'text[]', 'text[]', 'text[]'])})
             AS v (id, version, has_summary, pipeline_id, status, updated_at, definition_hash, metadata)
        WHERE e.execution_id = v.id AND e.version = v.version AND e.execution_id = ANY($${first}::text[])
        RETURNING e.execution_id
      )`);
    checks.push(`(SELECT count(*) FROM bumped) = cardinality($${first}::text[])`);
  }
  if (shape.created) {
    const first = take('created');
    ctes.push(`created AS (
        INSERT INTO ${s}.executions (execution_id, pipeline_id, status, created_at, updated_at, definition_hash, metadata)
        SELECT * FROM unnest(${params(first, ['text[]', 'text[]', 'text[]', 'text[]', 'text[]', 'text[]', 'text[]'])})
        ON CONFLICT (execution_id) DO NOTHING
        RETURNING execution_id
      )`);
    checks.push(`(SELECT count(*) FROM created) = cardinality($${first}::text[])`);
  }
  if (shape.fence) {
    const first = take('fence');
    ctes.push(fenceCte(s, `$${first}`, `$${first + 1}`, `$${first + 2}`));
    checks.push(`(SELECT count(*) FROM fence) = cardinality($${first}::text[])`);
  }
  if (shape.journal) ctes.push(journalCte(s, take('journal')));
  if (shape.checkpoints) ctes.push(checkpointsCte(s, take('checkpoints')));
  if (shape.pruned) ctes.push(prunedCte(s, take('pruned')));
  return `WITH ${ctes.join(', ')}
      SELECT CASE WHEN ${checks.join(' AND ')} THEN true ELSE ${s}.stale_heads() END AS ok`;
}

/** At most this many journal rows, and checkpoints, go into a {@link SoloShape} statement. */
export const SOLO_LIMITS = { journal: 4, checkpoints: 2 } as const;

/**
 * An optimistic write of ONE execution with few rows (every step of a
 * running execution writes one): all parameters are scalars, so the server
 * neither unpacks arrays nor joins them, and the plan is a key lookup.
 * Parameters, in order: the execution id; then for `bump` its version, for
 * `bump-summary` its version and the five summary columns it replaces, for
 * `create` the six summary columns after the id; the fence's owner and
 * attempt; per journal row its five columns after the id; per checkpoint
 * its five columns other than the execution id (id, created_at,
 * description, journal_seq, record); the pruned ids (one array).
 */
export interface SoloShape {
  execution: 'bump' | 'bump-summary' | 'create';
  fence: boolean;
  /** 0 to {@link SOLO_LIMITS}.journal. */
  journal: number;
  /** 0 to {@link SOLO_LIMITS}.checkpoints. */
  checkpoints: number;
  pruned: boolean;
}

/** A stable key of a solo shape (part of the statement's name). */
export function soloKey(shape: SoloShape): string {
  const execution = shape.execution === 'bump' ? 'b' : shape.execution === 'create' ? 'c' : 's';
  return `${execution}${shape.fence ? 'f' : ''}j${shape.journal}c${shape.checkpoints}${shape.pruned ? 'p' : ''}`;
}

/**
 * The statement of a {@link SoloShape}: the same guarantees as
 * {@link fastApplyText} (version or absence checked, fence held FOR SHARE,
 * all or nothing through stale_heads()), as scalar parameters.
 */
export function soloApplyText(s: string, shape: SoloShape): string {
  let next = 2;
  const take = (count: number): number => {
    const first = next;
    next += count;
    return first;
  };
  const ctes: string[] = [];
  const checks: string[] = [];
  if (shape.execution === 'create') {
    ctes.push(`created AS (
        INSERT INTO ${s}.executions (execution_id, pipeline_id, status, created_at, updated_at, definition_hash, metadata)
        VALUES ($1::text, ${params(take(6), ['text', 'text', 'text', 'text', 'text', 'text'])})
        ON CONFLICT (execution_id) DO NOTHING
        RETURNING 1
      )`);
    checks.push('EXISTS (SELECT FROM created)');
  } else {
    const version = take(1);
    let summary = '';
    if (shape.execution === 'bump-summary') {
      const first = take(5);
      summary = `, pipeline_id = $${first}::text, status = $${first + 1}::text, updated_at = $${first + 2}::text,
          definition_hash = $${first + 3}::text, metadata = $${first + 4}::text`;
    }
    ctes.push(`bumped AS (
        UPDATE ${s}.executions SET version = version + 1${summary}
        WHERE execution_id = $1::text AND version = $${version}::integer
        RETURNING 1
      )`);
    checks.push('EXISTS (SELECT FROM bumped)');
  }
  if (shape.fence) {
    const first = take(2);
    ctes.push(`fence AS (
        SELECT FROM ${s}.queue WHERE execution_id = $1::text AND owner = $${first}::text AND attempts = $${first + 1}::integer
        FOR SHARE
      )`);
    checks.push('EXISTS (SELECT FROM fence)');
  }
  if (shape.journal > 0) {
    const rows = Array.from({ length: shape.journal }, () => `($1::text, ${params(take(5), JOURNAL_TYPES.slice(1))})`);
    ctes.push(`journaled AS (
        INSERT INTO ${s}.journal (execution_id, seq, kind, step_id, payload, at) VALUES ${rows.join(', ')}
      )`);
  }
  if (shape.checkpoints > 0) {
    // A VALUES list is inserted in its order, so the identity column keeps the plan's order.
    const rows = Array.from({ length: shape.checkpoints }, () => {
      const first = take(5);
      return `($${first}::text, $1::text, ${params(first + 1, ['text', 'text', 'integer', 'text'])})`;
    });
    ctes.push(`checkpointed AS (
        INSERT INTO ${s}.checkpoints (id, execution_id, created_at, description, journal_seq, record) VALUES ${rows.join(', ')}
      )`);
  }
  if (shape.pruned) ctes.push(`pruned AS (DELETE FROM ${s}.checkpoints WHERE id = ANY($${take(1)}::text[]))`);
  return `WITH ${ctes.join(', ')}
      SELECT CASE WHEN ${checks.join(' AND ')} THEN true ELSE ${s}.stale_heads() END AS ok`;
}
