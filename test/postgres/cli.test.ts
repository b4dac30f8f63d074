import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createPostgresStore } from '../../src/index.js';
import { PG_URL, describePg, uniqueSchema, waitFor } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PIPELINE = 'test/postgres/fixtures/log-pipeline.ts';

function cli(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; interrupt: () => void } {
  const child = spawn(process.execPath, ['bin/orchestrator.js', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
  return { done, interrupt: () => child.kill('SIGINT') };
}

describePg('orchestrator enqueue / worker on PostgreSQL', () => {
  it('queues once per execution id, and a worker runs the queued executions until Ctrl-C', async () => {
    const schema = uniqueSchema('cli');
    const log = join(mkdtempSync(join(tmpdir(), 'cli-pg-')), 'side.log');
    const input = (id: string): string => JSON.stringify({ executionId: id, log, stepMs: 1 });
    for (const id of ['cli-a', 'cli-b']) {
      const queued = await cli(['enqueue', PIPELINE, '--store', PG_URL, '--schema', schema, '--execution-id', id, '--input', input(id), '--json']).done;
      expect(queued.code, queued.stderr).toBe(0);
      expect(JSON.parse(queued.stdout)).toMatchObject({ executionId: id, created: true });
    }
    const again = await cli(['enqueue', PIPELINE, '--store', PG_URL, '--schema', schema, '--execution-id', 'cli-a', '--input', input('cli-a')]).done;
    expect(again.stdout).toContain('already queued');

    const worker = cli(['worker', PIPELINE, '--store', PG_URL, '--schema', schema, '--concurrency', '2']);
    const store = createPostgresStore({ connectionString: PG_URL, schema });
    try {
      await waitFor(async () => (await store.listExecutions({ status: 'completed' })).length === 2, 'both executions completed');
    } finally {
      await store.close();
    }
    worker.interrupt();
    const stopped = await worker.done;
    expect(stopped.code, stopped.stderr).toBe(0);
    // It tells what it does: each execution started, each step's outcome, each execution finished.
    for (const id of ['cli-a', 'cli-b']) {
      const lines = stopped.stderr.split('\n').filter((line) => line.startsWith(`worker: ${id} `));
      expect(lines[0]).toBe(`worker: ${id} started (pg-log)`);
      expect(lines).toHaveLength(5);
      ['s1', 's2', 's3'].forEach((step, i) => {
        expect(lines[i + 1]).toMatch(new RegExp(`^worker: ${id} ${step} completed in \\d+\\.\\d s$`));
      });
      expect(lines.at(-1)).toBe(`worker: ${id} completed`);
    }
    const ends = readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"end"'));
    expect(ends).toHaveLength(6);
  }, 120_000);

  it('run, status and list work on a PostgreSQL store', async () => {
    const schemaFree = `cli-run-${Date.now()}`;
    const url = PG_URL;
    const run = await cli(['run', 'test/postgres/fixtures/tiny-pipeline.ts', '--store', url, '--execution-id', schemaFree, '--json']).done;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ executionId: schemaFree, status: 'completed' });
    const status = await cli(['status', schemaFree, '--store', url, '--json']).done;
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ executionId: schemaFree, status: 'completed', progress: { completedSteps: 3 } });
    const list = await cli(['list', '--store', url, '--status', 'completed', '--json']).done;
    expect((JSON.parse(list.stdout) as { executionId: string }[]).map((entry) => entry.executionId)).toContain(schemaFree);
  }, 120_000);

  it('refuses a worker without --store and a non-postgres store with exit code 2', async () => {
    const missing = await cli(['worker', PIPELINE]).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--store');
    const sqlite = await cli(['enqueue', PIPELINE, '--store', 'state.db']).done;
    expect(sqlite.code).toBe(2);
    expect(sqlite.stderr).toContain('postgres');
  });
});
