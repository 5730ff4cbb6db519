import { strict as assert } from 'node:assert';
import { foldingRanges, scenarioSections } from '../../src/scenario/sections';

describe('scenario sections', () => {
  const text = [
    '# 01 - title',                    // 1
    '# ---- The platform ---------',   // 2
    'platform coherent=no',            // 3
    '',                                // 4
    '// ---- Domain',                  // 5
    'domain d1',                       // 6
    '# region details',                // 7
    'map d1 0 -> 0',                   // 8
    '# endregion',                     // 9
    '',                                // 10
    '#----',                           // 11
    '# --- not a marker: three hyphens', // 12
  ].join('\n');

  it('run from one marker to the line before the next, blank lines at the end left out', () => {
    assert.deepEqual(scenarioSections(text), [
      { title: 'The platform', line: 2, endLine: 3 },
      { title: 'Domain', line: 5, endLine: 9 },
      { title: '', line: 11, endLine: 12 },
    ]);
  });

  it('give folding ranges for sections longer than their marker and for region blocks', () => {
    assert.deepEqual(foldingRanges(text), [{ start: 2, end: 3 }, { start: 5, end: 9 }, { start: 7, end: 9 }, { start: 11, end: 12 }]);
    assert.deepEqual(foldingRanges('# ---- A\n# ---- B\n'), []);
  });
});
