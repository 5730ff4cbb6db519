/**
 * A translation is its address and what it grants. A torn or stale page descriptor that
 * keeps the address but changes permissions or memory attributes is judged as another
 * outcome, and the message says what each grants.
 *
 * The page: io-pgtable's read-write cacheable 4K page at PA 0x8_0000_1000 (stage 1):
 *   0x0060_0008_0000_1f47 = UXN|PXN (0x0060 << 48) | PA | 0xf47
 *   0xf47: valid page (bits 1:0 = 3), AttrIndx 1 (bits 4:2), AP[1] = 1 unprivileged access
 *   (bit 6), AP[2] = 0 writable (bit 7), SH 3 (bits 9:8), AF (bit 10), nG (bit 11).
 * PA 0x8_0000_1000 has bit 35 set: the address spans both 32-bit halves.
 */
import { strict as assert } from 'node:assert';
import { check, ofRule, summary } from './scenario';

const OLD = '0x0060_0008_0000_1f47';
// Read-only (AP[2], bit 7: 0xf47 | 0x80 = 0xfc7) and executable (no UXN/PXN): the high half is only the PA.
const NEW = '0x0000_0008_0000_1fc7';

const HEAD = [
  /* 1 */ 'platform coherent=yes',
  /* 2 */ 'smmu sidsize=8',
  /* 3 */ 'smmu init strtab=linear',
  /* 4 */ 'domain d1 stage=1',
  /* 5 */ 'map d1 0x1000_0000 -> 0x8_0000_0000 size=8K',
  /* 6 */ 'attach 5 s1 d1',
  /* 7 */ 'const PTE = pte_addr(d1, 0x1000_1000, 3)',
  /* 8 */ `expect mem PTE == ${OLD}`,
  /* 9 */ 'traffic dev 5 read 0x1000_1040',
  // A DMA caches the translation in the TLB.
  /* 10 */ 'expect dma 5 read 0x1000_1040 -> 0x8_0000_1040',
];

describe('check: what a translation grants', () => {
  it('a plain store tearing a page descriptor into permissions neither end has is a torn update', () => {
    // Split in 4-byte halves: [new low, old high] is read-only and not executable (old: writable; new: executable);
    // [old low, new high] is writable and executable (neither): unprivileged execute only, as a page writable at
    // EL0 is never executable by privileged accesses. Both keep PA 0x8_0000_1000.
    const c = check([...HEAD, /* 11 */ `store PTE ${NEW} plain split=4`, /* 12 */ 'tlbi va 0x1000_1000 asid=1 leaf', /* 13 */ 'sync']);
    const torn = ofRule(c, 'torn-update').filter((h) => h.severity === 'error');
    assert.equal(torn.length, 2, summary(c));
    for (const h of torn) assert.equal(h.range.start.line, 11);
    const text = torn.map((h) => h.message).join('\n');
    // The old entry grants read and write to both privileges, no execute; the new one read and both executes.
    assert.match(text, /before gives → 0x800001040 \(VMID 0, ASID 1\) granting read, write, unprivileged access; AttrIndx 1, SH 3/);
    assert.match(text, /after → 0x800001040 \(VMID 0, ASID 1\) granting read, privileged execute, unprivileged execute, unprivileged access; AttrIndx 1, SH 3/);
    assert.match(text, /give → 0x800001040 \(VMID 0, ASID 1\) granting read, unprivileged access; AttrIndx 1, SH 3/);
    assert.match(text, /give → 0x800001040 \(VMID 0, ASID 1\) granting read, write, unprivileged execute, unprivileged access; AttrIndx 1, SH 3/);
  });

  it('the same store with WRITE_ONCE is not torn', () => {
    const c = check([...HEAD, `store PTE ${NEW}`, 'tlbi va 0x1000_1000 asid=1 leaf', 'sync']);
    assert.deepEqual(ofRule(c, 'torn-update'), [], summary(c));
  });

  it('a cached translation whose permissions memory no longer gives is stale, though the address is the same', () => {
    // The traffic cached the writable translation; the PTE becomes read-only with no TLBI: the device can still write.
    const c = check([...HEAD, /* 11 */ `store PTE ${NEW}`]);
    const stale = ofRule(c, 'stale-cache');
    assert.equal(stale.length, 1, summary(c));
    assert.equal(stale[0].range.start.line, 11);
    assert.match(stale[0].message, /would still use a cached translation \(TLB\) for DMA read SID 0x5 IOVA 0x10001040 and give → 0x800001040 \(VMID 0, ASID 1\) granting read, write, unprivileged access; AttrIndx 1, SH 3, while memory now says → 0x800001040 \(VMID 0, ASID 1\) granting read, privileged execute/);
    // What it means: the device still writes through the cached entry, until a TLBI + CMD_SYNC.
    check([...HEAD, `store PTE ${NEW}`, 'expect dma 5 write 0x1000_1040 -> 0x8_0000_1040']);
    const fixed = check([...HEAD, /* 11 */ `store PTE ${NEW}`, /* 12 */ 'tlbi va 0x1000_1000 asid=1 leaf', /* 13 */ 'sync',
      /* 14 */ 'expect dma 5 write 0x1000_1040 -> F_PERMISSION']);
    // Only the window between the store and the invalidation (line 11) is reported.
    assert.deepEqual(ofRule(fixed, 'stale-cache').map((h) => h.range.start.line), [11]);
  });
});
