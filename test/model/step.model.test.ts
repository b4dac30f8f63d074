/**
 * Model-based tests of the step machine: paths generated from the pure
 * machine, driven through real step actors on a scripted runtime; and every
 * explored edge of the machine checked against the SPEC oracle.
 */
import { describe, expect, it } from 'vitest';
import { expectStepEdgesFollowSpec, expectStepStartFollowsSpec } from './oracle-checks.js';
import { describePath, generatePaths } from './paths.js';
import { driveStepPath } from './step-driver.js';
import { STEP_MODELS, createStepModel, initialStepTrace } from './step-model.js';

for (const config of STEP_MODELS) {
  const model = createStepModel(config);
  const generated = generatePaths(model, {
    simpleStopWhen: (state) => state.context.attempt >= config.simpleStopAtAttempt,
  });

  describe(config.name, () => {
    it('has shortest and simple paths', () => {
      expect(generated.found.shortest).toBeGreaterThan(1);
      expect(generated.found.simple).toBeGreaterThan(1);
    });

    it('the machine follows SPEC on every explored edge', () => {
      expectStepStartFollowsSpec(config, model.initial, initialStepTrace(config));
      expectStepEdgesFollowSpec(generated.edgeList);
    });

    it.each(generated.paths.map((path) => ({ path, name: describePath(path) })))('$name', async ({ path }) => {
      await driveStepPath(config, path);
    });
  });
}
