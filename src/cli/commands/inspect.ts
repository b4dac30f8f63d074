/**
 * `status`, `list`, `checkpoints` and `restore`: reading (and rolling back)
 * stored executions. Reading commands never create a store.
 *
 * @module
 */
import { ErrorCode, ExecutionError } from '../../errors.js';
import { restoreStoredExecution } from '../../runner/index.js';
import { resumeExecution } from '../../services/open-execution.js';
import type { CheckpointStore } from '../../stores/types.js';
import { ExitCode, type ParsedCommand } from '../args.js';
import type { CliIo } from '../io.js';
import { paintFor } from '../render/format.js';
import { checkpointLines, executionLines, reportLines } from '../render/summary.js';
import { locateStore, openStore, storeExists, type StoreLocation } from '../store.js';
import { resumeHint } from './run.js';

function notFound(executionId: string, location: StoreLocation): ExecutionError {
  return new ExecutionError(ErrorCode.ExecutionNotFound, `No execution "${executionId}" in ${location.spec}`, {
    details: { executionId },
  });
}

async function withStore<T>(location: StoreLocation, use: (store: CheckpointStore) => Promise<T>): Promise<T> {
  const store = openStore(location);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

function print(io: CliIo, lines: readonly string[]): void {
  for (const line of lines) io.stdout.write(`${line}\n`);
}

/** `status <executionId> [--store PATH] [--json]` */
export async function statusCommand(command: ParsedCommand, io: CliIo): Promise<ExitCode> {
  const executionId = command.args.executionId ?? '';
  const location = locateStore(command.store, io.cwd);
  if (!storeExists(location)) throw notFound(executionId, location);
  return withStore(location, async (store) => {
    if ((await store.loadExecution(executionId)) === null) throw notFound(executionId, location);
    const manager = await resumeExecution(executionId, { store });
    try {
      const report = manager.getExecutionStatus();
      if (command.json) {
        io.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        const steps = manager.progressTracker.getAllStepProgress(executionId);
        print(io, reportLines(report, steps, (stepId) => manager.getStepRecord(stepId)));
      }
    } finally {
      await manager.shutdown();
    }
    return ExitCode.Completed;
  });
}

/** `list [--status S] [--store PATH] [--json]` */
export async function listCommand(command: ParsedCommand, io: CliIo): Promise<ExitCode> {
  const location = locateStore(command.store, io.cwd);
  const executions = storeExists(location)
    ? await withStore(location, (store) => store.listExecutions(command.status === undefined ? {} : { status: command.status }))
    : [];
  if (command.json) io.stdout.write(`${JSON.stringify(executions)}\n`);
  else print(io, executionLines(executions));
  return ExitCode.Completed;
}

/** `checkpoints <executionId> [--store PATH] [--json]` */
export async function checkpointsCommand(command: ParsedCommand, io: CliIo): Promise<ExitCode> {
  const executionId = command.args.executionId ?? '';
  const location = locateStore(command.store, io.cwd);
  if (!storeExists(location)) throw notFound(executionId, location);
  const checkpoints = await withStore(location, async (store) => {
    if ((await store.loadExecution(executionId)) === null) throw notFound(executionId, location);
    return store.listCheckpoints(executionId);
  });
  if (command.json) io.stdout.write(`${JSON.stringify(checkpoints)}\n`);
  else print(io, checkpointLines(checkpoints));
  return ExitCode.Completed;
}

/** `restore <executionId> <checkpointId> [--store PATH] [--json]` */
export async function restoreCommand(command: ParsedCommand, io: CliIo): Promise<ExitCode> {
  const executionId = command.args.executionId ?? '';
  const checkpointId = command.args.checkpointId ?? '';
  const location = locateStore(command.store, io.cwd);
  if (!storeExists(location)) throw notFound(executionId, location);
  const result = await withStore(location, (store) => restoreStoredExecution(store, executionId, checkpointId));
  if (command.json) {
    io.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const paint = paintFor(io.stdout.isTTY === true, io.env);
    const steps = result.stepsReset.length === 0 ? 'no step' : result.stepsReset.join(', ');
    print(io, [
      paint.green(`Execution ${executionId} rolled back to checkpoint ${checkpointId}.`),
      `Steps that will run again: ${steps}.`,
      `Continue it with: ${resumeHint(executionId, location)}`,
    ]);
  }
  return ExitCode.Completed;
}
