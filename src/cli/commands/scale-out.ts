/**
 * `orchestrator worker` and `orchestrator enqueue`: the scale-out commands on
 * a PostgreSQL store (the work itself is in `src/workers`).
 *
 * @module
 */
import { resolve } from 'node:path';
import type { JsonValue } from '../../validation.js';
import { enqueueCommand, runWorkerCommand } from '../../workers/cli-commands.js';
import { ExitCode, UsageError, type ParsedCommand } from '../args.js';
import type { CliIo } from '../io.js';

function requireStore(command: ParsedCommand): string {
  if (command.store === undefined) throw new UsageError(`${command.command}: --store postgres://... is required`);
  return command.store;
}

/** Runs a worker until Ctrl-C, then gives its running executions back to the queue. */
export async function workerCliCommand(command: ParsedCommand, io: CliIo): Promise<ExitCode> {
  const controller = new AbortController();
  const stopListening = io.onInterrupt(() => {
    io.stderr.write('Stopping: running executions go back to the queue...\n');
    controller.abort();
  });
  try {
    const stats = await runWorkerCommand({
      store: requireStore(command),
      pipelines: command.files.map((file) => resolve(io.cwd, file)),
      signal: controller.signal,
      log: (line) => {
        io.stderr.write(`${line}\n`);
      },
      ...(command.schema === undefined ? {} : { schema: command.schema }),
      ...(command.concurrency === undefined ? {} : { concurrency: command.concurrency }),
      ...(command.workerId === undefined ? {} : { workerId: command.workerId }),
    });
    io.stdout.write(`${JSON.stringify(stats)}\n`);
    return ExitCode.Completed;
  } finally {
    stopListening();
  }
}

function parseInputJson(raw: string | undefined): JsonValue | undefined {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as JsonValue;
  } catch (error) {
    throw new UsageError(`--input expects JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Queues one execution; submitting the same execution id twice does not run it twice. */
export async function enqueueCliCommand(command: ParsedCommand, io: CliIo): Promise<ExitCode> {
  const input = parseInputJson(command.input);
  const result = await enqueueCommand({
    store: requireStore(command),
    file: resolve(io.cwd, command.args.file ?? ''),
    ...(command.schema === undefined ? {} : { schema: command.schema }),
    ...(command.executionId === undefined ? {} : { executionId: command.executionId }),
    ...(input === undefined ? {} : { input }),
  });
  if (command.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    io.stdout.write(
      result.created
        ? `Queued ${result.pipelineId} as execution ${result.executionId}\n`
        : `Execution ${result.executionId} was already queued; not queued again\n`,
    );
  }
  return ExitCode.Completed;
}
