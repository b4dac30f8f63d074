import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, parseCommandLine } from '../src/cli/args.js';
import { main } from '../src/cli/main.js';
import { createProject, memoryIo, type Project } from './cli.helpers.js';

const projects: Project[] = [];
afterEach(() => {
  for (const project of projects.splice(0)) project.cleanup();
});

function project(): Project {
  const created = createProject();
  projects.push(created);
  return created;
}

async function runMain(argv: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo(cwd);
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('the command line grammar', () => {
  it('parses each command with its flags', () => {
    expect(parseCommandLine(['run', 'p.ts', '--execution-id', 'x', '--store', 'db.sqlite', '--concurrency', '2', '--json'])).toMatchObject({
      command: 'run',
      args: { file: 'p.ts' },
      executionId: 'x',
      store: 'db.sqlite',
      concurrency: 2,
      json: true,
    });
    expect(parseCommandLine(['resume', 'x', '--file', 'p.ts'])).toMatchObject({ command: 'resume', args: { executionId: 'x' }, file: 'p.ts' });
    expect(parseCommandLine(['restore', 'x', 'cp1'])).toMatchObject({ args: { executionId: 'x', checkpointId: 'cp1' } });
    // An id that starts with '-' (ours never do) goes after '--'.
    expect(parseCommandLine(['restore', 'x', '--', '-9abc'])).toMatchObject({ args: { executionId: 'x', checkpointId: '-9abc' } });
    expect(parseCommandLine(['list', '--status', 'cancelled'])).toMatchObject({ command: 'list', status: 'cancelled' });
    // The last of a repeated flag wins (`npm start -- --execution-id other`).
    expect(parseCommandLine(['run', 'p.ts', '--execution-id', 'a', '--execution-id', 'b'])).toMatchObject({ executionId: 'b' });
    expect(parseCommandLine(['run', 'p.ts'])).toMatchObject({ inspectPort: undefined });
    expect(parseCommandLine(['run', 'p.ts', '--inspect'])).toMatchObject({ inspectPort: 8080 });
    expect(parseCommandLine(['resume', 'x', '--inspect-port', '9001'])).toMatchObject({ inspectPort: 9001 });
    expect(parseCommandLine(['--help'])).toBe('help');
    expect(parseCommandLine(['status', 'x', '-h'])).toBe('help');
  });

  it.each([
    [['bogus'], 'Unknown command "bogus"'],
    [['run'], 'run: missing <file>'],
    [['run', 'a.ts', 'b.ts'], 'run: unexpected argument "b.ts"'],
    [['run', 'a.ts', '--nope'], "Unknown option '--nope'"],
    [['run', 'a.ts', '--concurrency', '0'], '--concurrency expects a whole number >= 1, got "0"'],
    [['run', 'a.ts', '--concurrency', 'lots'], '--concurrency expects a whole number >= 1, got "lots"'],
    [['list', '--status', 'sleeping'], '--status expects one of pending, running, paused, completed, failed, cancelled, got "sleeping"'],
    [['restore', 'x'], 'restore: missing <checkpointId>'],
    [['run', 'a.ts', '--inspect-port', '70000'], '--inspect-port expects a port number (1-65535), got "70000"'],
    [['status', 'x', '--inspect'], "Unknown option '--inspect'"],
    [['worker', '--store', 'postgres://db/x'], 'worker: missing <file...>'],
  ])('%j is bad input: exit 2 and a one-line reason', async (argv, message) => {
    const { code, out, err } = await runMain(argv, project().dir);
    expect(code).toBe(ExitCode.BadInput);
    expect(out).toBe('');
    expect(err).toContain(message);
    expect(err).toContain('Run "orchestrator --help" for usage.');
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('prints the usage for --help (exit 0) and without arguments (stderr, exit 2)', async () => {
    const help = await runMain(['--help'], project().dir);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: orchestrator <command> [options]');
    expect(help.out).toContain('Exit codes: 0 completed, 1 failed, 2 bad input, 130 cancelled.');
    const bare = await runMain([], project().dir);
    expect(bare.code).toBe(2);
    expect(bare.err).toContain('Usage: orchestrator');
  });
});

describe('pipeline files', () => {
  it('a missing file', async () => {
    const { code, err } = await runMain(['run', 'nowhere.ts'], project().dir);
    expect(code).toBe(2);
    expect(err).toBe('orchestrator: Pipeline file not found: nowhere.ts\n');
  });

  it('a file that does not compile', async () => {
    const p = project();
    p.write('broken.ts', 'export default definePipeline({ id: "x", steps: [ ');
    const { code, err } = await runMain(['run', 'broken.ts'], p.dir);
    expect(code).toBe(2);
    // In process the test runner's compiler reports it; the bin's tsx is checked in cli.process.test.ts.
    expect(err).toMatch(/^orchestrator: Could not load broken\.ts: Transform failed with 1 error: [^\n]+\n$/);
    expect(err).not.toContain('\u001b');
  });

  it('a file without a pipeline as its default export', async () => {
    const p = project();
    p.write('nothing.ts', 'export const answer = 42;\n');
    const { code, err } = await runMain(['run', 'nothing.ts'], p.dir);
    expect(code).toBe(2);
    expect(err).toContain('nothing.ts has no pipeline as its default export');
  });

  it('a pipeline that definePipeline refuses names the culprit', async () => {
    const p = project();
    p.write(
      'cycle.ts',
      `import { definePipeline } from '${new URL('../src/index.ts', import.meta.url).pathname}';
export default definePipeline({ id: 'c', steps: [
  { id: 'a', dependsOn: ['b'], run: () => 1 },
  { id: 'b', dependsOn: ['a'], run: () => 2 },
] });
`,
    );
    const { code, err } = await runMain(['run', 'cycle.ts'], p.dir);
    expect(code).toBe(2);
    expect(err).toContain('definePipeline "c": dependency cycle a -> b -> a');
  });
});

describe('commands in process', () => {
  it('run --json prints one JSON object; status, list and checkpoints read it back', async () => {
    const p = project();
    const run = await runMain(['run', 'pipeline.ts', '--execution-id', 'job-1', '--json'], p.dir);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual({
      executionId: 'job-1',
      status: 'completed',
      steps: [
        { id: 'load', status: 'completed', attempts: 1 },
        { id: 'audit', status: 'completed', attempts: 1 },
        { id: 'work', status: 'completed', attempts: 1 },
        { id: 'finish', status: 'completed', attempts: 1 },
      ],
    });

    const status = await runMain(['status', 'job-1', '--json'], p.dir);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ executionId: 'job-1', pipelineId: 'fixture', status: 'completed' });

    const list = await runMain(['list', '--json'], p.dir);
    expect(JSON.parse(list.out)).toMatchObject([{ executionId: 'job-1', status: 'completed', metadata: { modulePath: p.pipeline } }]);
    expect((await runMain(['list', '--status', 'failed', '--json'], p.dir)).out).toBe('[]\n');

    const checkpoints = await runMain(['checkpoints', 'job-1', '--json'], p.dir);
    const parsed = JSON.parse(checkpoints.out) as { description: string }[];
    expect(parsed.map((checkpoint) => checkpoint.description)).toEqual(['execution_started', 'execution_completed']);

    const text = await runMain(['status', 'job-1'], p.dir);
    expect(text.out).toMatch(/^Status +completed$/m);
    expect(text.out).toMatch(/^work +completed +1 +100%/m);
  });

  it('status of a stored run shows its retries and the time each step took, read back from the store', async () => {
    const p = project();
    p.write(
      'flaky.ts',
      `import { definePipeline } from '${new URL('../src/index.ts', import.meta.url).pathname}';
export default definePipeline({ id: 'flaky', steps: [
  { id: 'wait', run: () => new Promise((resolve) => setTimeout(() => resolve(1), 250)) },
  { id: 'shaky', retry: { maxAttempts: 3, initialDelayMs: 1 }, run: ({ attempt }) => {
    if (attempt < 3) throw Object.assign(new Error('ECONNRESET upstream'), { code: 'ECONNRESET' });
    return 2;
  } },
] });
`,
    );
    expect((await runMain(['run', 'flaky.ts', '--execution-id', 'flaky-1'], p.dir)).code).toBe(0);
    const text = await runMain(['status', 'flaky-1'], p.dir);
    expect(text.out).toMatch(/^Retries +2 \(in 1 step\)$/m);
    expect(text.out).toMatch(/^shaky +completed +3 +100%/m);
    const wait = /^wait +completed +1 +100% +(\d+\.\d) s/m.exec(text.out);
    expect(Number(wait?.[1])).toBeGreaterThanOrEqual(0.2);
  });

  it('restore rolls a stored run back to a checkpoint; status shows the steps to run again, resume runs them', async () => {
    const p = project();
    expect((await runMain(['run', 'pipeline.ts', '--execution-id', 'job-r'], p.dir)).code).toBe(0);
    const checkpoints = JSON.parse((await runMain(['checkpoints', 'job-r', '--json'], p.dir)).out) as { id: string; description: string }[];
    const started = checkpoints.find((checkpoint) => checkpoint.description === 'execution_started');
    const restored = await runMain(['restore', 'job-r', started?.id ?? ''], p.dir);
    expect(restored.code, restored.err).toBe(0);
    expect(restored.out).toContain(`Execution job-r rolled back to checkpoint ${started?.id ?? ''}`);
    expect(restored.out).toContain('Continue it with: orchestrator resume job-r');
    const status = await runMain(['status', 'job-r'], p.dir);
    expect(status.out).toMatch(/^Status +cancelled$/m);
    expect(status.out).toMatch(/^work +cancelled +0 +.*Rolled back to checkpoint "execution_started"$/m);
    const resumed = await runMain(['resume', 'job-r', '--json'], p.dir);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.out)).toMatchObject({ status: 'completed', steps: [{ id: 'load', attempts: 1 }, { id: 'audit' }, { id: 'work' }, { id: 'finish' }] });
    expect((await runMain(['status', 'job-r'], p.dir)).out).toMatch(/^work +completed +1 +100%/m);
  });

  it('run of an execution that already completed says so and exits 0', async () => {
    const p = project();
    await runMain(['run', 'pipeline.ts', '--execution-id', 'job-2'], p.dir);
    const again = await runMain(['run', 'pipeline.ts', '--execution-id', 'job-2'], p.dir);
    expect(again.code).toBe(0);
    expect(again.out).toContain('Execution job-2 already completed; nothing to run');
    expect(again.out).toMatch(/^work +completed +1 +- +done in an earlier run$/m);
  });

  it('unknown ids are bad input', async () => {
    const p = project();
    await runMain(['run', 'pipeline.ts', '--execution-id', 'job-3'], p.dir);
    for (const argv of [['status', 'ghost'], ['checkpoints', 'ghost'], ['resume', 'ghost'], ['restore', 'ghost', 'cp'], ['restore', 'job-3', 'cp']]) {
      const { code, err } = await runMain(argv, p.dir);
      expect(code, argv.join(' ')).toBe(2);
      expect(err).toMatch(/^orchestrator: (No execution "ghost"|Execution "job-3" has no checkpoint "cp")/);
    }
    // Reading commands do not create a store where there is none.
    const empty = project();
    expect(await runMain(['list'], empty.dir)).toEqual({ code: 0, out: 'No executions stored.\n', err: '' });
    expect((await runMain(['status', 'x'], empty.dir)).code).toBe(2);
  });

  it('a failed run exits 1', async () => {
    const p = project();
    p.write(
      'fails.ts',
      `import { definePipeline, FatalError } from '${new URL('../src/index.ts', import.meta.url).pathname}';
export default definePipeline({ id: 'f', steps: [{ id: 'boom', run: () => { throw new FatalError('kaput'); } }] });
`,
    );
    const { code, out } = await runMain(['run', 'fails.ts'], p.dir);
    expect(code).toBe(1);
    expect(out).toMatch(/^boom +failed +1 +\S+ s +kaput$/m);
    expect(out).toMatch(/^Execution f-\w+ failed/m);
  });

  it('Ctrl-C cancels (exit 130, resume hint); resume completes without re-running completed steps', async () => {
    const p = project();
    const io = memoryIo(p.dir);
    process.env.HANG = '1';
    process.env.RUN_LOG = p.runLog;
    try {
      const running = main(['run', 'pipeline.ts', '--execution-id', 'job-4', '--store', 'state/jobs.db'], io);
      for (let i = 0; i < 500 && !io.out().includes('   work [##########] 100% item 10/10'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      io.interrupt();
      expect(await running).toBe(ExitCode.Cancelled);
      expect(io.out()).toContain('Cancelling (Ctrl-C again to quit at once)...');
      expect(io.out()).toContain('Resume with: orchestrator resume job-4 --store "state/jobs.db"');
      expect(io.out()).toMatch(/^work +cancelled +1 +/m);
      process.env.HANG = '0';
      const resumed = await runMain(['resume', 'job-4', '--store', 'state/jobs.db'], p.dir);
      expect(resumed.code).toBe(0);
      expect(resumed.out).toContain('Resuming execution job-4 of pipeline fixture (it was cancelled)');
      expect(readFileSync(p.runLog, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['audit', 'finish', 'load', 'work', 'work']);
    } finally {
      delete process.env.HANG;
      delete process.env.RUN_LOG;
    }
  });
});
