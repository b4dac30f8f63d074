/**
 * The command line grammar: commands, their positionals and flags, parsed
 * with `node:util` parseArgs (strict: an unknown flag is bad input).
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { ExecutionStatus } from '../constants.js';

/** Process exit codes of the CLI. */
export const ExitCode = {
  /** The run completed (or the command succeeded). */
  Completed: 0,
  /** The run failed. */
  Failed: 1,
  /** Unknown command or flag, missing or broken file, unknown id. */
  BadInput: 2,
  /** The run was cancelled (Ctrl-C). */
  Cancelled: 130,
} as const;
/** One of {@link ExitCode}'s values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad command line or arguments: printed without a stack trace, with a pointer to --help; exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Bad input that is not about the grammar (a missing file, an unknown id): exit code 2, no usage hint. */
export class BadInputError extends UsageError {
  override name = 'BadInputError';
}

/** The help text. */
export const USAGE = `Usage: orchestrator <command> [options]

Commands:
  run <file>                            run the pipeline a module exports (export default definePipeline(...))
  resume <executionId>                  continue a stored run that was cancelled or interrupted
  status <executionId>                  an execution's status report
  list                                  stored executions, newest first
  checkpoints <executionId>             an execution's checkpoints
  restore <executionId> <checkpointId>  roll a stored run back to a checkpoint (resume continues from it)
  worker <file...> --store postgres://  run queued executions of these pipelines (PostgreSQL), until Ctrl-C
  enqueue <file> --store postgres://    queue an execution of the module's pipeline for the workers

Options:
  --store <path|url>      SQLite database file (default .orchestrator/state.db); file:<dir> for the file store;
                          postgres://... for PostgreSQL
  --execution-id <id>     run: the execution id (default <pipeline>-<random>); a stored one is continued
  --concurrency <n>       run, resume: steps running at the same time (default 4)
  --file <file>           resume: the pipeline module (default: the one recorded by run)
  --status <status>       list: only executions with this status
  --schema <name>         worker, enqueue: the PostgreSQL schema (default orchestrator)
  --worker-id <id>        worker: this worker's id (default host-pid-random)
  --input <json>          enqueue: the run's input, as JSON
  --inspect               run, resume: watch the run in the Stately inspector (needs @statelyai/inspect;
                          the page it serves loads https://stately.ai, so the browser needs internet)
  --inspect-port <n>      the inspector relay's port (default 8080; implies --inspect)
  --json                  print one JSON object on stdout instead of text
  -h, --help              this help

Exit codes: 0 completed, 1 failed, 2 bad input, 130 cancelled.`;

type FlagSpecs = Record<string, { type: 'string' | 'boolean' }>;

const storeFlag: FlagSpecs = { store: { type: 'string' } };
const jsonFlag: FlagSpecs = { json: { type: 'boolean' } };
const inspectFlags: FlagSpecs = { inspect: { type: 'boolean' }, 'inspect-port': { type: 'string' } };

const COMMANDS: Record<
  'run' | 'resume' | 'status' | 'list' | 'checkpoints' | 'restore' | 'worker' | 'enqueue',
  { positionals: readonly string[]; options: FlagSpecs; variadic?: string }
> = {
  run: { positionals: ['file'], options: { ...storeFlag, ...jsonFlag, ...inspectFlags, 'execution-id': { type: 'string' }, concurrency: { type: 'string' } } },
  resume: { positionals: ['executionId'], options: { ...storeFlag, ...jsonFlag, ...inspectFlags, file: { type: 'string' }, concurrency: { type: 'string' } } },
  status: { positionals: ['executionId'], options: { ...storeFlag, ...jsonFlag } },
  list: { positionals: [], options: { ...storeFlag, ...jsonFlag, status: { type: 'string' } } },
  checkpoints: { positionals: ['executionId'], options: { ...storeFlag, ...jsonFlag } },
  restore: { positionals: ['executionId', 'checkpointId'], options: { ...storeFlag, ...jsonFlag } },
  worker: {
    positionals: [],
    variadic: 'file',
    options: { ...storeFlag, concurrency: { type: 'string' }, schema: { type: 'string' }, 'worker-id': { type: 'string' } },
  },
  enqueue: {
    positionals: ['file'],
    options: { ...storeFlag, ...jsonFlag, 'execution-id': { type: 'string' }, schema: { type: 'string' }, input: { type: 'string' } },
  },
};

