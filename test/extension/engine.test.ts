/**
 * Headless runs as the extension's Run command gets them: plain data (a worker posts it),
 * on the debugger tests' known scenario with one expectation made to fail.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { runHeadless } from '../../src/extension/engine';
import { example, KNOWN } from '../debug/helpers';

const known = readFileSync(KNOWN.file, 'utf8');
const policy = { trusted: true, allowOutside: true, workspaceFolders: [] };
/** A run of `text` as the file `file`. */
const run = (text: string, file: string = KNOWN.file) => runHeadless({ program: file, texts: new Map([[file, text]]), policy });

describe('extension: headless runs', () => {
  it('reports the expectations, the failed one on its line, and the STE updates', () => {
    // Line 16: StreamID 5's IOVA 0x1000_0000 maps to 0x8_0000_0000, not 0x9_0000_0000.
    const text = known + 'expect dma 5 read 0x1000_0000 -> 0x9_0000_0000\n';
    const r = run(text);
    assert.ok(r.compiled);
    assert.equal(r.expectations, 2);
    assert.deepEqual(r.failed.map((e) => e.range.start.line), [16]);
    assert.deepEqual(r.updates.filter((u) => u.target === 'ste').map((u) => [u.sid, u.range.start.line]), [[5, KNOWN.line.attach5], [6, KNOWN.line.attach6]]);
    assert.deepEqual(r.errors, []);
    // Lines 5 to 16: `platform` and the smmu's description configure the machine, they are not statements run.
    assert.equal(r.statements, 12);
    assert.ok(r.ops > 0);
  });

  it('puts each hazard on its statement\'s line, expected where an `expect hazard` accounts for it', () => {
    // Example 05: the plain store on line 57 may tear (torn_store, torn_update); line 70 expects torn_store.
    const file = example('05-pte-plain-store.smmu');
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines[69], 'expect hazard torn_store');
    const torn = (r: ReturnType<typeof run>) => (r.compiled ? r.hazards.filter((h) => h.rule === 'torn-store').map((h) => [h.range.start.line, h.expected]) : undefined);
    assert.deepEqual(torn(run(lines.join('\n'), file)), [[57, true]]);
    lines[69] = '# (not expected here)';
    assert.deepEqual(torn(run(lines.join('\n'), file)), [[57, false]]);
  });

  it('answers the compiler\'s diagnostics, and no run, when the scenario does not compile', () => {
    const text = known + 'mapp d1 0x2000 -> 0x3000\n';
    const r = run(text);
    assert.equal(r.compiled, false);
    assert.ok(!r.compiled && r.diagnostics.some((d) => d.severity === 'error' && d.range.start.line === 16));
  });

  it('refuses a snapshot without the scenario\'s text, saying which', () => {
    assert.throws(() => runHeadless({ program: KNOWN.file, texts: new Map(), policy }), /no text for .*known\.smmu/);
  });
});
