/**
 * Loading a pipeline module: its default export, made with definePipeline().
 * `.ts` modules load through tsx, registered by the `orchestrator` bin.
 *
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isPipeline } from '../runner/index.js';
import type { Pipeline } from '../runner/index.js';
import { BadInputError } from './args.js';

/** A loaded pipeline and the absolute path of its module. */
export interface LoadedPipeline {
  pipeline: Pipeline;
  modulePath: string;
}

/** The gist of a load error: its first line, and the next one when the first announces it ("...error:"). */
function gist(error: unknown): string {
  // Compilers colour their messages; a one-line report has no use for that.
  // eslint-disable-next-line no-control-regex
  const text = (error instanceof Error ? error.message : String(error)).replace(/\u001b\[[0-9;]*m/g, '');
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const [first = 'unknown error', second] = lines;
  return first.endsWith(':') && second !== undefined ? `${first} ${second}` : first;
}

/** An engine error (ExecutionError) of any copy of the package, told by its name and code. */
function isEngineError(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error &&
    (error.name === 'ExecutionError' || error.name === 'ValidationFailure') &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

async function importModule(url: string, importIsolated: ((specifier: string) => Promise<unknown>) | undefined): Promise<unknown> {
  try {
    return await import(url);
  } catch (error) {
    // A `.ts` module in a CommonJS package: Node's require(esm) refuses the cycle tsx creates.
    if (importIsolated === undefined || (error as { code?: unknown }).code !== 'ERR_REQUIRE_CYCLE_MODULE') throw error;
    return importIsolated(url);
  }
}

/**
 * Imports `file` (relative to `cwd`) and returns its default export.
 *
 * @throws BadInputError when the file is missing, does not load, or exports no pipeline
 */
export async function loadPipeline(
  file: string,
  cwd: string,
  importIsolated?: (specifier: string) => Promise<unknown>,
): Promise<LoadedPipeline> {
  const modulePath = resolve(cwd, file);
  if (!existsSync(modulePath) || !statSync(modulePath).isFile()) {
    throw new BadInputError(`Pipeline file not found: ${file}`);
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = (await importModule(pathToFileURL(modulePath).href, importIsolated)) as Record<string, unknown>;
  } catch (error) {
    // definePipeline refused the definition: its message names the culprit.
    if (isEngineError(error)) throw new BadInputError(`${file}: ${error.message}`);
    throw new BadInputError(`Could not load ${file}: ${gist(error)}`);
  }
  // A module compiled to CommonJS puts `export default` one level down.
  const candidates = [loaded.default, (loaded.default as Record<string, unknown> | undefined)?.default];
  const pipeline = candidates.find(isPipeline);
  if (pipeline === undefined) {
    throw new BadInputError(`${file} has no pipeline as its default export (expected \`export default definePipeline({ ... })\`)`);
  }
  return { pipeline, modulePath };
}
