/**
 * A list of event handlers where a throwing handler cannot break the write
 * that fired it, and unsubscribing during an emit is safe.
 *
 * @module
 */

/** Called with what a handler threw and the event it was handling. */
export type HandlerErrorReporter<E> = (error: unknown, event: E) => void;

/** Copy-on-write handler list: emits iterate a snapshot without allocating. */
export class HandlerList<E> {
  private handlers: readonly ((event: E) => void)[] = [];

  constructor(private readonly report: HandlerErrorReporter<E>) {}

  /** True when at least one handler listens (lets writers skip building events). */
  get active(): boolean {
    return this.handlers.length > 0;
  }

  /** Adds `handler`; the returned function removes this registration (idempotent). */
  add(handler: (event: E) => void): () => void {
    // Wrap so that registering the same function twice gives two independent registrations.
    const registration = (event: E): void => {
      handler(event);
    };
    this.handlers = [...this.handlers, registration];
    return () => {
      this.handlers = this.handlers.filter((h) => h !== registration);
    };
  }

  /** Calls every handler in registration order; errors go to the reporter. */
  emit(event: E): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (error) {
        try {
          this.report(error, event);
        } catch {
          // A failing reporter must not break the write either.
        }
      }
    }
  }
}
