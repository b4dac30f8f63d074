/**
 * The shared store contract (test/stores/contract.ts) against the PostgreSQL
 * store: a fresh schema per test, and a reopen that is a new store (a new
 * pool) on the same schema. The suite drives the `sync` face, which the
 * bridge provides over a real PostgreSQL store in a worker thread.
 */
import { describeStore } from '../stores/contract.js';
import { describePg, PG_URL, uniqueSchema } from './helpers.js';
import { bridgedPostgresStore } from './sync-bridge.js';

const schemaOf = new Map<string, string>();

describePg('postgres store', () => {
  describeStore(
    'postgres',
    (dir) => {
      const schema = uniqueSchema('contract');
      schemaOf.set(dir, schema);
      return bridgedPostgresStore(PG_URL, schema);
    },
    { reopen: (dir) => bridgedPostgresStore(PG_URL, schemaOf.get(dir) ?? '') },
  );
});
