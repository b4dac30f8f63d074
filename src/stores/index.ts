/**
 * Durable stores: where executions persist (summary, journal, checkpoints).
 * Memory, file and SQLite stores share one contract and have the `sync` face.
 *
 * @module
 */
export { createMemoryStore } from './memory-store.js';
export { createFileStore, type FileStoreOptions } from './file-store.js';
export { createSqliteStore, type SqliteCheckpointStore, type SqlitePragmas, type SqliteStoreOptions } from './sqlite-store.js';
export { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, type SqliteMigration } from './sqlite-migrations.js';
export type { EmbeddedCheckpointStore } from './store-face.js';
export type {
  CheckpointStore,
  CheckpointSummary,
  DurabilityMode,
  ExecutionFilter,
  ExecutionSummary,
  JournalEntry,
  StoreBatch,
  StoredCheckpoint,
  StoredExecution,
  StoredJournalEntry,
  SyncStoreApi,
} from './types.js';
