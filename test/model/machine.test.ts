/**
 * The whole model driven through its API, as a driver would: a 2-level stream table, a CD
 * and 4-level stage-1 tables in cacheable memory on a non-coherent SMMU, commands through
 * the in-memory command queue, DMA, events in the in-memory event queue. Every value
 * below is worked out by hand in the comments.
 */
import { strict as assert } from 'node:assert';
import { Machine, DEFAULT_PLATFORM, Tagged } from '../../src/model/machine';

const L1 = 0x4800_0000; // 256 L1 descriptors (SID bits [15:8]), non-cacheable like dmam_alloc_coherent
const L2 = 0x4801_0000; // 256 STEs for SIDs 0x100..0x1ff
const CDT = 0x4900_0000; // one CD, cacheable (the case under study)
const PGD = 0x4a00_0000; // level-0 table; level 1, 2, 3 tables follow at +0x1000 each
const CMDQ = 0x4c00_0000;
const EVTQ = 0x4d00_0000;
const SID = 0x105;

function machine(log: Tagged[] = []): Machine {
  const m = Machine.create({ ...DEFAULT_PLATFORM, memory: { ...DEFAULT_PLATFORM.memory, coherent: false } }, (t) => log.push(t));
  m.alloc('strtab-l1', 0x800, 'noncacheable', 'test', { base: L1 });
  m.alloc('strtab-l2', 0x4000, 'noncacheable', 'test', { base: L2 });
  m.alloc('cd', 0x40, 'cacheable', 'test', { base: CDT });
  m.alloc('pgtables', 0x4000, 'cacheable', 'test', { base: PGD });
  m.alloc('cmdq', 0x1000, 'noncacheable', 'test', { base: CMDQ });
  m.alloc('evtq', 0x1000, 'noncacheable', 'test', { base: EVTQ });
  return m;
}

/** Registers as the driver programs them, then CMDQEN|EVENTQEN, then SMMUEN. */
function enable(m: Machine): void {
  m.mmioWrite('STRTAB_BASE', BigInt(L1));
  // FMT 2-level (1 << 16) | SPLIT 8 (8 << 6) | LOG2SIZE 16 = 0x10210.
  m.mmioWrite('STRTAB_BASE_CFG', 0x10210n);
  m.mmioWrite('CMDQ_BASE', BigInt(CMDQ) | 8n); // 256 entries
  m.mmioWrite('EVENTQ_BASE', BigInt(EVTQ) | 7n); // 128 entries
  m.mmioWrite('CR0', 0xcn); // CMDQEN (bit 3) | EVENTQEN (bit 2)
  m.mmioWrite('CR0', 0xdn); // + SMMUEN
}

let cmdProd = 0;
function submit(m: Machine, ...cmds: [bigint, bigint][]): void {
  for (const [w0, w1] of cmds) {
    const slot = CMDQ + (cmdProd % 256) * 16;
    m.store(slot, 8, w0);
    m.store(slot + 8, 8, w1);
    cmdProd++;
  }
  m.mmioWrite('CMDQ_PROD', BigInt(cmdProd)); // writel: barrier, then the doorbell
}

// CFGI_CD: opcode 0x05, SubstreamID [31:12] = 0, StreamID [63:32] = 0x105; Leaf (bit 64) = 1.
const CFGI_CD: [bigint, bigint] = [0x0000_0105_0000_0005n, 1n];
// CMD_SYNC with CS=NONE: opcode 0x46.
const SYNC: [bigint, bigint] = [0x46n, 0n];

// IOVA 0x1234_5abc with a 4K granule and 48-bit VA:
//   L0 index = VA[47:39] = 0, L1 index = VA[38:30] = 0,
//   L2 index = VA[29:21] = 0x12345abc >> 21 = 0x91, L3 index = VA[20:12] = 0x12345 & 0x1ff = 0x145.
const IOVA = 0x1234_5abcn;
const L2E = PGD + 0x2000 + 0x91 * 8; // 0x4a00_2488
const L3E = PGD + 0x3000 + 0x145 * 8; // 0x4a00_3a28
// Page 0x9_8765_4000: type 0b11, AttrIndx 1 (0x4), AP[1] (0x40), SH ISH (0x300), AF (0x400), nG (0x800) = 0xf47.
const PTE = 0x9_8765_4f47n;

