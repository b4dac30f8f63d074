/**
 * The store contract (test/stores/contract.ts) against every embedded store.
 */
import { join } from 'node:path';
import { PersistenceFormat } from '../../src/constants.js';
import { createFileStore, createMemoryStore, createSqliteStore } from '../../src/stores/index.js';
import { describeStore } from './contract.js';

describeStore('memory', () => createMemoryStore());

describeStore('file (json)', (dir) => createFileStore({ stateDir: join(dir, 'state') }), {
  reopen: (dir) => createFileStore({ stateDir: join(dir, 'state') }),
});

describeStore('file (gzip)', (dir) => createFileStore({ stateDir: dir, format: PersistenceFormat.COMPRESSED_JSON }), {
  reopen: (dir) => createFileStore({ stateDir: dir, format: PersistenceFormat.COMPRESSED_JSON }),
});

describeStore('sqlite (file)', (dir) => createSqliteStore({ filename: join(dir, 'nested', 'state.db') }), {
  reopen: (dir) => createSqliteStore({ filename: join(dir, 'nested', 'state.db') }),
});

describeStore('sqlite (:memory:)', () => createSqliteStore({ filename: ':memory:' }));
