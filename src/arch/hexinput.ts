/**
 * Words typed or pasted by users: `0x000000004800f00b 0xd6`, `4800f00b d6`,
 * `0x0000_0000_4800_f00b`, or one long dump `000000004800f00b00000000000000d6` (word 0
 * first, each word most significant digit first, as the kernel prints qwords).
 * Every value is hexadecimal, with or without `0x`; `_` and `'` separate digit groups.
 */

export class HexInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HexInputError';
  }
}

const TOKEN = /^(?:0x)?([0-9a-f][0-9a-f_']*)$/i;

/**
 * Parse tokens into words of `wordBits` bits. `maxWords` bounds the count (a structure's
 * size); `what` names the structure in messages ("STE (8 qwords)").
 */
export function parseHexWords(tokens: readonly string[], wordBits: 32 | 64, maxWords: number, what: string): bigint[] {
  const digitsPerWord = wordBits / 4;
  const parts = tokens.flatMap((t) => t.split(/[\s,;]+/)).filter((t) => t.length > 0);
  if (parts.length === 0) {
    throw new HexInputError(`no words given; expected up to ${maxWords} hex values for ${what}`);
  }
  const words: bigint[] = [];
  parts.forEach((part, i) => {
    const m = TOKEN.exec(part);
    if (!m) {
      const bad = [...part.replace(/^0x/i, '')].find((c) => !/[0-9a-f_']/i.test(c));
      throw new HexInputError(`value ${i + 1} '${part}' is not hexadecimal` +
        (bad ? ` (unexpected '${bad}')` : '') + `; expected digits 0-9 a-f, optionally after 0x`);
    }
    const raw = m[1].replace(/[_']/g, '');
    if (raw.length > digitsPerWord && raw.length % digitsPerWord === 0) {
      // A dump: whole words, word 0 first, leading zeros significant.
      for (let at = 0; at < raw.length; at += digitsPerWord) words.push(BigInt('0x' + raw.slice(at, at + digitsPerWord)));
      return;
    }
    const value = BigInt('0x' + raw);
    if (value >> BigInt(wordBits) !== 0n) {
      throw new HexInputError(`value ${i + 1} has ${raw.length} hex digits: too many for one ${wordBits}-bit word ` +
        `and not a whole number of ${digitsPerWord}-digit words; give each word separately or pad the dump`);
    }
    words.push(value);
  });
  if (words.length > maxWords) {
    throw new HexInputError(`${what} has ${maxWords} word${maxWords === 1 ? '' : 's'}; got ${words.length}`);
  }
  return words;
}
