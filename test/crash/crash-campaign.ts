/**
 * Crash campaign: runs the crash worker against a SQLite file, SIGKILLs it at
 * random points, starts it again until it finishes, and counts what a crash
 * may never cause: completed steps run again, outputs lost, stores that fail
 * to open or fail `PRAGMA integrity_check`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createSqliteStore } from '../../src/stores/index.js';

const WORKER = join(import.meta.dirname, 'crash-worker.ts');
const ROOT = join(import.meta.dirname, '..', '..');

/** Options of {@link runCrashCampaign}. */
export interface CrashCampaignOptions {
  /** SIGKILLs to deliver in all. */
  kills: number;
  /** Steps per execution. */
  steps: number;
  /** Random source (seedable for reproduction). */
  random?: () => number;
  log?: (line: string) => void;
}

/** What the campaign counted. */
export interface CrashCampaignResult {
  kills: number;
  executions: number;
  completedStepsRerun: number;
  outputsLost: number;
  storeOpenFailures: number;
  integrityFailures: number;
  /** Steps re-run because their process died mid-step (allowed: at least once). */
  interruptedStepsRerun: number;
}

function expectedOutput(index: number): unknown {
  return { step: index, square: index * index, text: `step ${index} `.repeat(1 + (index % 5)) };
}

/** Starts the worker; resolves with its exit code (null when killed) and how it ended. */
function runWorker(args: string[], killAfterReadyMs: number | null): Promise<{ code: number | null; killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let killed = false;
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (killAfterReadyMs !== null && timer === undefined && chunk.toString().includes('ready')) {
        timer = setTimeout(() => {
          killed = child.kill('SIGKILL');
        }, killAfterReadyMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ code, killed, stderr });
    });
  });
}

function checkStore(dbFile: string, result: CrashCampaignResult): void {
  let store;
  try {
    store = createSqliteStore({ filename: dbFile });
  } catch {
    result.storeOpenFailures += 1;
    return;
  }
  try {
    if (store.integrityCheck() !== 'ok') result.integrityFailures += 1;
  } finally {
    void store.close();
  }
}

function countRuns(sideLog: string, steps: number, result: CrashCampaignResult): void {
  const committed = new Set<string>();
  const runs = new Map<string, number>();
  for (const line of readFileSync(sideLog, 'utf8').split('\n')) {
    const [kind, stepId] = line.split(' ');
    if (stepId === undefined) continue;
    if (kind === 'run') {
      if (committed.has(stepId)) result.completedStepsRerun += 1;
      runs.set(stepId, (runs.get(stepId) ?? 0) + 1);
    } else if (kind === 'committed') committed.add(stepId);
  }
  for (const count of runs.values()) result.interruptedStepsRerun += Math.max(0, count - 1);
  if (committed.size !== steps) result.outputsLost += steps - committed.size;
}

function checkOutputs(dbFile: string, executionId: string, steps: number, result: CrashCampaignResult): void {
  const store = createSqliteStore({ filename: dbFile });
  try {
    const stored = store.sync.loadExecution(executionId);
    const outputs = new Map<string, unknown>();
    for (const entry of stored?.journal ?? []) {
      if (entry.kind === 'step_finished' && entry.record.status === 'completed') outputs.set(entry.record.stepId, entry.output);
    }
    for (let index = 0; index < steps; index++) {
      const stepId = `step_${String(index).padStart(3, '0')}`;
      if (!isDeepStrictEqual(outputs.get(stepId), expectedOutput(index))) result.outputsLost += 1;
    }
    if (stored?.summary.status !== 'completed') result.outputsLost += 1;
  } finally {
    void store.close();
  }
}

/** Runs executions until `kills` SIGKILLs have been delivered, each execution to its end. */
export async function runCrashCampaign(options: CrashCampaignOptions): Promise<CrashCampaignResult> {
  const random = options.random ?? Math.random;
  const dir = mkdtempSync(join(tmpdir(), 'crash-'));
  const dbFile = join(dir, 'state.db');
  const result: CrashCampaignResult = {
    kills: 0,
    executions: 0,
    completedStepsRerun: 0,
    outputsLost: 0,
    storeOpenFailures: 0,
    integrityFailures: 0,
    interruptedStepsRerun: 0,
  };
  while (result.kills < options.kills) {
    const executionId = `crash_${result.executions}`;
    const sideLog = join(dir, `${executionId}.log`);
    result.executions += 1;
    for (let attempt = 0; ; attempt++) {
      // Kill within the run most of the time; let it finish once kills are spent or after many tries.
      const kill = result.kills < options.kills && attempt < 50;
      const { code, killed, stderr } = await runWorker(
        [dbFile, sideLog, executionId, String(options.steps)],
        kill ? Math.floor(random() * 40 * options.steps) / 10 : null,
      );
      if (killed) {
        result.kills += 1;
        checkStore(dbFile, result);
        continue;
      }
      if (code !== 0) throw new Error(`crash worker exited with ${code}: ${stderr}`);
      break;
    }
    if (!existsSync(sideLog)) throw new Error('the worker wrote no side log');
    countRuns(sideLog, options.steps, result);
    checkOutputs(dbFile, executionId, options.steps, result);
    options.log?.(`execution ${executionId}: ${JSON.stringify(result)}`);
  }
  checkStore(dbFile, result);
  return result;
}
