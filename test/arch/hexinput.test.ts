import { strict as assert } from 'node:assert';
import { HexInputError, parseHexWords } from '../../src/arch/hexinput';

describe('arch/hexinput', () => {
  const parse = (tokens: string[], max = 8): bigint[] => parseHexWords(tokens, 64, max, 'STE');

  it('reads separate words with or without 0x and separators', () => {
    assert.deepEqual(parse(['0x000000004800f00b', '0xd6']), [0x4800f00bn, 0xd6n]);
    assert.deepEqual(parse(['4800f00b', 'D6']), [0x4800f00bn, 0xd6n]);
    assert.deepEqual(parse(['0x0000_0000_4800_f00b']), [0x4800f00bn]);
    assert.deepEqual(parse(["0x4800'f00b, 0xd6"]), [0x4800f00bn, 0xd6n]);
  });

  it('splits one long dump into words, word 0 first', () => {
    assert.deepEqual(parse(['000000004800f00b00000000000000d6']), [0x4800f00bn, 0xd6n]);
    // 32-bit registers: 8 digits a word.
    assert.deepEqual(parseHexWords(['0000000100000002'], 32, 2, 'X'), [1n, 2n]);
  });

  it('keeps a long value with leading zeros as one word when it fits and is not a whole dump', () => {
    assert.deepEqual(parse(['0x0000000000000000000001']), [1n]);
    // 32 digits are two words even when the first is zero.
    assert.deepEqual(parse(['00000000000000000000000000000001']), [0n, 1n]);
  });

  it('explains what is wrong', () => {
    assert.throws(() => parse(['0x12g4']), (e: Error) => e instanceof HexInputError && /value 1 '0x12g4' is not hexadecimal \(unexpected 'g'\)/.test(e.message));
    assert.throws(() => parse(['1', 'zz']), /value 2 'zz'/);
    assert.throws(() => parse([]), /no words given; expected up to 8 hex values for STE/);
    assert.throws(() => parse(['1 2 3'], 2), /STE has 2 words; got 3/);
    assert.throws(() => parse(['1'.repeat(20)]), /20 hex digits: too many for one 64-bit word/);
  });
});
