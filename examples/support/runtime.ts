/**
 * What every example shares: the time scale of its simulated work, the
 * "run when executed directly" check, and where its lines go.
 *
 * @module
 */
import { pathToFileURL } from 'node:url';

/** Options every example's `main()` accepts. */
export interface ExampleOptions {
  /**
   * Multiplies every simulated wait (0 runs without waiting).
   * @default Number(process.env.EXAMPLE_TIME_SCALE) when set, else 1
   */
  timeScale?: number;
  /**
   * Receives each printed line, without escape codes.
   * @default a terminal writer on stdout (progress redrawn in place on a TTY)
   */
  log?: (line: string) => void;
}

/** Environment variable that scales the examples' simulated waits. */
export const TIME_SCALE_ENV = 'EXAMPLE_TIME_SCALE';

/**
 * The time scale: the option, else `EXAMPLE_TIME_SCALE`, else 1.
 *
 * @throws Error when the value is not a finite number >= 0
 */
export function resolveTimeScale(option: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[TIME_SCALE_ENV];
  const value = option ?? (raw === undefined || raw.trim() === '' ? 1 : Number(raw));
  if (!Number.isFinite(value) || value < 0) {
    const source = option === undefined ? `${TIME_SCALE_ENV}=${raw ?? ''}` : `timeScale ${value}`;
    throw new Error(`Expected the time scale to be a finite number >= 0, got ${source}`);
  }
  return value;
}

/** A wait of `seconds` (the seed's `asyncio.sleep`), scaled; a scale of 0 only yields to the event loop. */
export function createSleep(timeScale: number): (seconds: number) => Promise<void> {
  return (seconds) => {
    const ms = seconds * 1000 * timeScale;
    return new Promise((resolve) => {
      if (ms <= 0) setImmediate(resolve);
      else setTimeout(resolve, ms);
    });
  };
}

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && moduleUrl === pathToFileURL(script).href;
}

/** Runs an example's `main()` when its module is executed directly; exit code 1 on an error. */
export function runIfMain(moduleUrl: string, main: () => Promise<unknown>): void {
  if (!isMainModule(moduleUrl)) return;
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
