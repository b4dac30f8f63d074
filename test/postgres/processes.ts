/**
 * Worker child processes and the checks the multi-process tests share:
 * reading the side log and the store to see who ran and who completed what.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredExecution } from '../../src/stores/types.js';
import type { WorkerStats } from '../../src/workers/worker.js';
import type { LogLine } from './fixtures/log-pipeline.js';

const SCRIPT = join(import.meta.dirname, 'fixtures', 'worker-process.ts');
const ROOT = join(import.meta.dirname, '..', '..');

/** A running worker process. */
export interface WorkerProcess {
  pid: number;
  workerId: string;
  /** Resolves once the worker is claiming. */
  ready: Promise<void>;
  /** Resolves with the exit code (null when killed) and the stats it printed. */
  exited: Promise<{ code: number | null; stats: WorkerStats | null; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `fixtures/worker-process.ts`. */
export function spawnWorker(options: { url: string; schema: string; workerId: string; concurrency: number; leaseMs: number; pollMs: number }): WorkerProcess {
  const args = [options.url, options.schema, options.workerId, String(options.concurrency), String(options.leaseMs), String(options.pollMs)];
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; stats: WorkerStats | null; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      const stats = last.startsWith('{') ? (JSON.parse(last) as { stats: WorkerStats }).stats : null;
      resolve({ code, stats, stderr });
    });
  });
  if (child.pid === undefined) throw new Error('worker process did not start');
  return {
    pid: child.pid,
    workerId: options.workerId,
    ready: Promise.race([ready, exited.then(({ stderr: err }) => Promise.reject(new Error(`worker exited before ready: ${err}`)))]),
    exited,
    kill: (signal) => {
      child.kill(signal);
    },
  };
}

/** The side log's lines. */
export function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogLine);
}

/** Per `<execution>/<step>`: the pids that started it. */
export function runsByStep(lines: readonly LogLine[]): Map<string, number[]> {
  const runs = new Map<string, number[]>();
  for (const line of lines) {
    if (line.event !== 'run') continue;
    const key = `${line.executionId}/${line.step}`;
    runs.set(key, [...(runs.get(key) ?? []), line.pid]);
  }
  return runs;
}

/** Per step of a stored execution: how many times it was recorded completed, and the pid in its output. */
export function completions(stored: StoredExecution): Map<string, { completed: number; pid: number | null }> {
  const out = new Map<string, { completed: number; pid: number | null }>();
  for (const entry of stored.journal) {
    if (entry.kind !== 'step_finished' || entry.record.status !== 'completed') continue;
    const previous = out.get(entry.record.stepId)?.completed ?? 0;
    out.set(entry.record.stepId, { completed: previous + 1, pid: (entry.output as { pid?: number } | null)?.pid ?? null });
  }
  return out;
}
