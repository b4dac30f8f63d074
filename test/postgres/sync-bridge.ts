/**
 * A synchronous face for the PostgreSQL store, for the shared store contract
 * suite only: that suite drives stores through `sync`, which a network store
 * cannot have. Each call runs on a real PostgreSQL store in a worker thread
 * while this thread blocks on `Atomics.wait`; results and errors cross by
 * structured clone (so copies, `Date`s, `undefined` and `__proto__` keys
 * arrive as the caller passed them). Both faces then hit the same schema.
 */
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { ExecutionError } from '../../src/errors.js';
import type { ErrorCode } from '../../src/errors.js';
import { createPostgresStore } from '../../src/stores/postgres-store.js';
import type { CheckpointStore, SyncStoreApi } from '../../src/stores/types.js';

const flag = new Int32Array(new SharedArrayBuffer(4));
const { port1, port2 } = new MessageChannel();
let worker: Worker | null = null;
const BOOT = `
const { workerData } = require('node:worker_threads');
import(workerData.tsx).then(({ register }) => { register(); return import(workerData.target); });
`;
let nextId = 1;

function call(storeId: number, op: string, args: unknown[]): unknown {
  // A worker thread runs plain Node: it registers tsx first, then loads the TypeScript half.
  worker ??= new Worker(BOOT, {
    eval: true,
    workerData: { port: port2, flag, tsx: import.meta.resolve('tsx/esm/api'), target: new URL('./fixtures/bridge-worker.ts', import.meta.url).href },
    transferList: [port2],
  });
  worker.unref();
  Atomics.store(flag, 0, 0);
  port1.postMessage({ storeId, op, args });
  if (Atomics.wait(flag, 0, 0, 60_000) === 'timed-out') throw new Error(`sync bridge: ${op} timed out`);
  const reply = receiveMessageOnPort(port1)?.message as { result?: unknown; error?: { message: string; code: ErrorCode; retryable: boolean; details: Record<string, unknown> } } | undefined;
  if (reply === undefined) throw new Error(`sync bridge: no reply to ${op}`);
  if (reply.error !== undefined) {
    throw new ExecutionError(reply.error.code, reply.error.message, { retryable: reply.error.retryable, details: reply.error.details });
  }
  return reply.result;
}

/** A PostgreSQL store on `schema` with an added `sync` face (for the contract suite). */
export function bridgedPostgresStore(connectionString: string, schema: string): CheckpointStore {
  const storeId = nextId++;
  call(storeId, 'open', [connectionString, schema]);
  const store = createPostgresStore({ connectionString, schema });
  const sync: SyncStoreApi = {
    write: (batches) => {
      call(storeId, 'write', [batches]);
    },
    loadExecution: (executionId) => call(storeId, 'loadExecution', [executionId]) as ReturnType<SyncStoreApi['loadExecution']>,
    getCheckpoint: (executionId, checkpointId) =>
      call(storeId, 'getCheckpoint', [executionId, checkpointId]) as ReturnType<SyncStoreApi['getCheckpoint']>,
    listCheckpoints: (executionId) => call(storeId, 'listCheckpoints', [executionId]) as ReturnType<SyncStoreApi['listCheckpoints']>,
    listExecutions: (filter) => call(storeId, 'listExecutions', filter === undefined ? [] : [filter]) as ReturnType<SyncStoreApi['listExecutions']>,
  };
  return {
    ...store,
    sync,
    close: async () => {
      await store.close();
      call(storeId, 'close', []);
    },
  };
}
