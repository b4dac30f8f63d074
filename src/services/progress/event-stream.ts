/**
 * The async-iterator view of progress events (`tracker.events()`): a push
 * queue that a `for await` loop drains in order.
 *
 * @module
 */
import type { ProgressEvent, ProgressEventFilter } from './progress-types.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Events in arrival order as an `AsyncIterableIterator`. It buffers what the
 * consumer has not read yet (without bound: read it, or `break` / `return()`
 * to let it go). `end()` (the tracker's `shutdown()`) lets the consumer drain
 * the buffer and then finishes; `return()` finishes at once and drops the buffer.
 * Either way the stream's handler is removed from the tracker.
 *
 * @example
 * for await (const event of tracker.events({ executionId: 'run-1' })) {
 *   if (event.eventType === ProgressEventType.EXECUTION_COMPLETED) break;
 * }
 */
export class ProgressEventStream implements AsyncIterableIterator<ProgressEvent> {
  private buffer: ProgressEvent[] = [];
  private head = 0;
  private readonly waiters: ((result: IteratorResult<ProgressEvent, undefined>) => void)[] = [];
  private ended = false;
  private detach: (() => void) | undefined;

  /**
   * @param filter which events to keep
   * @param subscribe registers the stream's push function; returns the unsubscribe function
   */
  constructor(
    private readonly filter: ProgressEventFilter,
    subscribe?: (push: (event: ProgressEvent) => void) => () => void,
  ) {
    if (subscribe === undefined) this.ended = true;
    else this.detach = subscribe((event) => {
      this.push(event);
    });
  }

  /** Whether the stream has finished receiving events. */
  get closed(): boolean {
    return this.ended;
  }

  /** Events received and not read yet. */
  get pending(): number {
    return this.buffer.length - this.head;
  }

  private push(event: ProgressEvent): void {
    if (this.ended) return;
    if (this.filter.executionId !== undefined && event.executionId !== this.filter.executionId) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter({ done: false, value: event });
    else this.buffer.push(event);
  }

  /** Stops receiving; buffered events can still be read, then the iterator is done. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.detach?.();
    this.detach = undefined;
    // Waiters exist only when the buffer is empty, so they are all done now.
    for (const waiter of this.waiters.splice(0)) waiter(DONE);
  }

  next(): Promise<IteratorResult<ProgressEvent, undefined>> {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head] as ProgressEvent;
      this.head += 1;
      // Compact now and then so a long-lived stream does not keep read events alive.
      if (this.head >= 1024 && this.head * 2 >= this.buffer.length) {
        this.buffer = this.buffer.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
    });
  }

  /** Finishes the iterator (what `break` in `for await` calls) and drops unread events. */
  return(): Promise<IteratorResult<ProgressEvent, undefined>> {
    this.end();
    this.buffer = [];
    this.head = 0;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
