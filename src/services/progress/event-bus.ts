/**
 * Delivery of progress events to handlers: in order, isolated from handler
 * failures, with counters for the performance metrics.
 *
 * @module
 * @internal
 */
import { toError } from '../../errors.js';
import type { ProgressEventType } from '../../constants.js';
import type { ProgressEvent, ProgressEventHandler } from './progress-types.js';

/** Optional step fields of an event. */
export type EventFields = { stepId?: string | undefined; stepName?: string | undefined; message?: string | undefined };

interface Registration {
  readonly handler: ProgressEventHandler;
  active: boolean;
}

/**
 * Handler registry plus a dispatch queue. An event emitted from inside a
 * handler (re-entrant tracker call) is queued and delivered after the current
 * one has reached every handler, so all handlers see the same order.
 */
export class ProgressEventBus {
  private readonly registrations = new Set<Registration>();
  /** Snapshot for dispatch, rebuilt only after (un)subscription. */
  private snapshot: readonly Registration[] | null = null;
  private readonly queue: ProgressEvent[] = [];
  private dispatching = false;
  // toISOString dominates an update's cost; bursts of updates share a millisecond.
  private lastStampMs = Number.NaN;
  private lastStamp = '';

  eventsEmitted = 0;
  handlerErrors = 0;
  lastHandlerError: string | null = null;
  readonly eventsByType = new Map<ProgressEventType, number>();

  get handlerCount(): number {
    return this.registrations.size;
  }

  /** Registers `handler` (the same function twice is two registrations); returns its unsubscribe function. */
  add(handler: ProgressEventHandler): () => void {
    const registration: Registration = { handler, active: true };
    this.registrations.add(registration);
    this.snapshot = null;
    return () => {
      if (!registration.active) return;
      registration.active = false;
      this.registrations.delete(registration);
      this.snapshot = null;
    };
  }

  /** Removes every handler. */
  clear(): void {
    for (const registration of this.registrations) registration.active = false;
    this.registrations.clear();
    this.snapshot = null;
  }

  /** Counts an event that nobody listens to, without building it (the per-step path with no handler). */
  countUnheard(eventType: ProgressEventType): void {
    this.eventsEmitted += 1;
    this.eventsByType.set(eventType, (this.eventsByType.get(eventType) ?? 0) + 1);
  }

  /** Builds a frozen event stamped with `nowMs` and delivers it; never throws. */
  publish(nowMs: number, eventType: ProgressEventType, executionId: string, fields: EventFields, data: Record<string, unknown>): void {
    if (nowMs !== this.lastStampMs) {
      this.lastStampMs = nowMs;
      this.lastStamp = new Date(nowMs).toISOString();
    }
    const event: ProgressEvent = { eventType, timestamp: this.lastStamp, executionId, data: Object.freeze(data) };
    if (fields.stepId !== undefined) event.stepId = fields.stepId;
    if (fields.stepName !== undefined) event.stepName = fields.stepName;
    if (fields.message !== undefined) event.message = fields.message;
    // Frozen: one object reaches every handler, so none may alter what the next one sees.
    this.emit(Object.freeze(event));
  }

  /** Delivers `event` to every handler; never throws. */
  emit(event: ProgressEvent): void {
    this.eventsEmitted += 1;
    this.eventsByType.set(event.eventType, (this.eventsByType.get(event.eventType) ?? 0) + 1);
    this.queue.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) this.deliver(next);
    } finally {
      this.dispatching = false;
    }
  }

  private deliver(event: ProgressEvent): void {
    this.snapshot ??= [...this.registrations];
    for (const registration of this.snapshot) {
      // A handler removed by an earlier handler of this same event must not see it.
      if (!registration.active) continue;
      try {
        registration.handler(event);
      } catch (error) {
        this.handlerErrors += 1;
        this.lastHandlerError = toError(error).message;
      }
    }
  }
}
