/**
 * File store specifics: the layout on disk, ids that are not file names,
 * files it did not write, the summary cache, and a second writer.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PersistenceFormat } from '../../src/constants.js';
import { createFileStore, type CheckpointStore, type SyncStoreApi } from '../../src/stores/index.js';
import { ErrorCode, finished, iso, makeCheckpoint, started, summary, syncOf, tempDir, thrownBy } from './fixtures.js';

let dir: string;
let remove: () => void;
const stores: CheckpointStore[] = [];

function open(format: PersistenceFormat = PersistenceFormat.JSON): SyncStoreApi {
  const store = createFileStore({ stateDir: dir, format });
  stores.push(store);
  return syncOf(store);
}

beforeEach(() => {
  ({ dir, remove } = tempDir('file-store-'));
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  remove();
});

describe('layout', () => {
  it('keeps one directory per execution: journal, summary and one file per checkpoint', () => {
    const sync = open();
    const checkpoint = makeCheckpoint('run-1');
    sync.write([{ executionId: 'run-1', summary: summary('run-1'), journal: [started('s1')], checkpoints: [checkpoint] }]);
    expect(readdirSync(join(dir, 'run-1')).sort()).toEqual(['checkpoints', 'journal.jsonl', 'summary.json']);
    const [file] = readdirSync(join(dir, 'run-1', 'checkpoints'));
    expect(file).toMatch(new RegExp(`^cp-${checkpoint.id}-[\\w-]{10}\\.json$`));
    expect(JSON.parse(readFileSync(join(dir, 'run-1', 'checkpoints', file ?? ''), 'utf8'))).toEqual(checkpoint);
    const lines = readFileSync(join(dir, 'run-1', 'journal.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ v: 1, seq: 1, entries: [started('s1')], checkpoints: [{ id: checkpoint.id, file }] });
  });

  it('writes gzip checkpoints when compressed, and reads either format whatever it writes', () => {
    const gz = open(PersistenceFormat.COMPRESSED_JSON);
    const zipped = makeCheckpoint('e1', 'zipped');
    gz.write([{ executionId: 'e1', summary: summary('e1'), checkpoints: [zipped] }]);
    const [file] = readdirSync(join(dir, 'e1', 'checkpoints'));
    expect(JSON.parse(gunzipSync(readFileSync(join(dir, 'e1', 'checkpoints', file ?? ''))).toString('utf8'))).toEqual(zipped);
    const plain = open(PersistenceFormat.JSON);
    const second = makeCheckpoint('e1', 'plain');
    plain.write([{ executionId: 'e1', checkpoints: [second] }]);
    expect(plain.loadExecution('e1')?.checkpoints.map((c) => c.checkpoint)).toEqual([zipped, second]);
  });

  it('maps any id to a directory inside stateDir and lists it back', () => {
    const sync = open();
    const ids = ['..', '.', '../escape', 'a/b\\c', 'émoji 🚀', '.hidden', "it's (ok)*", 'x%41'];
    sync.write(ids.map((id) => ({ executionId: id, summary: summary(id), journal: [started('s')] })));
    expect(existsSync(join(dir, '..', 'escape'))).toBe(false);
    for (const name of readdirSync(dir)) expect(name).not.toMatch(/^\.|[/\\*'()!]/);
    expect(sync.listExecutions().map((s) => s.executionId).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(sync.loadExecution(id)?.journal).toHaveLength(1);
  });
});

describe('files it did not write', () => {
  it('ignores foreign files and directories when listing, and never touches them', () => {
    const sync = open();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    mkdirSync(join(dir, 'bad%zz'));
    mkdirSync(join(dir, 'empty-dir'));
    sync.write([{ executionId: 'e1', summary: summary('e1') }]);
    expect(sync.listExecutions().map((s) => s.executionId)).toEqual(['e1']);
    expect(sync.loadExecution('empty-dir')).toBeNull();
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(dir, 'bad%zz'))).toBe(true);
  });

  it('prunes only the checkpoint files its journal names', () => {
    const sync = open();
    const [c1, c2, c3] = [1, 2, 3].map((n) => makeCheckpoint('e1', `cp${n}`));
    sync.write([{ executionId: 'e1', summary: summary('e1'), checkpoints: [c1!] }]);
    writeFileSync(join(dir, 'e1', 'checkpoints', 'cp-foreign.json'), '{}');
    writeFileSync(join(dir, 'e1', 'checkpoints', 'keep-me.txt'), 'x');
    sync.write([{ executionId: 'e1', checkpoints: [c2!, c3!], keepCheckpoints: 1 }]);
    const files = readdirSync(join(dir, 'e1', 'checkpoints')).sort();
    expect(files).toHaveLength(3);
    expect(files).toContain('cp-foreign.json');
    expect(files).toContain('keep-me.txt');
    expect(files.some((f) => f.startsWith(`cp-${c3!.id}-`))).toBe(true);
    expect(sync.listCheckpoints('e1').map((c) => c.id)).toEqual([c3!.id]);
  });
});

describe('the summary cache', () => {
  it('trusts the journal over a stale or unreadable summary.json', () => {
    const sync = open();
    sync.write([{ executionId: 'e1', summary: summary('e1', { updatedAt: iso(1) }) }]);
    const stale = readFileSync(join(dir, 'e1', 'summary.json'), 'utf8');
    const done = summary('e1', { status: 'completed', updatedAt: iso(9) });
    sync.write([{ executionId: 'e1', summary: done, journal: [finished('s1')] }]);
    writeFileSync(join(dir, 'e1', 'summary.json'), stale);
    expect(open().listExecutions()).toEqual([done]);
    writeFileSync(join(dir, 'e1', 'summary.json'), '{"v":1,"journ');
    expect(open().listExecutions({ status: 'completed' })).toEqual([done]);
  });
});

describe('two writers one after the other', () => {
  it('numbers on from what the other store instance appended', () => {
    const first = open();
    const second = open();
    first.write([{ executionId: 'e1', summary: summary('e1'), journal: [started('s1')] }]);
    second.write([{ executionId: 'e1', journal: [finished('s1')] }]);
    first.write([{ executionId: 'e1', journal: [started('s2')] }]);
    expect(second.loadExecution('e1')?.journal.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(first.listCheckpoints('e1')).toEqual([]);
  });

  it('refuses bad options with INVALID_INPUT', () => {
    expect(thrownBy(() => createFileStore({ stateDir: '' }))).toMatchObject({ code: ErrorCode.InvalidInput, details: { field: 'stateDir' } });
    expect(thrownBy(() => createFileStore({ stateDir: dir, format: 'xml' as never }))).toMatchObject({ details: { field: 'format' } });
  });
});
