/** The source host the engine reads through, built from plain data (what the web extension posts to its worker). */
import { strict as assert } from 'node:assert';
import { hostFromSnapshot, type HostSnapshot } from '../../src/extension/hostSnapshot';
import { DumpError } from '../../src/dump/source';

const snapshot = (more: Partial<HostSnapshot> = {}): HostSnapshot => ({
  program: '/w/top.smmu',
  texts: new Map([['/w/top.smmu', 'smmu init\n'], ['/w/lib.smmu', '# lib\n']]),
  policy: { trusted: false, allowOutside: true, workspaceFolders: ['file:///w'] },
  ...more,
});

describe('extension: host snapshots', () => {
  it('reads the texts it was given and nothing else', () => {
    const host = hostFromSnapshot(snapshot());
    assert.equal(host.read('/w/lib.smmu'), '# lib\n');
    assert.equal(host.read('/w/other.smmu'), undefined);
    assert.equal(host.resolve('/w/top.smmu', 'lib.smmu'), '/w/lib.smmu');
  });

  it('holds to the file policy it was given (untrusted: the setting does not lift it)', () => {
    const host = hostFromSnapshot(snapshot());
    assert.equal(host.allowed?.('/w/lib.smmu'), undefined);
    assert.match(host.allowed?.('/etc/passwd') ?? '', /not trusted/);
  });

  it('reads dumps from the snapshot when the host has no reader of its own, and says why one was refused', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const host = hostFromSnapshot(snapshot({ dumps: new Map([['/w/mem.bin', { bytes }], ['/w/big.bin', { refused: 'it is too large' }]]) }));
    assert.equal(host.readBinary?.('/w/mem.bin')?.size, 4);
    assert.equal(host.readBinary?.('/w/none.bin'), undefined);
    assert.throws(() => host.readBinary?.('/w/big.bin'), (e: unknown) => e instanceof DumpError && /too large/.test(e.message));
  });

  it('prefers the host\'s own reader, and checks only when asked', () => {
    const own = (): undefined => undefined;
    const host = hostFromSnapshot(snapshot({ checkOnly: true, dumps: new Map() }), own);
    assert.equal(host.readBinary, own);
    assert.equal(host.checkOnly, true);
    assert.equal(hostFromSnapshot(snapshot()).checkOnly, false);
    assert.equal(hostFromSnapshot(snapshot()).readBinary, undefined);
  });
});
