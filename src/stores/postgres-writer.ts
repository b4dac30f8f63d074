/**
 * The connection of a store's write queue. Checking a connection out of the
 * pool and back for every write costs about as much as a tenth of the
 * write itself (the pool's tick, listeners, its idle timer), and a step
 * writes once: so the queue keeps its connection from one write to the
 * next while they keep coming, and gives it back as soon as the queue is
 * idle (at the event loop's next check phase) or anyone waits for the
 * pool, so that a small pool is never starved by it.
 *
 * @module
 */
import type { Pool, PoolClient } from 'pg';

/** The write queue's connection, held between writes while they keep coming. */
export class WriterConnection {
  readonly #pool: Pool;
  #client: PoolClient | null = null;
  /** Set when the server dropped the held connection: it goes back to the pool as broken (and is discarded). */
  #broken: Error | undefined;
  #releaseScheduled = false;
  readonly #onError = (error: Error): void => {
    // A connection dropped by the server emits 'error' (the pool listens only to idle ones): without a
    // listener that would end the process. The failure reaches the writer through its next query.
    this.#broken = error;
  };

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** The held connection when it is usable, without waiting a turn; otherwise null (then {@link acquire}). */
  held(): PoolClient | null {
    return this.#broken === undefined ? this.#client : null;
  }

  /** The held connection, or a new one from the pool when none is held or it broke. */
  async acquire(): Promise<PoolClient> {
    if (this.#client !== null && this.#broken === undefined) return this.#client;
    this.release();
    const client = await this.#pool.connect();
    client.on('error', this.#onError);
    this.#client = client;
    return client;
  }

  /**
   * After a write: a connection that failed is discarded; otherwise it is
   * kept unless someone waits for the pool.
   */
  done(failure?: Error): void {
    if (failure !== undefined || this.#broken !== undefined || this.#pool.waitingCount > 0) this.release(failure);
  }

  /** Gives the connection back at the next check phase unless `busy()` says a write is under way by then. */
  releaseWhenIdle(busy: () => boolean): void {
    if (this.#client === null || this.#releaseScheduled) return;
    this.#releaseScheduled = true;
    setImmediate(() => {
      this.#releaseScheduled = false;
      if (!busy()) this.release();
    });
  }

  /** Gives the connection back now (discarded when `failure` or a dropped connection says it is broken). */
  release(failure?: Error): void {
    const client = this.#client;
    if (client === null) return;
    const broken = this.#broken ?? failure;
    this.#client = null;
    this.#broken = undefined;
    client.off('error', this.#onError);
    client.release(broken);
  }
}
