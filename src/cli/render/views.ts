/**
 * How a run looks while it runs. On a terminal: one line per step (status,
 * bar, message, retries) and an overall line with the ETA, redrawn in place.
 * Elsewhere: one plain line per event, no escape codes.
 *
 * @module
 */
import { ProgressEventType, StepStatus } from '../../constants.js';
import type { RunStart } from '../../runner/index.js';
import type { ProgressEvent } from '../../services/progress/index.js';
import type { CliStream } from '../io.js';
import { bar, fit, percent, seconds, type Paint } from './format.js';
import { RunModel, type StepView } from './run-model.js';

/** A run's live output. */
export interface RunView {
  start(start: RunStart): void;
  event(event: ProgressEvent): void;
  /** A line that stays above the live block. */
  note(text: string): void;
  /** Stops redrawing; a terminal's live block is erased (the final table takes its place). */
  finish(): void;
}

const STATUS_WORDS: Record<StepStatus, string> = {
  pending: 'waiting',
  running: 'running',
  recovering: 'retrying',
  completed: 'done',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
};

function colourFor(status: StepStatus, paint: Paint): (text: string) => string {
  switch (status) {
    case StepStatus.COMPLETED:
      return paint.green;
    case StepStatus.FAILED:
      return paint.red;
    case StepStatus.RECOVERING:
    case StepStatus.CANCELLED:
      return paint.yellow;
    case StepStatus.PENDING:
    case StepStatus.SKIPPED:
      return paint.dim;
    case StepStatus.RUNNING:
      return paint.bold;
  }
}

/** The live block's lines (exported for tests). */
export function liveLines(model: RunModel, paint: Paint): string[] {
  const idWidth = Math.max(...[...model.steps.keys()].map((id) => id.length), 4);
  const lines = [...model.steps.values()].map((step) => {
    const tail: string[] = [];
    if (step.retries > 0) tail.push(`retry ${step.retries}`);
    if (step.status === StepStatus.COMPLETED) tail.push(step.message ?? seconds(step.durationSeconds));
    else if (step.message !== null) tail.push(step.message);
    const colour = colourFor(step.status, paint);
    const word = colour(STATUS_WORDS[step.status].padEnd(9));
    return `  ${word} ${step.id.padEnd(idWidth)} ${bar(step.percentage)} ${percent(step.percentage)}  ${tail.join(' · ')}`.trimEnd();
  });
  const total = model.steps.size;
  const finished = model.count(StepStatus.COMPLETED) + model.count(StepStatus.SKIPPED);
  const eta = model.etaSeconds;
  const overall = [
    `${finished}/${total} steps`,
    `elapsed ${seconds(model.elapsedSeconds)}`,
    ...(eta === null ? [] : [`ETA ${seconds(eta)}`]),
  ].join(' · ');
  lines.push(`  ${paint.bold('overall'.padEnd(9))} ${''.padEnd(idWidth)} ${bar(model.overall)} ${percent(model.overall)}  ${overall}`);
  return lines;
}

/** The live view of a terminal. */
export class TerminalView implements RunView {
  readonly #stream: CliStream;
  readonly #paint: Paint;
  readonly #now: () => number;
  #model: RunModel | null = null;
  #drawn = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #ticker: ReturnType<typeof setInterval> | null = null;

  constructor(stream: CliStream, paint: Paint, now: () => number = Date.now) {
    this.#stream = stream;
    this.#paint = paint;
    this.#now = now;
  }

