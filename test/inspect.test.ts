/**
 * The README's recipe for watching a live run: @statelyai/inspect's local
 * relay server, a WebSocket inspector passed as `inspect`, and a viewer
 * connected to the relay (here a plain WebSocket client standing in for the
 * browser page, which would load the Stately app from the internet).
 */
import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createComprehensiveExecutionManager } from '../src/index.js';
import { freePort } from './helpers/net.js';

interface RelayedEvent {
  type: string;
  sessionId?: string;
  name?: string;
  event?: { type?: string };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('watching a live run with @statelyai/inspect', () => {
  it('relays the execution actor and every step actor, their events and snapshots, to a connected viewer', async () => {
    const port = await freePort();
    const server = createInspectorServer({ port, autoOpen: false });
    cleanups.push(() => {
      server.stop();
    });
    const viewer = new WebSocket(`ws://127.0.0.1:${port}`);
    cleanups.push(() => {
      viewer.close();
    });
    const relayed: RelayedEvent[] = [];
    viewer.on('message', (data: WebSocket.RawData) => {
      relayed.push(JSON.parse((data as Buffer).toString('utf8')) as RelayedEvent);
    });
    await new Promise<void>((resolve, reject) => {
      viewer.once('open', () => {
        resolve();
      });
      viewer.once('error', reject);
    });

    const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}` });
    cleanups.push(() => {
      inspector.stop();
    });
    const manager = createComprehensiveExecutionManager({ executionId: 'watched-1', pipelineId: 'etl', inspect: inspector.inspect });
    manager.startExecution(2);
    expect(await manager.executeStepWithRecovery('extract', 'Extract', () => ({ rows: 3 }))).toBe(true);
    expect(await manager.executeStepWithRecovery('load', 'Load', () => Promise.resolve('ok'))).toBe(true);
    manager.completeExecution(true);
    await manager.shutdown();

    const actors = (): string[] => relayed.filter((e) => e.type === '@xstate.actor').map((e) => e.name ?? '');
    await until(() => actors().some((name) => name.includes('extract')) && actors().some((name) => name.includes('load')), 'the step actors');
    await until(
      () => relayed.some((e) => e.type === '@xstate.event' && e.event?.type === 'EXECUTION.COMPLETE'),
      'the completing event',
    );
    expect(relayed.some((e) => e.type === '@xstate.snapshot')).toBe(true);
    expect(relayed.filter((e) => e.type === '@xstate.event').map((e) => e.event?.type)).toEqual(
      expect.arrayContaining(['EXECUTION.START', 'STEP.START', 'xstate.done.actor.extract', 'xstate.done.actor.load']),
    );
  });
});
