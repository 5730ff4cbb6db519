/**
 * Hover heuristics: which run of hex values is under the cursor, and what it most likely is,
 * from the words around it and the number of values.
 */
import { strict as assert } from 'node:assert';
import { guessDecodings, hexRunAt } from '../../src/arch/guess';

describe('arch/guess: the hex run under the cursor', () => {
  it('takes the whole run separated by spaces, commas or colons', () => {
    const line = 'ste: 0x1 0x2, 0x3 rest';
    // "0x1" starts at column 5; "0x3" ends at column 17.
    assert.deepEqual(hexRunAt(line, 10), { start: 5, end: 17, words: [1n, 2n, 3n] });
    assert.deepEqual(hexRunAt('0x10:0x20', 1)?.words, [0x10n, 0x20n]);
  });

  it('reads underscores and bare hex with letters or 8+ digits, not small decimal numbers', () => {
    assert.deepEqual(hexRunAt('v = 0x1234_5678', 6)?.words, [0x12345678n]);
    assert.deepEqual(hexRunAt('deadbeef', 0)?.words, [0xdeadbeefn]);
    assert.deepEqual(hexRunAt('40007005', 3)?.words, [0x40007005n]);
    assert.equal(hexRunAt('page 12 of 40', 5), undefined);
  });

  it('ignores parts of words and of dotted names, and columns off any value', () => {
    assert.equal(hexRunAt('abc.def', 1), undefined);
    assert.equal(hexRunAt('x0x10', 2), undefined);
    assert.equal(hexRunAt('0x10 and more', 7), undefined);
  });
});

describe('arch/guess: what the values most likely are', () => {
  const kinds = (words: bigint[], context: string): string[] => guessDecodings({ start: 0, end: 1, words }, context).map((g) => g.kind);

  it('puts the kind a context word names first', () => {
    assert.equal(kinds([0x4000700bn], 'the ste of stream 5')[0], 'ste');
    assert.equal(kinds([0x4000700bn], 'cd table')[0], 'cd');
    assert.equal(kinds([0x40001003n], 'l1std 0')[0], 'l1std');
    assert.equal(kinds([0x2046n, 0n], 'cmdq: ')[0], 'cmd');
    assert.equal(kinds([0x10n, 0n, 0n, 0n], 'evtq record')[0], 'event');
    assert.equal(kinds([0x40123f47n], 'iopte at level 3')[0], 'pte');
  });

  it('splits identifiers at underscores: ste_words and arm_smmu_cmdq_issue name their kind', () => {
    assert.equal(kinds([0x4000700bn, 0n], 'u64 ste_words[] = {')[0], 'ste');
    assert.equal(kinds([0x2046n, 0n], 'arm_smmu_cmdq_issue_cmdlist')[0], 'cmd');
  });

  it('reads a register name before a single value as that register', () => {
    const g = guessDecodings({ start: 0, end: 1, words: [0x10210n] }, 'STRTAB_BASE_CFG = 0x10210');
    assert.equal(g[0].kind, 'reg');
    assert.equal(g[0].opts.register, 'STRTAB_BASE_CFG');
    assert.equal(g[0].why, 'register name STRTAB_BASE_CFG');
  });

  it('without context words, goes by the count of values', () => {
    assert.deepEqual(kinds(Array(8).fill(0n), 'dump:'), ['ste', 'cd']);
    assert.deepEqual(kinds(Array(4).fill(0n), 'dump:'), ['event']);
    assert.deepEqual(kinds([0x2046n, 0n], 'dump:'), ['cmd', 'pri']);
    assert.deepEqual(kinds([0x40123f47n], 'dump:'), ['pte', 'ste', 'cmd']);
    // Three values fit no structure by count.
    assert.deepEqual(kinds([1n, 2n, 3n], 'dump:'), []);
  });

  it('says why, and never offers a kind twice', () => {
    const g = guessDecodings({ start: 0, end: 1, words: [0x4000700bn] }, 'ste');
    assert.equal(g[0].why, 'the word "ste"');
    assert.equal(new Set(g.map((x) => `${x.kind}:${x.opts.register ?? ''}`)).size, g.length);
    // Never more values than the structure has: nine values are not an STE.
    assert.ok(!guessDecodings({ start: 0, end: 1, words: Array(9).fill(0n) }, 'ste').some((x) => x.kind === 'ste'));
  });
});
