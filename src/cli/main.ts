/**
 * The `orchestrator` command: argv -> public API -> exit code. Bad input
 * (unknown command or flag, missing or broken file, unknown id) prints a
 * one-line message without a stack trace and exits with 2.
 *
 * @module
 */
import { ErrorCode, ExecutionError } from '../errors.js';
import { BadInputError, ExitCode, USAGE, UsageError, parseCommandLine, type ParsedCommand } from './args.js';
import { checkpointsCommand, listCommand, restoreCommand, statusCommand } from './commands/inspect.js';
import { resumeRunCommand, runCommand } from './commands/run.js';
import { enqueueCliCommand, workerCliCommand } from './commands/scale-out.js';
import { processIo, type CliIo } from './io.js';

/** Error codes that mean "the user asked for something that is not there or not valid". */
const BAD_INPUT_CODES: ReadonlySet<string> = new Set([
  ErrorCode.InvalidInput,
  ErrorCode.ExecutionNotFound,
  ErrorCode.CheckpointNotFound,
]);

function report(io: CliIo, error: unknown): ExitCode {
  if (error instanceof UsageError) {
    const hint = error instanceof BadInputError ? '' : 'Run "orchestrator --help" for usage.\n';
    io.stderr.write(`orchestrator: ${error.message}\n${hint}`);
    return ExitCode.BadInput;
  }
  if (error instanceof ExecutionError) {
    io.stderr.write(`orchestrator: ${error.message}\n`);
    return BAD_INPUT_CODES.has(error.code) ? ExitCode.BadInput : ExitCode.Failed;
  }
  const text = error instanceof Error ? (io.env.ORCHESTRATOR_DEBUG === undefined ? error.message : (error.stack ?? error.message)) : String(error);
  io.stderr.write(`orchestrator: ${text}\n`);
  return ExitCode.Failed;
}

function dispatch(command: ParsedCommand, io: CliIo): Promise<ExitCode> {
  switch (command.command) {
    case 'run':
      return runCommand(command, io);
    case 'resume':
      return resumeRunCommand(command, io);
    case 'status':
      return statusCommand(command, io);
    case 'list':
      return listCommand(command, io);
    case 'checkpoints':
      return checkpointsCommand(command, io);
    case 'restore':
      return restoreCommand(command, io);
    case 'worker':
      return workerCliCommand(command, io);
    case 'enqueue':
      return enqueueCliCommand(command, io);
  }
}

/**
 * Runs one command line (`argv` without `node` and the script) and returns
 * the exit code: 0 completed, 1 failed, 2 bad input, 130 cancelled.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let command: ParsedCommand | 'help';
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    return report(io, error);
  }
  if (command === 'help') {
    if (argv.length === 0) {
      io.stderr.write(`${USAGE}\n`);
      return ExitCode.BadInput;
    }
    io.stdout.write(`${USAGE}\n`);
    return ExitCode.Completed;
  }
  try {
    return await dispatch(command, io);
  } catch (error) {
    return report(io, error);
  }
}
