/**
 * A real kernel's tables: Debian's Linux 6.1 (6.1.0-56-arm64) booted on QEMU 7.2's
 * `-M virt,iommu=smmuv3` with two virtio-rng devices (00:01.0 and 00:02.0, translated:
 * iommu_platform=on) and the kernel's default DMA domains. The fixture keeps the pages its
 * SMMU tables are in and 64 other pages of its memory (every 211th with data), as
 * test/fixtures/dumps/README.md says. The registers are those QEMU traced the driver writing
 * (smmuv3_write_mmio): STRTAB_BASE 0x4000_0000_4836_e000 (RA, bit 62, and the address),
 * STRTAB_BASE_CFG 0x10210 (2-level, SPLIT 8, LOG2SIZE 16).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { findStreamTables } from '../../src/dump/findStrtab';
import { inspect } from '../../src/dump/inspect';
import { dumpMachine, openDump, openDumpMemory } from '../../src/dump/load';
import { bytesSource } from '../../src/dump/source';
import { compileForSession, Session } from '../../src/debug/session';
import { hasErrors, SourceHost } from '../../src/scenario/compiler';

const CORE = new Uint8Array(gunzipSync(readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'dumps', 'linux-6.1-qemu-virt-tables.core.gz'))));
const TRACED = new Map([['STRTAB_BASE', 0x4000_0000_4836_e000n], ['STRTAB_BASE_CFG', 0x10210n]]);

describe('dump: the tables of a real Linux 6.1 guest', () => {
  it('lists the two translated virtio devices as the kernel set them up', () => {
    const d = openDump({ core: ['guest.core'], registers: TRACED }, (p) => bytesSource(p, CORE));
    const ins = inspect(dumpMachine(d), d.memory);
    // PCI requester IDs as StreamIDs (QEMU's iommu-map is the identity): 00:01.0 = 0x8, 00:02.0 = 0x10.
    const live = ins.streams.filter((s) => s.config !== 'abort');
    assert.deepEqual(live.map((s) => [s.sid, s.config]), [[0x8, 's1'], [0x10, 's1']]);
    // Every other StreamID of the level-2 array (256 of them, SPLIT 8) was given the kernel's abort STE.
    assert.equal(ins.streams.filter((s) => s.config === 'abort').length, 254);
    for (const s of live) {
      const cd = s.cds?.[0];
      assert.ok(cd, `StreamID ${s.sid}: CD 0`);
      // One stage-1 DMA domain each, ASIDs given out from 1: the virtqueue page the driver mapped,
      // and the MSI doorbell (QEMU virt's GICv2m frame at 0x802_0000) the DMA layer maps at the
      // top page of the 32-bit IOVA space, as Device memory.
      assert.deepEqual(cd.ranges.map((r) => r.name), ['TTB0']);
      const maps = cd.ranges[0].mappings.map((m) => ({ iova: m.iova, pa: m.pa, size: m.size }));
      assert.equal(maps.length, 2);
      assert.deepEqual(maps[1], { iova: 0xffff_f000n, pa: 0x802_0000, size: 0x1000 });
      assert.equal(maps[0].iova, 0xffff_e000n);
    }
  });

  it('--find-strtab finds that table alone among the kernel\'s memory, and its registers list the same', () => {
    const s = findStreamTables(openDumpMemory({ core: ['guest.core'] }, (p) => bytesSource(p, CORE)).memory);
    assert.deepEqual(s.candidates.map((c) => ({ base: c.base, format: c.format, split: c.split, valid: c.validStes, live: c.notAborting })),
      [{ base: 0x4836_e000, format: '2-level', split: 8, valid: 256, live: [0x8, 0x10] }]);
    const list = (regs: Map<string, bigint>) => {
      const d = openDump({ core: ['guest.core'], registers: regs }, (p) => bytesSource(p, CORE));
      return inspect(dumpMachine(d), d.memory).streams.map((x) => ({ sid: x.sid, words: x.words, cds: x.cds?.map((c) => c.ranges.map((r) => r.mappings.length)) }));
    };
    const c = s.candidates[0];
    assert.deepEqual(list(new Map([['STRTAB_BASE', BigInt(c.base)], ['STRTAB_BASE_CFG', BigInt(c.cfg)]])), list(TRACED));
  });

  it('is taken over by `smmu adopt`: a new stream attached hitlessly beside the kernel\'s, which keep translating', () => {
    const text = [
      // The registers QEMU traced: CR0 0xd (SMMUEN | EVENTQEN | CMDQEN), CR1 0xd75, CR2 0x6, the queues with RA/WA.
      'load core="guest.core" strtab_base=0x4000_0000_4836_e000 strtab_base_cfg=0x10210 cr0=0xd cr1=0xd75 cr2=0x6 cmdq_base=0x4000_0000_4bb0_0010 eventq_base=0x4000_0000_4bc0_000f',
      // The MSI doorbell of 00:01.0: IOVA 0xffff_f000 + 0x40 → the GICv2m frame's MSI_SETSPI_NS at 0x802_0040.
      'expect dma 8 write 0xffff_f040 -> 0x802_0040',
      'smmu adopt',
      'domain d1 stage=1',
      'attach 0x18 s1 d1',
      'map d1 0x1000_0000 -> 0x4800_0000 size=4K',
      'expect dma 0x18 read 0x1000_0010 -> 0x4800_0010',
      'expect dma 8 write 0xffff_f040 -> 0x802_0040',
    ].join('\n');
    const host: SourceHost = { read: () => undefined, resolve: (_f, r) => r, readBinary: (p) => (p === 'guest.core' ? bytesSource(p, CORE) : undefined) };
    const p = compileForSession('main.smmu', text, host);
    assert.ok(!hasErrors(p), p.diagnostics.map((d) => d.message).join('\n'));
    const s = new Session(p);
    const r = s.runner.runToEnd();
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.expectations.map((e) => e.ok), [true, true, true]);
    // The new stream's STE and CD went in hitlessly (the kernel's entry writer on the adopted table), and nothing was hazardous.
    assert.deepEqual(r.updates.map((u) => [u.target, u.sid, u.path]), [['cd', 0x18, 'hitless'], ['ste', 0x18, 'hitless']]);
    assert.deepEqual(s.hazards.map((h) => h.rule), []);
  });
});