function writeTables(m: Machine): void {
  // L1STD 1 (SIDs 0x100..0x1ff) at L1 + 8: L2Ptr 0x4801_0000 | Span 9 (2^8 STEs).
  m.store(L1 + 8, 8, 0x4801_0009n);
  // STE 5 of that L2 table at 0x4801_0140: V | Config S1_TRANS (0b101 << 1) | S1ContextPtr 0x4900_0000 = 0x4900_000b;
  // qword 1 = S1CSH ISH | S1COR WBRA | S1CIR WBRA | S1DSS SSID0 = 0xd6, as the kernel builds it.
  m.store(L2 + 5 * 64, 8, 0x4900_000bn);
  m.store(L2 + 5 * 64 + 8, 8, 0xd6n);
  // The kernel's CD for a non-coherent walk: T0SZ 16 | IR0/OR0 NC | SH0 OSH (2 << 12) | EPD1 (bit 30) | V (bit 31)
  //   = 0xc000_2010; IPS 48-bit (5 << 32) | AA64 (bit 41) | R (45) | A (46) | ASET (47) | ASID 1 (<< 48)
  //   = 0x0001_e205 in the high half. TTB0 = the level-0 table; MAIR = 0xf404ff44.
  m.store(CDT, 8, 0x0001_e205_c000_2010n);
  m.store(CDT + 8, 8, BigInt(PGD));
  m.store(CDT + 24, 8, 0xf404_ff44n);
  m.store(PGD, 8, BigInt(PGD + 0x1000) | 3n); // L0[0] → L1 table
  m.store(PGD + 0x1000, 8, BigInt(PGD + 0x2000) | 3n); // L1[0] → L2 table
  m.store(L2E, 8, BigInt(PGD + 0x3000) | 3n); // L2[0x91] → L3 table
  m.store(L3E, 8, PTE); // L3[0x145] → page
}