  start(start: RunStart): void {
    this.#model = new RunModel(start, this.#now);
    this.#draw();
    // Elapsed time and ETA move even when no event arrives.
    this.#ticker = setInterval(() => {
      this.#draw();
    }, 1000);
    this.#ticker.unref();
  }

  event(event: ProgressEvent): void {
    if (this.#model?.apply(event) === undefined) return;
    // Coalesce bursts of events into one redraw per frame.
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.#draw();
    }, 50);
  }

  note(text: string): void {
    this.#erase();
    this.#stream.write(`${text}\n`);
    this.#draw();
  }

  finish(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#timer = null;
    this.#ticker = null;
    this.#erase();
    this.#model = null;
  }

  #erase(): void {
    if (this.#drawn === 0) return;
    // Up to the block's first line, then clear to the end of the screen.
    this.#stream.write(`\r\u001b[${this.#drawn}A\u001b[J`);
    this.#drawn = 0;
  }

  #draw(): void {
    if (this.#model === null) return;
    // A pseudo-terminal without a window size reports 0 columns.
    const columns = this.#stream.columns ?? 0;
    const width = columns > 0 ? Math.max(20, columns - 1) : 120;
    // Lines never wrap, so the cursor arithmetic stays exact.
    const lines = liveLines(this.#model, this.#paint).map((line) => fit(line, width));
    const up = this.#drawn === 0 ? '' : `\r\u001b[${this.#drawn}A`;
    this.#stream.write(`${up}${lines.map((line) => `\u001b[2K${line}\n`).join('')}\u001b[J`);
    this.#drawn = lines.length;
  }
}

function label(event: ProgressEvent): string {
  const id = event.stepId ?? '?';
  return event.stepName !== undefined && event.stepName !== id ? `${id} (${event.stepName})` : id;
}

/** The line a plain view prints for an event, or null for none (exported for tests). */
export function plainLine(event: ProgressEvent, model: RunModel | null): string | null {
  const step: StepView | undefined = event.stepId === undefined ? undefined : model?.steps.get(event.stepId);
  const overall = model === null ? '' : ` (overall ${percent(model.overall).trim()})`;
  switch (event.eventType) {
    case ProgressEventType.STEP_STARTED:
      return `-> ${label(event)} started${step !== undefined && step.retries > 0 ? ` (retry ${step.retries})` : ''}`;
    case ProgressEventType.PROGRESS_UPDATE: {
      const pct = step?.percentage ?? 0;
      return `   ${event.stepId ?? '?'} ${bar(pct, 10)} ${percent(pct).trim()}${event.message === undefined ? '' : ` ${event.message}`}`;
    }
    case ProgressEventType.STEP_COMPLETED:
      return `ok ${label(event)} completed in ${seconds(step?.durationSeconds)}${overall}`;
    case ProgressEventType.STEP_FAILED:
      return step?.status === StepStatus.CANCELLED
        ? `xx ${label(event)} ${event.message ?? 'cancelled'}`
        : `!! ${label(event)} failed: ${event.message ?? 'no message'}${overall}`;
    case ProgressEventType.STEP_SKIPPED:
      return `-- ${label(event)} skipped${event.message === undefined ? '' : `: ${event.message}`}`;
    case ProgressEventType.STEP_RECOVERING:
      return `.. ${label(event)} retrying${event.message === undefined ? '' : `: ${event.message}`}`;
    default:
      return null;
  }
}

/** One plain line per event (not a terminal). */
export class PlainView implements RunView {
  readonly #stream: CliStream;
  readonly #now: () => number;
  #model: RunModel | null = null;

  constructor(stream: CliStream, now: () => number = Date.now) {
    this.#stream = stream;
    this.#now = now;
  }

  start(start: RunStart): void {
    this.#model = new RunModel(start, this.#now);
    for (const step of start.steps) {
      if (step.status === StepStatus.COMPLETED || step.status === StepStatus.SKIPPED) {
        this.#stream.write(`== ${step.id} ${step.status} earlier, not run again\n`);
      }
    }
  }

  event(event: ProgressEvent): void {
    this.#model?.apply(event);
    const line = plainLine(event, this.#model);
    if (line !== null) this.#stream.write(`${line}\n`);
  }

  note(text: string): void {
    this.#stream.write(`${text}\n`);
  }

  finish(): void {
    this.#model = null;
  }
}
