/**
 * `--inspect`: a live run watched in the Stately inspector, through
 * `@statelyai/inspect`'s local relay (an optional peer dependency).
 *
 * @module
 */
import { connect, createServer } from 'node:net';
import process from 'node:process';
import type { InspectOption } from '../services/manager/options.js';
import { BadInputError } from './args.js';

/** The relay a run reports to while it is watched. */
export interface LiveInspector {
  /** Passed to the run's actors. */
  inspect: InspectOption;
  /** The page to open in a browser. */
  url: string;
  /** Hands the last events over, then stops the inspector and the relay. */
  stop(): Promise<void>;
}

/** Whether `port` can be listened on (the relay would crash the process on a port in use). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => {
      resolve(false);
    });
    probe.listen(port, () => {
      probe.close(() => {
        resolve(true);
      });
    });
  });
}

/** Resolves once something accepts connections on `port` (polling, at most ~5 s). */
async function untilListening(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new BadInputError(`--inspect: the inspector relay did not start on port ${port}`);
}

/**
 * Starts the relay on `port` and a WebSocket inspector connected to it.
 *
 * @throws BadInputError when @statelyai/inspect is not installed or the port is taken.
 */
export async function startInspector(port: number): Promise<LiveInspector> {
  let modules: [typeof import('@statelyai/inspect'), typeof import('@statelyai/inspect/server')];
  try {
    modules = await Promise.all([import('@statelyai/inspect'), import('@statelyai/inspect/server')]);
  } catch (error) {
    throw new BadInputError('--inspect needs @statelyai/inspect: npm install --save-dev @statelyai/inspect', { cause: error });
  }
  if (!(await portIsFree(port))) {
    throw new BadInputError(`--inspect: port ${port} is in use; pick another with --inspect-port <n>`);
  }
  const [{ createWebSocketInspector }, { createInspectorServer }] = modules;
  const server = createInspectorServer({ port, autoOpen: false });
  // The relay listens asynchronously; an inspector that connects too early
  // is refused and retries only 5 s later, missing a short run entirely.
  await untilListening(port);
  const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}` });
  return {
    inspect: inspector.inspect,
    url: `http://localhost:${port}`,
    stop: async () => {
      // createInspector hands each event to its adapter on a later timer
      // turn (setTimeout 0): stopping at once would drop the run's last
      // events, its end among them.
      await new Promise((resolve) => setTimeout(resolve, 50));
      inspector.stop();
      server.stop();
      // The relay cannot close its viewers' connections (@statelyai/inspect
      // keeps no handle on them), and an open one keeps the process alive:
      // once the run is over, a viewer gets a second to receive the last
      // events, then the command ends with its exit code. Unref'd: with no
      // viewer connected, the process ends at once, as without --inspect.
      setTimeout(() => {
        process.exit(process.exitCode ?? 0);
      }, 1000).unref();
    },
  };
}
