/** The hex hover's Markdown (src/extension/hoverText.ts). */
import { strict as assert } from 'node:assert';
import { decodeHover } from '../../src/extension/hoverText';

describe('extension/hoverText: the hex hover', () => {
  it('decodes the run under the cursor, the likely kind first with its fields', () => {
    const line = '\t0x000000004000700b, 0x0000000000000000,';
    const h = decodeHover(line, 5, 'static const u64 ste_words[] = {\n' + line)!;
    // The run: both values, columns 1 to 39.
    assert.equal(h.start, 1);
    assert.equal(h.end, line.length - 1);
    // 0x4000700b: V=1, Config 0b101 (bits 3:1), S1ContextPtr 0x40007000 (bits 51:6).
    assert.match(h.markdown, /^\*\*Stream Table Entry\*\* — stage-1 translate, stage 2 bypass; 1 CD at 0x40007000 {2}\n_the word "ste"_/);
    assert.match(h.markdown, /```text\n[\s\S]*S1ContextPtr[\s\S]*```/);
  });

  it('lists up to max alternatives after the first, without their fields', () => {
    const h = decodeHover('0x0000000000002046 0x0', 3, 'dump:', 2)!;
    const parts = h.markdown.split('\n\nor ');
    assert.equal(parts.length, 2);
    assert.match(parts[0], /^\*\*[^*]+\*\* — .*CMD_SYNC/);
    assert.doesNotMatch(parts[1], /```/);
  });

  it('is undefined off a value or when nothing decodes', () => {
    assert.equal(decodeHover('no values here', 3, ''), undefined);
    assert.equal(decodeHover('0x1 0x2 0x3', 1, 'dump:'), undefined);
  });
});
