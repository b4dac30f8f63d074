/**
 * `run <file>` and `resume <executionId>`: a pipeline run with live progress,
 * the final table, Ctrl-C as a clean cancel, and the exit code of its status.
 *
 * @module
 */
import { ExecutionStatus } from '../../constants.js';
import { runPipeline, type Pipeline, type PipelineResult } from '../../runner/index.js';
import type { CheckpointStore, ExecutionSummary } from '../../stores/types.js';
import { BadInputError, ExitCode, type ParsedCommand } from '../args.js';
import type { CliIo } from '../io.js';
import { startInspector, type LiveInspector } from '../inspector.js';
import { loadPipeline } from '../load-pipeline.js';
import { paintFor } from '../render/format.js';
import { resultLines } from '../render/summary.js';
import { PlainView, TerminalView, type RunView } from '../render/views.js';
import { DEFAULT_STORE, locateStore, openStore, storeExists, type StoreLocation } from '../store.js';

interface WatchOptions {
  pipeline: Pipeline;
  modulePath: string;
  executionId: string | undefined;
  stored: ExecutionSummary | null;
  location: StoreLocation;
  store: CheckpointStore;
  command: ParsedCommand;
  io: CliIo;
}

/** The shell command that continues `executionId`. */
export function resumeHint(executionId: string, location: StoreLocation): string {
  const store = location.spec === DEFAULT_STORE ? '' : ` --store ${JSON.stringify(location.spec)}`;
  return `orchestrator resume ${executionId}${store}`;
}

function exitCodeOf(status: ExecutionStatus): ExitCode {
  if (status === ExecutionStatus.COMPLETED) return ExitCode.Completed;
  if (status === ExecutionStatus.CANCELLED) return ExitCode.Cancelled;
  return ExitCode.Failed;
}

function headline(options: WatchOptions, executionId: string): string {
  const { stored, pipeline } = options;
  if (stored === null) return `Running pipeline ${pipeline.id} as execution ${executionId}`;
  switch (stored.status) {
    case ExecutionStatus.COMPLETED:
      return `Execution ${executionId} already completed; nothing to run (pass another --execution-id to run the pipeline again).`;
    case ExecutionStatus.FAILED:
      return `Execution ${executionId} failed earlier; a failed execution is not run again (pass another --execution-id).`;
    default:
      return `Resuming execution ${executionId} of pipeline ${pipeline.id} (it was ${stored.status})`;
  }
}

function jsonOf(result: PipelineResult): string {
  return JSON.stringify({
    executionId: result.executionId,
    status: result.status,
    steps: result.steps.map((step) => ({ id: step.id, status: step.status, attempts: step.attempts })),
  });
}

async function watch(options: WatchOptions): Promise<ExitCode> {
  const { io, command } = options;
  const paint = paintFor(io.stdout.isTTY === true, io.env);
  const print = (line: string): void => {
    io.stdout.write(`${line}\n`);
  };
  const inspector: LiveInspector | null = command.inspectPort === undefined ? null : await startInspector(command.inspectPort);
  try {
    return await runWatched(options, inspector, print, paint);
  } finally {
    await inspector?.stop();
  }
}

async function runWatched(
  options: WatchOptions,
  inspector: LiveInspector | null,
  print: (line: string) => void,
  paint: ReturnType<typeof paintFor>,
): Promise<ExitCode> {
  const { io, command, location } = options;
  const tty = io.stdout.isTTY === true;
  const run = runPipeline(options.pipeline, {
    ...(options.executionId === undefined ? {} : { executionId: options.executionId }),
    ...(command.concurrency === undefined ? {} : { concurrency: command.concurrency }),
    ...(inspector === null ? {} : { inspect: inspector.inspect }),
    store: options.store,
    metadata: { modulePath: options.modulePath },
  });
  if (!command.json) print(headline(options, run.executionId));
  if (inspector !== null) {
    const notice = `Inspector: open ${inspector.url} to watch the run (the page loads the Stately app, so the browser needs internet)`;
    if (command.json) io.stderr.write(`${notice}\n`);
    else print(notice);
  }
  const view: RunView | null = command.json ? null : tty ? new TerminalView(io.stdout, paint) : new PlainView(io.stdout);
  let live = false;
  const unsubscribe = run.on('*', (event) => {
    if (live) view?.event(event);
  });
  let interrupts = 0;
  const stopListening = io.onInterrupt(() => {
    interrupts += 1;
    if (interrupts > 1) {
      io.exit(ExitCode.Cancelled);
      return;
    }
    const notice = 'Cancelling (Ctrl-C again to quit at once)...';
    if (view === null) io.stderr.write(`${notice}\n`);
    else view.note(notice);
    run.cancel('Interrupted (Ctrl-C)');
  });
  let result: PipelineResult;
  try {
    const start = await run.started;
    view?.start(start);
    live = true;
    result = await run.done;
  } finally {
    live = false;
    stopListening();
    unsubscribe();
    view?.finish();
  }
  if (command.json) print(jsonOf(result));
  else for (const line of ['', ...resultLines(result, paint)]) print(line);
  if (result.status === ExecutionStatus.CANCELLED) {
    const hint = `Cancelled; completed steps are kept in ${location.spec}. Resume with: ${resumeHint(result.executionId, location)}`;
    if (command.json) io.stderr.write(`${hint}\n`);
    else print(hint);
  }
  return exitCodeOf(result.status);
}

/** `run <file> [--execution-id ID] [--store PATH] [--concurrency N] [--json]` */
export async function runCommand(command: ParsedCommand, io: CliIo): Promise<ExitCode> {
  const { pipeline, modulePath } = await loadPipeline(command.args.file ?? '', io.cwd, io.importIsolated);
  const location = locateStore(command.store, io.cwd);
  const store = openStore(location);
  try {
    const stored = command.executionId === undefined ? null : ((await store.loadExecution(command.executionId))?.summary ?? null);
    if (stored !== null && stored.pipelineId !== pipeline.id) {
      throw new BadInputError(`Execution "${stored.executionId}" belongs to pipeline "${stored.pipelineId}", not "${pipeline.id}"`);
    }
    return await watch({ pipeline, modulePath, executionId: command.executionId, stored, location, store, command, io });
  } finally {
    await store.close();
  }
}

/** `resume <executionId> [--file FILE] [--store PATH] [--concurrency N] [--json]` */
export async function resumeRunCommand(command: ParsedCommand, io: CliIo): Promise<ExitCode> {
  const executionId = command.args.executionId ?? '';
  const location = locateStore(command.store, io.cwd);
  if (!storeExists(location)) throw new BadInputError(`No execution "${executionId}": there is no store at ${location.spec}`);
  const store = openStore(location);
  try {
    const stored = (await store.loadExecution(executionId))?.summary ?? null;
    if (stored === null) throw new BadInputError(`No execution "${executionId}" in ${location.spec}`);
    const recorded = stored.metadata.modulePath;
    const file = command.file ?? (typeof recorded === 'string' ? recorded : undefined);
    if (file === undefined) {
      throw new BadInputError(`Execution "${executionId}" has no recorded pipeline module; pass --file <file>`);
    }
    const { pipeline, modulePath } = await loadPipeline(file, io.cwd, io.importIsolated);
    if (pipeline.id !== stored.pipelineId) {
      throw new BadInputError(`${file} defines pipeline "${pipeline.id}", but execution "${executionId}" belongs to "${stored.pipelineId}"`);
    }
    return await watch({ pipeline, modulePath, executionId, stored, location, store, command, io });
  } finally {
    await store.close();
  }
}