/** A command name. */
export type CommandName = keyof typeof COMMANDS;

/** A parsed command line. */
export interface ParsedCommand {
  command: CommandName;
  /** Positionals by name (`file`, `executionId`, `checkpointId`). */
  args: Record<string, string>;
  store: string | undefined;
  json: boolean;
  executionId: string | undefined;
  concurrency: number | undefined;
  file: string | undefined;
  status: ExecutionStatus | undefined;
  /** worker: the pipeline modules (one or more). */
  files: string[];
  schema: string | undefined;
  workerId: string | undefined;
  /** enqueue: `--input` as given (JSON text). */
  input: string | undefined;
  /** run, resume: the port of the inspector relay (`--inspect`), or undefined when not inspecting. */
  inspectPort: number | undefined;
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

function parseConcurrency(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`--concurrency expects a whole number >= 1, got "${raw}"`);
  }
  return value;
}

/** Default port of `--inspect` (the one @statelyai/inspect's relay uses). */
export const DEFAULT_INSPECT_PORT = 8080;

function parseInspectPort(inspect: boolean, raw: string | undefined): number | undefined {
  if (raw === undefined) return inspect ? DEFAULT_INSPECT_PORT : undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1 || value > 65_535) {
    throw new UsageError(`--inspect-port expects a port number (1-65535), got "${raw}"`);
  }
  return value;
}

function parseStatus(raw: string | undefined): ExecutionStatus | undefined {
  if (raw === undefined) return undefined;
  const statuses: readonly string[] = Object.values(ExecutionStatus);
  if (!statuses.includes(raw)) throw new UsageError(`--status expects one of ${statuses.join(', ')}, got "${raw}"`);
  return raw as ExecutionStatus;
}

function nonEmpty(raw: string | undefined, flag: string): string | undefined {
  if (raw !== undefined && raw.trim() === '') throw new UsageError(`${flag} expects a non-empty value`);
  return raw;
}

/**
 * Parses `argv` (without `node` and the script). Returns `'help'` for
 * `-h`/`--help`/`help` or no arguments.
 *
 * @throws UsageError for an unknown command or flag, a missing or extra argument, a bad value
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommand | 'help' {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return 'help';
  if (!isCommand(name)) throw new UsageError(`Unknown command "${name}"`);
  if (rest.includes('--help') || rest.includes('-h')) return 'help';
  const spec = COMMANDS[name];
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...rest], options: spec.options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const names = spec.positionals;
  if (parsed.positionals.length < names.length) {
    const missing = names.slice(parsed.positionals.length).map((n) => `<${n}>`);
    throw new UsageError(`${name}: missing ${missing.join(' ')}`);
  }
  const variadic = spec.variadic;
  if (variadic !== undefined && parsed.positionals.length === names.length) {
    throw new UsageError(`${name}: missing <${variadic}...>`);
  }
  if (variadic === undefined && parsed.positionals.length > names.length) {
    throw new UsageError(`${name}: unexpected argument "${parsed.positionals[names.length] ?? ''}"`);
  }
  const args: Record<string, string> = {};
  names.forEach((key, index) => {
    const value = parsed.positionals[index] ?? '';
    if (value.trim() === '') throw new UsageError(`${name}: <${key}> must not be empty`);
    args[key] = value;
  });
  const text = (key: string): string | undefined => {
    const value = parsed.values[key];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    command: name,
    args,
    store: nonEmpty(text('store'), '--store'),
    json: parsed.values.json === true,
    executionId: nonEmpty(text('execution-id'), '--execution-id'),
    concurrency: parseConcurrency(text('concurrency')),
    file: nonEmpty(text('file'), '--file'),
    status: parseStatus(text('status')),
    files: variadic === undefined ? [] : parsed.positionals.slice(names.length),
    schema: nonEmpty(text('schema'), '--schema'),
    workerId: nonEmpty(text('worker-id'), '--worker-id'),
    input: text('input'),
    inspectPort: parseInspectPort(parsed.values.inspect === true, text('inspect-port')),
  };
}
