/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: initdb in a temp
 * directory, run as the `postgres` user when we are root (Postgres refuses
 * to run as root), listening on 127.0.0.1 on a free port with trust auth.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/net.js';

const run = promisify(execFile);

/** A running cluster. */
export interface PgCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  connectionString: string;
  port: number;
  dataDir: string;
  /** `pg_ctl restart -m fast`: every connection is dropped, the server comes back on the same port. */
  restart(): Promise<void>;
  /** Stops the server (fast) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /**
   * fsync on: commits are really durable (benchmarks). Off: faster startup and
   * commits, for tests only.
   * @default false
   */
  fsync?: boolean;
}

/** The directory of the PostgreSQL server binaries, or null when none is installed. */
export function findPgBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const bin = join(root, version, 'bin');
      if (existsSync(join(bin, 'pg_ctl')) && existsSync(join(bin, 'initdb'))) return bin;
    }
  }
  try {
    const bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    return existsSync(join(bindir, 'pg_ctl')) ? bindir : null;
  } catch {
    return null;
  }
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** Runs a server binary, as `postgres` when we are root. */
async function pgRun(bin: string, tool: string, args: string[]): Promise<void> {
  const path = join(bin, tool);
  if (isRoot()) await run('runuser', ['-u', 'postgres', '--', path, ...args]);
  else await run(path, args);
}

/**
 * Starts a fresh cluster (about 2 s). Throws when the binaries are missing:
 * callers decide whether that is a skip.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<PgCluster> {
  const bin = findPgBin();
  if (bin === null) throw new Error('PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and pg_config --bindir)');
  const root = mkdtempSync(join(tmpdir(), 'orch-pg-'));
  chmodSync(root, 0o700);
  if (isRoot()) {
    const { uid, gid } = postgresIds();
    chownSync(root, uid, gid);
  }
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  await pgRun(bin, 'initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const settings = [
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${root}'`,
    'max_connections = 300',
    `fsync = ${options.fsync === true ? 'on' : 'off'}`,
    `full_page_writes = ${options.fsync === true ? 'on' : 'off'}`,
    'synchronous_commit = on',
    'shared_buffers = 64MB',
    `log_min_messages = warning`,
  ];
  // Appended to the generated postgresql.conf; the later setting wins. Written as the owner.
  const confPath = join(dataDir, 'postgresql.auto.conf');
  writeFileSync(confPath, `${settings.join('\n')}\n`);
  if (isRoot()) {
    const { uid, gid } = postgresIds();
    chownSync(confPath, uid, gid);
  }
  const start = (): Promise<void> => pgRun(bin, 'pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']);
  await start();
  let stopped = false;
  return {
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    restart: () => pgRun(bin, 'pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-m', 'fast', 'restart']),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pgRun(bin, 'pg_ctl', ['-D', dataDir, '-w', '-t', '60', '-m', 'fast', 'stop']).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
