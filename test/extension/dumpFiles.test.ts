import { strict as assert } from 'node:assert';
import { openDump } from '../../src/dump/load';
import { DumpError } from '../../src/dump/source';
import { dumpReferences, fetchedReader, WEB_DUMP_LIMIT, webSizeRefusal } from '../../src/extension/dumpFiles';

describe('extension: the dumps a session in VS Code for the Web reads beforehand', () => {
  const program = 'vscode-vfs://github/dev/tests/main.smmu';

  it('finds the launch configuration\'s core and raw files, and every load statement\'s', () => {
    const texts = new Map([
      [program, [
        '# load core="not/a/statement"',
        'load core="dumps/vmcore" strtab_base=0x4000_0000 strtab_base_cfg=0x10210',
        '  load raw="ram0.bin@0x4000_0000, lo@w.bin@0x8000_0000" strtab_base=0x4000_0000 strtab_base_cfg=8',
        'include "lib/part.smmu"',
      ].join('\n')],
      ['vscode-vfs://github/dev/tests/lib/part.smmu', 'load core="..\\\\dumps\\\\\\"odd\\".core" strtab_base=0 strtab_base_cfg=0'],
    ]);
    assert.deepEqual(dumpReferences(program, texts, { core: 'vmcore.kdump', raw: ['a.bin@0x1000', 7, 'noat.bin'] }), [
      { from: program, path: 'vmcore.kdump', byScenario: false },
      { from: program, path: 'a.bin', byScenario: false },
      { from: program, path: 'noat.bin', byScenario: false },
      { from: program, path: 'dumps/vmcore', byScenario: true },
      { from: program, path: 'ram0.bin', byScenario: true },
      // The last @ separates the file from its base, as the engine reads a raw spec.
      { from: program, path: 'lo@w.bin', byScenario: true },
      // Escapes in the quoted string are the engine's: \\ is \, \" is ".
      { from: 'vscode-vfs://github/dev/tests/lib/part.smmu', path: '..\\dumps\\"odd".core', byScenario: true },
    ]);
    // A launch configuration with a dump and no scenario: paths as they are.
    assert.deepEqual(dumpReferences('', new Map(), { core: '/dumps/vmcore', raw: 'x' }), [
      { from: undefined, path: '/dumps/vmcore', byScenario: false },
      { from: undefined, path: 'x', byScenario: false },
    ]);
    assert.deepEqual(dumpReferences(program, new Map(), { core: 3, raw: { not: 'a list' } }), []);
    // The parts of a split dump.
    assert.deepEqual(dumpReferences(program, new Map(), { core: ['p1.kdump', 2, 'p2.kdump'] }).map((r) => r.path), ['p1.kdump', 'p2.kdump']);
  });

  it('serves what was read, and refuses what was too large with the reason, as a DumpError', () => {
    // An ELF header's first bytes only: openDump reads it, and says it is truncated.
    const read = fetchedReader(new Map([
      ['/d/small.core', { bytes: Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]) }],
      ['/d/huge.core', { refused: 'it is too large' }],
    ]));
    assert.equal(read('/d/other'), undefined);
    assert.equal(read('/d/small.core')?.size, 6);
    assert.throws(() => openDump({ core: ['/d/small.core'], registers: new Map() }, (p) => read(p)!), (e: unknown) => e instanceof DumpError && /small\.core is 6 bytes: an ELF header needs 64/.test(e.message));
    assert.throws(() => read('/d/huge.core'), (e: unknown) => e instanceof DumpError && e.message === 'cannot open /d/huge.core: it is too large');
  });

  it('reads dumps up to 512 MiB whole; says how to open a larger one', () => {
    assert.equal(WEB_DUMP_LIMIT, 512 * 1024 * 1024);
    assert.equal(webSizeRefusal(WEB_DUMP_LIMIT), undefined);
    assert.equal(webSizeRefusal(3 * 2 ** 30), 'it is 3072 MiB, and VS Code for the Web reads a dump whole, up to 512 MiB: ' +
      'open it in desktop VS Code or with `smmu-debug inspect`, or make it smaller (makedumpfile -d 31 keeps the SMMU\'s tables)');
  });
});
