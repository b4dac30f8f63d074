/**
 * The full crash campaign: at least 200 SIGKILLs of a pipeline process on a
 * SQLite store, each followed by a resume; prints the counts that must be 0.
 *
 * Run: npm run crash:full   (KILLS=500 npm run crash:full for more)
 */
import { runCrashCampaign } from '../test/crash/crash-campaign.js';

const kills = Number(process.env.KILLS ?? 200);
const started = Date.now();
const result = await runCrashCampaign({
  kills,
  steps: 30,
  log: (line) => {
    console.log(line);
  },
});
console.log('');
console.log(`kills delivered:            ${result.kills} over ${result.executions} executions`);
console.log(`completed steps re-run:     ${result.completedStepsRerun}`);
console.log(`outputs lost:               ${result.outputsLost}`);
console.log(`stores failing to open:     ${result.storeOpenFailures}`);
console.log(`integrity_check failures:   ${result.integrityFailures}`);
console.log(`interrupted steps re-run:   ${result.interruptedStepsRerun} (allowed: a step running at the kill runs again)`);
console.log(`took ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exitCode = result.completedStepsRerun + result.outputsLost + result.storeOpenFailures + result.integrityFailures === 0 ? 0 : 1;
