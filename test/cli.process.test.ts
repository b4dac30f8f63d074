import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort } from './helpers/net.js';
import { ROOT, cli, cliInTerminal, createProject, hasEscapes, stripAnsi, type Project } from './cli.helpers.js';

// The `orchestrator` bin as a person (or a script) runs it: a child process,
// in a pseudo-terminal (util-linux `script`) or piped.

const projects: Project[] = [];
afterEach(() => {
  for (const project of projects.splice(0)) project.cleanup();
});

function project(): Project {
  const created = createProject();
  projects.push(created);
  return created;
}

function ranSteps(p: Project): string[] {
  return readFileSync(p.runLog, 'utf8').split('\n').filter(Boolean).sort();
}

describe('orchestrator run on a terminal', () => {
  it('shows one live line per step with its bar, then the final status table', async () => {
    const p = project();
    const { code, stdout } = await cliInTerminal(['run', 'pipeline.ts', '--execution-id', 'tty-1'], p.dir, { RUN_LOG: p.runLog, WORK_DELAY_MS: '40' }).result;
    const screen = stripAnsi(stdout);
    expect(code).toBe(0);
    // Drawn in place: cursor movements and line erasing.
    expect(stdout).toMatch(new RegExp(String.raw`\u001b\[\d+A`));
    expect(stdout).toContain('\u001b[2K');
    expect(screen).toContain('Running pipeline fixture as execution tty-1');
    expect(screen).toMatch(/running {3}work +\[#+\.*\] +\d+% {2}item \d+\/10/);
    expect(screen).toMatch(/done {6}load +\[#{20}\] 100%/);
    expect(screen).toMatch(/overall +\[[#.]{20}\] +\d+% {2}\d\/4 steps · elapsed \d+\.\d s/);
    const table = screen.slice(screen.indexOf('STEP '));
    expect(table.split('\n').slice(0, 5).map((line) => line.split(/ +/).slice(0, 3).join(' '))).toEqual([
      'STEP STATUS ATTEMPTS',
      'load completed 1',
      'audit completed 1',
      'work completed 1',
      'finish completed 1',
    ]);
    expect(screen).toMatch(/Execution tty-1 completed in \d+\.\d s: 4 completed, 0 failed, 0 skipped \(4 steps\)/);
  });

  it('Ctrl-C cancels cleanly (exit 130) and prints the resume command; `resume` then completes it', async () => {
    const p = project();
    const child = cliInTerminal(['run', 'pipeline.ts', '--execution-id', 'tty-2'], p.dir, { RUN_LOG: p.runLog, HANG: '1' });
    await child.waitFor(/running {3}work +\[#{20}\] 100% {2}item 10\/10/);
    child.write('\u0003');
    const { code, stdout } = await child.result;
    const screen = stripAnsi(stdout);
    expect(code).toBe(130);
    expect(screen).toContain('Cancelling (Ctrl-C again to quit at once)...');
    expect(screen).toMatch(/^work +cancelled +1 +\S+ s +Interrupted \(Ctrl-C\)$/m);
    expect(screen).toMatch(/^finish +pending +0/m);
    expect(screen).toContain('Resume with: orchestrator resume tty-2');
    expect(ranSteps(p)).toEqual(['audit', 'load', 'work']);

    const resumed = await cli(['resume', 'tty-2'], p.dir, { RUN_LOG: p.runLog }).result;
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('Resuming execution tty-2 of pipeline fixture (it was cancelled)');
    expect(resumed.stdout).toContain('== load completed earlier, not run again');
    expect(resumed.stdout).toMatch(/^Execution tty-2 completed/m);
    // load and audit ran once; work ran again; finish ran for the first time.
    expect(ranSteps(p)).toEqual(['audit', 'finish', 'load', 'work', 'work']);
  });
});

describe('orchestrator run, piped', () => {
  it('prints plain lines without escape codes', async () => {
    const p = project();
    const { code, stdout, stderr } = await cli(['run', 'pipeline.ts', '--execution-id', 'plain-1'], p.dir).result;
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(hasEscapes(stdout)).toBe(false);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('Running pipeline fixture as execution plain-1');
    expect(lines).toContain('-> load (Load input) started');
    expect(lines).toContain('   work [#####.....] 50% item 5/10');
    expect(lines.some((line) => /^ok work \(Do the work\) completed in \d+\.\d s \(overall \d+%\)$/.test(line))).toBe(true);
    expect(lines).toContain('STEP    STATUS     ATTEMPTS  DURATION  NOTE');
    expect(lines.some((line) => line.startsWith('Execution plain-1 completed in '))).toBe(true);
  });

  it('--json prints exactly one JSON object', async () => {
    const p = project();
    const { code, stdout } = await cli(['run', 'pipeline.ts', '--execution-id', 'json-1', '--json', '--concurrency', '1'], p.dir).result;
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(stdout)).toEqual({
      executionId: 'json-1',
      status: 'completed',
      steps: [
        { id: 'load', status: 'completed', attempts: 1 },
        { id: 'audit', status: 'completed', attempts: 1 },
        { id: 'work', status: 'completed', attempts: 1 },
        { id: 'finish', status: 'completed', attempts: 1 },
      ],
    });
    const listed = await cli(['list', '--json'], p.dir).result;
    expect(JSON.parse(listed.stdout)).toMatchObject([{ executionId: 'json-1', pipelineId: 'fixture', status: 'completed' }]);
  });

  it('bad arguments, a missing file and a broken file: a clear message and exit 2', async () => {
    const p = project();
    p.write('broken.ts', 'export default definePipeline({ id: "x", steps: [ ');
    const cases: [string[], RegExp][] = [
      [['launch', 'pipeline.ts'], /^orchestrator: Unknown command "launch"\nRun "orchestrator --help" for usage\.\n$/],
      [['run', 'pipeline.ts', '--fast'], /^orchestrator: run: Unknown option '--fast'/],
      [['run', 'missing.ts'], /^orchestrator: Pipeline file not found: missing\.ts\n$/],
      [['run', 'broken.ts'], /^orchestrator: Could not load broken\.ts: Transform failed with 1 error: .*broken\.ts:\d+:\d+: ERROR: Unexpected end of file\n$/],
    ];
    const results = await Promise.all(cases.map(([argv]) => cli(argv, p.dir).result));
    results.forEach((result, index) => {
      const [argv, message] = cases[index] ?? [[], /^$/];
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
    });
  });
});

describe('a .ts pipeline in a CommonJS package', () => {
  it('loads (in a module namespace of its own) and its recovery plans still apply', async () => {
    const p = project();
    mkdirSync(join(p.dir, 'legacy'));
    p.write('legacy/package.json', JSON.stringify({ name: 'legacy' }));
    p.write(
      'legacy/pipeline.ts',
      `import { definePipeline, RecoveryStrategy } from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))};
let calls = 0;
export default definePipeline({ id: 'legacy', steps: [
  { id: 'optional', recovery: { strategy: RecoveryStrategy.SKIP }, run: () => { throw new Error('not today'); } },
  { id: 'flaky', retry: { maxAttempts: 3, initialDelayMs: 1 }, run: () => { calls += 1; if (calls < 3) throw new Error('again'); return calls; } },
] });
`,
    );
    const { code, stdout, stderr } = await cli(['run', 'legacy/pipeline.ts', '--json'], p.dir).result;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      status: 'completed',
      steps: [
        { id: 'optional', status: 'skipped' },
        { id: 'flaky', status: 'completed', attempts: 3 },
      ],
    });
  });
});

describe('npm start\'s pipeline through the CLI', () => {
  it('runs the customer analytics example to completion', async () => {
    const p = project();
    const example = join(ROOT, 'examples', 'pipelines', 'customer-analytics.pipeline.ts');
    const { code, stdout } = await cli(['run', example, '--execution-id', 'customer_analytics_001', '--json'], p.dir, { EXAMPLE_TIME_SCALE: '0' }).result;
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      executionId: 'customer_analytics_001',
      status: 'completed',
      steps: ['load_data', 'process_data', 'aggregate_data', 'save_results'].map((id) => ({ id, status: 'completed', attempts: 1 })),
    });
  });
});

describe('orchestrator run --inspect', () => {
  it('serves the Stately inspector relay while the run lasts: a viewer receives the actors, events and snapshots', async () => {
    const p = project();
    const port = await freePort();
    const child = cli(['run', 'pipeline.ts', '--execution-id', 'inspected-1', '--inspect-port', String(port)], p.dir, {
      RUN_LOG: p.runLog,
      WORK_DELAY_MS: '60',
    });
    await child.waitFor(new RegExp(`Inspector: open http://localhost:${port} `));
    const viewer = new WebSocket(`ws://127.0.0.1:${port}`);
    const relayed: { type: string; event?: { type?: string } }[] = [];
    viewer.on('message', (data: WebSocket.RawData) => {
      relayed.push(JSON.parse((data as Buffer).toString('utf8')) as { type: string; event?: { type?: string } });
    });
    const { code } = await child.result;
    viewer.close();
    expect(code).toBe(0);
    const types = new Set(relayed.map((event) => event.type));
    expect([...types]).toEqual(expect.arrayContaining(['@xstate.actor', '@xstate.event', '@xstate.snapshot']));
    const events = relayed.filter((event) => event.type === '@xstate.event').map((event) => event.event?.type);
    expect(events).toContain('xstate.done.actor.work');
    expect(events).toContain('EXECUTION.COMPLETE');
  });

  it('refuses a port in use with a clear one-line reason (exit 2)', async () => {
    const p = project();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const { code, stderr } = await cli(['run', 'pipeline.ts', '--inspect-port', String(port)], p.dir).result;
      expect(code).toBe(2);
      expect(stderr).toContain(`--inspect: port ${port} is in use`);
    } finally {
      blocker.close();
    }
  });
});
