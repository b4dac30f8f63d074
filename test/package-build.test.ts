/**
 * The package as users get it: `npm run build` (tsc, declarations included)
 * succeeds, and the built entry runs a pipeline under plain node, where
 * xstate's production build is loaded.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'package-build-'));
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

describe('the built package', () => {
  it('compiles with declarations and runs an execution from dist under plain node', () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(out, 'dist')], { stdio: 'pipe' });
    expect(existsSync(join(out, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(out, 'dist', 'index.d.ts'))).toBe(true);
    writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
    symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
    const script = `
      import { createComprehensiveExecutionManager, executionMachine, stepMachine } from './dist/index.js';
      const manager = createComprehensiveExecutionManager({ executionId: 'built-1', pipelineId: 'p' });
      manager.startExecution(2);
      await manager.executeStepWithRecovery('a', 'A', () => 1);
      let calls = 0;
      await manager.executeStepWithRecovery('b', 'B', () => { calls += 1; if (calls === 1) throw Object.assign(new Error('ECONNRESET'), { code: 'ECONNRESET' }); return 2; });
      manager.completeExecution(true);
      const status = manager.getExecutionStatus();
      await manager.shutdown();
      console.log(JSON.stringify({ status: status.status, completed: status.metrics.stepsCompleted, calls, machines: [executionMachine.id, stepMachine.id] }));
    `;
    const printed = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: out, encoding: 'utf8' });
    expect(JSON.parse(printed.trim())).toEqual({ status: 'completed', completed: 2, calls: 2, machines: ['execution', 'step'] });
  }, 120_000);
});
