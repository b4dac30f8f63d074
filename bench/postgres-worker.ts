/**
 * One worker process of the PostgreSQL throughput benchmark: a 10-step
 * pipeline of no-op steps (so the database and the engine are what is
 * measured), run by createWorker until SIGTERM. Prints `ready` once it
 * claims, and its stats as JSON when it has stopped.
 *
 * argv: <connection string> <schema> <worker id> <concurrency>
 */
import { definePipeline } from '../src/runner/define.js';
import { createPostgresStore } from '../src/stores/postgres-store.js';
import { createWorker } from '../src/workers/worker.js';

/** The benchmark pipeline: `bench-10`, ten chained steps. */
export const benchPipeline = definePipeline({
  id: 'bench-10',
  steps: Array.from({ length: 10 }, (_, i) => ({
    id: `s${i}`,
    dependsOn: i === 0 ? [] : [`s${i - 1}`],
    run: () => ({ ok: true, rows: 10 }),
  })),
});

const [url, schema, workerId, concurrency] = process.argv.slice(2);
if (url !== undefined && schema !== undefined && workerId !== undefined) {
  const store = createPostgresStore({ connectionString: url, schema });
  await store.ready();
  const worker = createWorker({ store, pipelines: [benchPipeline], workerId, concurrency: Number(concurrency ?? 4), pollMs: 10 });
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    void worker
      .stop()
      .then(() => store.close())
      .then(() => {
        process.stdout.write(`${JSON.stringify(worker.stats())}\n`);
      });
  });
}
