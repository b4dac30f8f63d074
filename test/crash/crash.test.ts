import { describe, expect, it } from 'vitest';
import { runCrashCampaign } from './crash-campaign.js';

// A fast subset of the crash campaign; `npm run crash:full` delivers 200 kills.
describe('kill -9 in the middle of a pipeline on the SQLite store', () => {
  it('resumes without re-running completed steps, losing outputs or damaging the store', async () => {
    const result = await runCrashCampaign({ kills: 8, steps: 24 });
    console.log(`crash subset: ${JSON.stringify(result)}`);
    expect(result.kills).toBe(8);
    expect(result).toMatchObject({ completedStepsRerun: 0, outputsLost: 0, storeOpenFailures: 0, integrityFailures: 0 });
  }, 240_000);
});
