/**
 * A pipeline run that a crash test SIGKILLs at random points. Re-running it
 * with the same arguments resumes the same execution from the SQLite store.
 *
 * argv: <db file> <side log> <execution id> <steps>
 *
 * The side log gets, with an fsync each: `run <step> <attempt> <resumed>` when
 * an executor starts, and `committed <step>` once executeStepWithRecovery has
 * returned (in 'sync' mode the outcome is then committed). A `run` line after
 * a `committed` line of the same step is a completed step run twice.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createComprehensiveExecutionManager } from '../../src/index.js';
import { createSqliteStore } from '../../src/stores/index.js';

const [dbFile, sideLog, executionId, stepsArg] = process.argv.slice(2);
if (dbFile === undefined || sideLog === undefined || executionId === undefined || stepsArg === undefined) {
  throw new Error('usage: crash-worker.ts <db> <side log> <execution id> <steps>');
}
const steps = Number(stepsArg);

function logLine(line: string): void {
  const fd = openSync(sideLog as string, 'a');
  try {
    writeSync(fd, `${line}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Deterministic output, checked after the run (crash-campaign.ts has the same): nothing may be lost or changed. */
function expectedOutput(index: number): { step: number; square: number; text: string } {
  return { step: index, square: index * index, text: `step ${index} `.repeat(1 + (index % 5)) };
}

const store = createSqliteStore({ filename: dbFile });
const manager = createComprehensiveExecutionManager({ executionId, pipelineId: 'crash-test', store });
manager.startExecution(steps);
// The campaign starts its kill timer here, once the process is up and the store open.
process.stdout.write('ready\n');
for (let index = 0; index < steps; index++) {
  const stepId = `step_${String(index).padStart(3, '0')}`;
  const ok = await manager.executeStepWithRecovery(stepId, `Step ${index}`, async ({ attempt, resumed }) => {
    logLine(`run ${stepId} ${attempt} ${resumed}`);
    // Some steps take a while, so kills land inside steps as well as between them.
    if (index % 3 === 0) await sleep(2 + (index % 7));
    manager.variableManager.setVariable(`square_${index}`, index * index);
    return expectedOutput(index);
  });
  if (!ok) throw new Error(`${stepId} failed`);
  logLine(`committed ${stepId}`);
  // Checkpoints every few steps, so kills also land during checkpoint writes.
  if (index % 4 === 3) manager.createCheckpoint(`after ${stepId}`);
}
manager.completeExecution(true);
await manager.shutdown();
await store.close();
logLine('finished');