describe('model/machine: a stage-1 stream on a non-coherent SMMU', () => {
  beforeEach(() => {
    cmdProd = 0;
  });

  it('reports the ID registers the features imply', () => {
    const m = machine();
    // Default features: IDR1.SIDSIZE = 16, SSIDSIZE = 20 (<< 6 = 0x500).
    assert.equal(Number(m.mmioRead('IDR1') & 0x7ffn), 0x510);
    assert.equal(m.mmioRead('CR0ACK'), 0n);
    m.mmioWrite('CR0', 0x8n);
    assert.equal(m.mmioRead('CR0ACK'), 0x8n, 'CR0ACK follows CR0');
  });

  it('walks every intermediate state from uncleaned tables to a translation', () => {
    const log: Tagged[] = [];
    const m = machine(log);
    enable(m);
    writeTables(m);

    // The CPU sees its stores; PoC does not yet hold the cacheable ones.
    assert.equal(m.load(CDT, 8), 0x0001_e205_c000_2010n);
    assert.equal(m.mem.smmuReadU64(CDT), 0n, 'the CD is still only in the CPU cache');
    assert.equal(m.mem.smmuReadU64(L2 + 5 * 64), 0x4900_000bn, 'the STE is in non-cacheable memory: already at PoC');
    assert.equal(m.mem.dirtyLines().length, 5, 'CD line + 4 page-table lines are dirty');

    // DMA 1: the SMMU reads the CD from PoC: zeros, V=0 → C_BAD_CD.
    const r1 = m.dma({ sid: SID, iova: IOVA, access: 'read', priv: false });
    assert.equal(r1.outcome, 'fault');
    assert.equal(r1.event?.name, 'C_BAD_CD');
    assert.deepEqual(r1.config.map((s) => [s.what, s.addr, s.source]), [
      ['l1std', L1 + 8, 'memory'], ['ste', L2 + 0x140, 'memory'], ['cd', CDT, 'memory']]);
    // The record went to event queue entry 0: EventNumber 0x0a | StreamID 0x105 << 32.
    assert.equal(m.mem.pocRead(EVTQ, 8)[0], 0x0a);
    assert.equal(m.load(EVTQ, 8), 0x0000_0105_0000_000an);
    assert.equal(m.mmioRead('EVENTQ_PROD'), 1n);

    // Clean the CD and the tables to PoC and complete with a DSB.
    m.cmo('clean', CDT, 64);
    m.cmo('clean', PGD, 0x4000);
    assert.equal(m.mem.smmuReadU64(CDT), 0n, 'not complete before the DSB');
    m.barrier('dsb');
    assert.equal(m.mem.smmuReadU64(CDT), 0x0001_e205_c000_2010n);
    assert.equal(m.mem.dirtyLines().length, 0);

    // DMA 2: the invalid CD is still in the configuration cache (the architecture allows
    // caching invalid structures) → C_BAD_CD again, without a fetch.
    const r2 = m.dma({ sid: SID, iova: IOVA, access: 'read', priv: false });
    assert.equal(r2.event?.name, 'C_BAD_CD');
    assert.deepEqual(r2.config.map((s) => [s.what, s.source]), [['ste', 'cache'], ['cd', 'cache']]);
    assert.equal(m.mmioRead('EVENTQ_PROD'), 2n);

    // CFGI_CD + CMD_SYNC through the command queue: entries 0 and 1, PROD = 2.
    submit(m, CFGI_CD, SYNC);
    assert.equal(m.mmioRead('CMDQ_CONS'), 2n, 'both commands consumed');
    const commands = log.filter((t) => t.activity.kind === 'command').map((t) => (t.activity as { name: string }).name);
    assert.deepEqual(commands, ['CMD_CFGI_CD', 'CMD_SYNC']);

    // DMA 3: fetches the clean CD and walks the four levels.
    const r3 = m.dma({ sid: SID, iova: IOVA, access: 'read', priv: false });
    assert.equal(r3.outcome, 'ok', r3.reason);
    assert.equal(r3.pa, 0x9_8765_4abc);
    assert.deepEqual(r3.walk.map((s) => [s.level, s.descAddr, s.desc]), [
      [0, PGD, BigInt(PGD + 0x1000) | 3n],
      [1, PGD + 0x1000, BigInt(PGD + 0x2000) | 3n],
      [2, L2E, BigInt(PGD + 0x3000) | 3n],
      [3, L3E, PTE],
    ]);
    assert.equal(r3.tlbHit, false);

    // DMA 4 to another byte of the same page: a TLB hit, nothing fetched.
    const r4 = m.dma({ sid: SID, iova: 0x1234_5ff8n, access: 'write', priv: false });
    assert.equal(r4.pa, 0x9_8765_4ff8);
    assert.equal(r4.tlbHit, true);
    assert.deepEqual(r4.walk, []);
  });

  it('keeps a stale TLB entry until TLBI + CMD_SYNC, and honours the page permissions', () => {
    const m = machine();
    enable(m);
    writeTables(m);
    m.cmo('clean', CDT, 64);
    m.cmo('clean', PGD, 0x4000);
    m.barrier('dsb');
    assert.equal(m.dma({ sid: SID, iova: IOVA, access: 'read', priv: false }).pa, 0x9_8765_4abc);

    // Remap read-only to 0x7_0000_0000: AP = 0b11 (0xc0) → 0x7_0000_0fc7.
    m.store(L3E, 8, 0x7_0000_0fc7n);
    m.cmo('clean', L3E, 8);
    m.barrier('dsb');
    assert.equal(m.dma({ sid: SID, iova: IOVA, access: 'read', priv: false }).pa, 0x9_8765_4abc, 'stale TLB entry');

    // TLBI_NH_VA: opcode 0x12 | ASID 1 << 48; Leaf (bit 64) | VA[63:12] in qword 1 bits [63:12].
    submit(m, [0x0001_0000_0000_0012n, 0x1234_5001n], SYNC);
    const r = m.dma({ sid: SID, iova: IOVA, access: 'read', priv: false });
    assert.equal(r.pa, 0x7_0000_0abc);
    assert.equal(r.tlbHit, false);
    const w = m.dma({ sid: SID, iova: IOVA, access: 'write', priv: false });
    assert.equal(w.outcome, 'fault');
    assert.equal(w.event?.name, 'F_PERMISSION');
    assert.equal(w.event?.recorded, true, 'CD.R=1 records stage-1 faults');
  });

  it('stops the command queue on an illegal command with CONS.ERR and GERROR', () => {
    const m = machine();
    enable(m);
    submit(m, [0x7fn, 0n], SYNC);
    // CONS stays at the bad entry (0); ERR (bits [30:24]) = CERROR_ILL (1).
    assert.equal(m.mmioRead('CMDQ_CONS'), 0x0100_0000n);
    assert.equal(m.mmioRead('GERROR') & 1n, 1n, 'GERROR.CMDQ_ERR toggled');
  });

  it('ignores STRTAB_BASE writes while SMMUEN=1', () => {
    const m = machine();
    enable(m);
    const note = m.mmioWrite('STRTAB_BASE', 0x5000_0000n);
    assert.match(note!, /read-only while CR0.SMMUEN=1/);
    assert.equal(m.mmioRead('STRTAB_BASE'), BigInt(L1));
  });

  it('aborts or bypasses by GBPA while disabled', () => {
    const m = machine();
    assert.equal(m.dma({ sid: 1, iova: 0x1000n, access: 'read', priv: false }).outcome, 'bypass');
    m.mmioWrite('GBPA', (1n << 31n) | (1n << 20n)); // UPDATE | ABORT
    assert.equal(m.mmioRead('GBPA'), 1n << 20n, 'the update completes: UPDATE reads 0');
    assert.equal(m.dma({ sid: 1, iova: 0x1000n, access: 'read', priv: false }).outcome, 'abort');
  });

  it('reports C_BAD_STREAMID beyond an L1 descriptor', () => {
    const m = machine();
    enable(m);
    writeTables(m);
    const r = m.dma({ sid: 0x205, iova: 0n, access: 'read', priv: false });
    assert.equal(r.event?.name, 'C_BAD_STREAMID');
    assert.match(r.reason, /L1STD 2 .* is invalid \(Span=0\)/);
  });

  it('is deterministic, and a snapshot restores the exact state', () => {
    const run = (): Tagged[] => {
      const log: Tagged[] = [];
      const m = machine(log);
      enable(m);
      writeTables(m);
      m.dma({ sid: SID, iova: IOVA, access: 'read', priv: false });
      return log;
    };
    cmdProd = 0;
    const a = JSON.stringify(run(), (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v));
    cmdProd = 0;
    const b = JSON.stringify(run(), (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v));
    assert.equal(a, b);

    cmdProd = 0;
    const m = machine();
    enable(m);
    writeTables(m);
    const snap = m.snapshot();
    m.cmo('clean', CDT, 64);
    m.cmo('clean', PGD, 0x4000);
    m.barrier('dsb');
    assert.equal(m.dma({ sid: SID, iova: IOVA, access: 'read', priv: false }).outcome, 'ok');
    // The snapshot still has dirty lines and an empty configuration cache.
    assert.equal(snap.mem.dirtyLines().length, 5);
    assert.equal(snap.smmu.cachedStes().size, 0);
    assert.equal(snap.dma({ sid: SID, iova: IOVA, access: 'read', priv: false }).event?.name, 'C_BAD_CD');
    assert.equal(m.smmu.cachedStes().size, 1, 'the snapshot\'s DMA did not touch the original');
  });
});
