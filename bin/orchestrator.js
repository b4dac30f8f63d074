#!/usr/bin/env node
// The `orchestrator` command. The package has no build step for users of a
// checkout, so the CLI (and the user's `.ts` pipeline modules) load through tsx.
import process from 'node:process';
import { register, tsImport } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const { processIo } = await import('../src/cli/io.ts');
process.exitCode = await main(process.argv.slice(2), {
  ...processIo(),
  importIsolated: (specifier) => tsImport(specifier, import.meta.url),
});
