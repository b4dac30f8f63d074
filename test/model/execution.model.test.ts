/**
 * Model-based tests of the execution machine with its step children: paths
 * generated from the pure machines, driven through a real execution actor
 * whose step actors run on a scripted runtime; and every explored edge of
 * the machines checked against the SPEC oracle.
 */
import { describe, expect, it } from 'vitest';
import { driveExecutionPath } from './execution-driver.js';
import { EXECUTION_MODELS, createExecutionModel } from './execution-model.js';
import { expectExecutionEdgesFollowSpec } from './oracle-checks.js';
import { describePath, generatePaths } from './paths.js';

for (const config of EXECUTION_MODELS) {
  const model = createExecutionModel(config);
  const generated = generatePaths(model, { skipSimple: !config.simple });

  describe(config.name, () => {
    it('has paths of the expected kinds', () => {
      expect(generated.found.shortest).toBeGreaterThan(1);
      if (config.simple) expect(generated.found.simple).toBeGreaterThan(1);
    });

    it('the machines follow SPEC on every explored edge', () => {
      expectExecutionEdgesFollowSpec(generated.edgeList);
    });

    it.each(generated.paths.map((path) => ({ path, name: describePath(path) })))('$name', async ({ path }) => {
      await driveExecutionPath(path, model.serialize);
    });
  });
}
