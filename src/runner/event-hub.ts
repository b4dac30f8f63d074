/**
 * The run handle's event fan-out: `on(type, handler)` subscribers and async
 * iterators, fed from the manager's progress tracker once it exists and
 * closed when the run ends.
 *
 * @module
 */
import type { ProgressEventType } from '../constants.js';
import type { ProgressEvent } from '../services/progress/index.js';
import type { PipelineEventHandler } from './types.js';

interface Subscriber {
  push(event: ProgressEvent): void;
  close(): void;
}

/** Subscribers of one run's progress events. */
export class EventHub {
  readonly #handlers = new Set<{ type: ProgressEventType | '*'; handler: PipelineEventHandler }>();
  readonly #iterators = new Set<Subscriber>();
  #closed = false;

  /** Subscribes to one event type (`'*'` for all); returns the unsubscribe function. */
  on(type: ProgressEventType | '*', handler: PipelineEventHandler): () => void {
    const entry = { type, handler };
    this.#handlers.add(entry);
    return () => {
      this.#handlers.delete(entry);
    };
  }

  /** Delivers one event; a handler that throws never breaks the run. */
  publish(event: ProgressEvent): void {
    for (const { type, handler } of [...this.#handlers]) {
      if (type !== '*' && type !== event.eventType) continue;
      try {
        handler(event);
      } catch {
        // Subscribers are observers: their failures are theirs.
      }
    }
    for (const iterator of this.#iterators) iterator.push(event);
  }

  /** Ends every iterator (after the buffered events) and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const iterator of this.#iterators) iterator.close();
    this.#iterators.clear();
  }

  /** Events from now until the run ends; buffered, so a slow consumer misses nothing. */
  iterate(): AsyncIterableIterator<ProgressEvent> {
    const queue: ProgressEvent[] = [];
    let wake: (() => void) | null = null;
    let ended = this.#closed;
    const subscriber: Subscriber = {
      push: (event) => {
        queue.push(event);
        wake?.();
      },
      close: () => {
        ended = true;
        wake?.();
      },
    };
    if (!ended) this.#iterators.add(subscriber);
    const iterator: AsyncIterableIterator<ProgressEvent> = {
      next: async () => {
        while (queue.length === 0 && !ended) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
        const event = queue.shift();
        return event === undefined ? { done: true, value: undefined } : { done: false, value: event };
      },
      return: () => {
        ended = true;
        queue.length = 0;
        this.#iterators.delete(subscriber);
        wake?.();
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
