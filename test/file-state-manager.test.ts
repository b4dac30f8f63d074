import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../src/clock.js';
import { ExecutionStatus, PersistenceFormat } from '../src/constants.js';
import { ErrorCode, ExecutionError } from '../src/errors.js';
import {
  createExecutionContext,
  ExecutionContext,
  FileStateManager,
  loadExecutionContext,
} from '../src/services/context/index.js';
import type { ExecutionContextState } from '../src/services/context/index.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctx-files-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function stateOf(executionId: string, clock: SimulatedClock, steps = 0): ExecutionContextState {
  const context = new ExecutionContext({ executionId, pipelineId: 'pipe', clock });
  context.start(steps);
  for (let i = 0; i < steps; i += 1) context.completeStep(`s${i}`);
  context.variableManager.setVariable('steps', steps);
  return context.exportState();
}

async function rejection(promise: Promise<unknown>): Promise<ExecutionError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ExecutionError);
    return error as ExecutionError;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): ExecutionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ExecutionError);
    return error as ExecutionError;
  }
  throw new Error('nothing was thrown');
}

describe('FileStateManager', () => {
  it('saves JSON files named <executionId>__<time>__... and loads them back', () => {
    const clock = new SimulatedClock(T0);
    const files = new FileStateManager({ stateDir: dir, clock });
    const state = stateOf('exec_1', clock, 2);
    const path = files.save(state);
    expect(basename(path)).toMatch(/^exec_1__2026-01-01T00-00-00-000Z__0000__[A-Za-z0-9_-]{21}\.json$/);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(state);
    expect(files.load(path)).toEqual(state);
    expect(files.loadLatest('exec_1')).toEqual(state);
    expect(readdirSync(dir)).toEqual([basename(path)]);
  });

  it('saves gzip files (.json.gz) and reads them by their magic bytes', () => {
    const clock = new SimulatedClock(T0);
    const files = new FileStateManager({ stateDir: dir, clock, format: PersistenceFormat.COMPRESSED_JSON });
    const state = stateOf('exec_1', clock, 1);
    const path = files.save(state);
    expect(path.endsWith('.json.gz')).toBe(true);
    const bytes = readFileSync(path);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(JSON.parse(gunzipSync(bytes).toString('utf8'))).toEqual(state);
    expect(files.load(path)).toEqual(state);
    // a JSON manager reads gzip files too
    expect(new FileStateManager({ stateDir: dir }).loadLatest('exec_1')).toEqual(state);
    expect(files.listFiles('exec_1')[0]!.format).toBe(PersistenceFormat.COMPRESSED_JSON);
  });

  it('keeps both of two saves in the same second, and loadLatest reads the second', () => {
    const clock = new SimulatedClock(T0);
    const files = new FileStateManager({ stateDir: dir, clock });
    const first = files.save(stateOf('exec_1', clock, 1));
    const second = files.save(stateOf('exec_1', clock, 2));
    expect(first).not.toBe(second);
    expect(files.list('exec_1')).toEqual([first, second]);
    expect(files.loadLatest('exec_1')?.metrics.stepsCompleted).toBe(2);
    clock.advance(1);
    const third = files.save(stateOf('exec_1', clock, 3));
    expect(files.list('exec_1')).toEqual([first, second, third]);
    expect(files.loadLatest('exec_1')?.metrics.stepsCompleted).toBe(3);
  });

  it('lists by exact execution id: exec_1 does not see exec_10', () => {
    const clock = new SimulatedClock(T0);
    const files = new FileStateManager({ stateDir: dir, clock });
    const one = files.save(stateOf('exec_1', clock));
    const ten = files.save(stateOf('exec_10', clock));
    const odd = files.save(stateOf('a__b/../c', clock));
    expect(files.list('exec_1')).toEqual([one]);
    expect(files.list('exec_10')).toEqual([ten]);
    expect(files.list('a__b/../c')).toEqual([odd]);
    expect(files.list('a')).toEqual([]);
    expect(files.listExecutions()).toEqual(['a__b/../c', 'exec_1', 'exec_10']);
    expect(files.loadLatest('exec_2')).toBeUndefined();
  });

  it('prune keeps the newest files of one execution and touches nothing else', () => {
    const clock = new SimulatedClock(T0);
    const files = new FileStateManager({ stateDir: dir, clock });
    const mine = [1, 2, 3, 4].map((n) => {
      clock.advance(1000);
      return files.save(stateOf('exec_1', clock, n));
    });
    const other = files.save(stateOf('exec_10', clock));
    const unrelated = join(dir, 'exec_1__notes.json');
    writeFileSync(unrelated, '{"mine": false}');
    writeFileSync(join(dir, 'README'), 'hello');

    expect(files.prune('exec_1', 2)).toEqual(mine.slice(0, 2));
    expect(files.list('exec_1')).toEqual(mine.slice(2));
    expect(readdirSync(dir).sort()).toEqual(
      [basename(mine[2]!), basename(mine[3]!), basename(other), 'exec_1__notes.json', 'README'].sort(),
    );
    expect(readFileSync(unrelated, 'utf8')).toBe('{"mine": false}');
    expect(files.prune('exec_1', 0)).toHaveLength(2);
    expect(files.list('exec_10')).toEqual([other]);
    expect(thrown(() => files.prune('exec_1', -1)).code).toBe(ErrorCode.InvalidInput);
  });

  it('never overwrites and leaves no temporary file behind', () => {
    const clock = new SimulatedClock(T0);
    const files = new FileStateManager({ stateDir: join(dir, 'nested', 'dir'), clock });
    const paths = Array.from({ length: 20 }, () => files.save(stateOf('exec_1', clock)));
    expect(new Set(paths).size).toBe(20);
    expect(readdirSync(join(dir, 'nested', 'dir'))).toHaveLength(20);
    expect(readdirSync(join(dir, 'nested', 'dir')).some((name) => name.endsWith('.tmp'))).toBe(false);
  });

  it('reports truncated or corrupt files as STORE_CORRUPT naming the file', () => {
    const clock = new SimulatedClock(T0);
    const json = new FileStateManager({ stateDir: dir, clock });
    const gz = new FileStateManager({ stateDir: dir, clock, format: PersistenceFormat.COMPRESSED_JSON });
    const jsonPath = json.save(stateOf('a', clock));
    const gzPath = gz.save(stateOf('b', clock));
    writeFileSync(jsonPath, readFileSync(jsonPath).subarray(0, 40));
    writeFileSync(gzPath, readFileSync(gzPath).subarray(0, 30));
    for (const path of [jsonPath, gzPath]) {
      const error = thrown(() => json.load(path));
      expect(error.code).toBe(ErrorCode.StoreCorrupt);
      expect(error.message).toContain(path);
    }
    const wrongShape = join(dir, 'c__2026-01-01T00-00-00-000Z__0000__aaaaaaaaaaaaaaaaaaaaa.json');
    writeFileSync(wrongShape, JSON.stringify({ formatVersion: 1, executionId: 'c' }));
    const error = thrown(() => json.loadLatest('c'));
    expect(error.code).toBe(ErrorCode.StoreCorrupt);
    expect(error.message).toContain(wrongShape);
    expect(thrown(() => json.load(join(dir, 'missing.json'))).code).toBe(ErrorCode.StoreError);
  });

  it('refuses a file from a newer release with STATE_INCOMPATIBLE', () => {
    const clock = new SimulatedClock(T0);
    const files = new FileStateManager({ stateDir: dir, clock });
    const path = join(dir, 'newer.json');
    writeFileSync(path, JSON.stringify({ ...stateOf('x', clock), formatVersion: 2 }));
    expect(thrown(() => files.load(path)).code).toBe(ErrorCode.StateIncompatible);
  });

  it('refuses bad options and a bad state to save', () => {
    expect(thrown(() => new FileStateManager({ stateDir: '' })).code).toBe(ErrorCode.InvalidInput);
    expect(thrown(() => new FileStateManager({ stateDir: dir, format: 'pickle' as never })).code).toBe(
      ErrorCode.InvalidInput,
    );
    const files = new FileStateManager({ stateDir: dir });
    expect(thrown(() => files.save({ formatVersion: 1 } as never)).code).toBe(ErrorCode.InvalidInput);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('saveState / loadExecutionContext', () => {
  it('saves through the context and loads the latest state back', async () => {
    const clock = new SimulatedClock(T0);
    const context = createExecutionContext({ executionId: 'run', pipelineId: 'pipe', clock, stateDir: dir });
    context.start(2);
    context.variableManager.setVariable('x', 1);
    context.completeStep('a');
    context.createCheckpoint('cp');
    const firstPath = context.saveState();
    context.completeStep('b', false);
    const secondPath = context.saveState();
    expect(firstPath).not.toBe(secondPath);

    const loaded = await loadExecutionContext('run', { stateDir: dir, clock });
    expect(loaded.exportState()).toEqual(context.exportState());
    expect(loaded.failedSteps).toEqual(['b']);
    expect(loaded.variableManager.getVariable('x')).toBe(1);
    expect(loaded.stateDir).toBe(dir);
    expect(loaded.status).toBe(ExecutionStatus.RUNNING);
    expect(loaded.saveState()).not.toBe(secondPath);
  });

  it('saveState without stateDir is INVALID_STATE', () => {
    const context = createExecutionContext({ executionId: 'run', pipelineId: 'pipe' });
    expect(thrown(() => context.saveState()).code).toBe(ErrorCode.InvalidState);
  });

  it('loadExecutionContext of an unknown execution is EXECUTION_NOT_FOUND', async () => {
    expect((await rejection(loadExecutionContext('nobody', { stateDir: dir }))).code).toBe(ErrorCode.ExecutionNotFound);
    expect((await rejection(loadExecutionContext('nobody', { stateDir: join(dir, 'absent') }))).code).toBe(
      ErrorCode.ExecutionNotFound,
    );
    expect((await rejection(loadExecutionContext('', { stateDir: dir }))).code).toBe(ErrorCode.InvalidInput);
  });
});
