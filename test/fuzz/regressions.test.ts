/**
 * Inputs the fuzz targets found that crashed or hung, each reduced to a minimal literal,
 * with the behaviour the fix gives: a located error (or a result), never an exception.
 */
import { strict as assert } from 'node:assert';
import { Reachability } from '../../src/check/reach';
import { inspect } from '../../src/dump/inspect';
import { inspectionText } from '../../src/dump/report';
import { dumpMachine, openDump } from '../../src/dump/load';
import { bytesSource } from '../../src/dump/source';
import { elfCore } from '../dump/helpers';
import { fixtureCoreBytes } from './machines';
import { steAddress } from '../../src/model/locate';
import { DEFAULT_PLATFORM, Machine } from '../../src/model/machine';
import { compileForSession, Session } from '../../src/debug/session';
import { scopes } from '../../src/debug/variables';
import { compileScenario } from '../../src/scenario/compiler';
import { parseExpression } from '../../src/scenario/parser';

describe('fuzz regressions', () => {
  describe('scenario language', () => {
    it('a unary minus at the end of a line is a parse error, not endless recursion', () => {
      // The parser peeked past the end and saw the trailing '-' again, forever (a stack overflow).
      const r = parseExpression('-');
      assert.ok('error' in r && /end of the line/.test(r.error), JSON.stringify(r));
      assert.ok('error' in parseExpression('~~-'));
      const p = compileScenario('t.smmu', 'inval -');
      assert.equal(p.diagnostics.length, 1);
      assert.equal(p.diagnostics[0].severity, 'error');
      // After "inval -": line 1, the column after the '-' (col 8).
      assert.deepEqual(p.diagnostics[0].range.start, { line: 1, col: 8 });
    });

    it('deep nesting is a located error, not a stack overflow', () => {
      // Found by running `smmu-debug run` on a memory dump: its bytes held long runs of '(' (any binary file may).
      for (const [text, col] of [
        ['inval ' + '('.repeat(20_000), 263], // 'inval ' is 6 columns; the 257th '(' is at column 6 + 257 = 263
        ['inval ' + '-'.repeat(20_000) + '1', 263],
        ['inval ' + 'x['.repeat(20_000), 519], // each 'x[' is 2 columns: the 257th 'x' starts at 6 + 2 * 256 + 1 = 519
      ] as const) {
        const p = compileScenario('t.smmu', text);
        assert.equal(p.diagnostics.length, 1);
        assert.equal(p.diagnostics[0].range.start.col, col);
        assert.match(p.diagnostics[0].message, /nests deeper than 256 levels/);
      }
      // 200 levels are fine: the statement is only missing its size (the nesting limit is not the reason).
      assert.match(compileScenario('t.smmu', 'inval ' + '('.repeat(200) + '1' + ')'.repeat(200)).diagnostics[0].message, /missing SIZE/);
    });
  });

  describe('a memory dump given as a scenario', () => {
    it('is one error at its first NUL byte, not one per byte', () => {
      // Found by `smmu-debug run vmcore`: half a million diagnostics, pushed with push(...spread), overflowed the stack.
      const p = compileScenario('vmcore', 'smmu init\n  ab\0cd');
      assert.deepEqual(p.diagnostics.map((d) => [d.range.start.line, d.range.start.col]), [[2, 5]]);
      assert.match(p.diagnostics[0].message, /not a scenario but binary data .*smmu-debug inspect/);
    });

    it('a text file with 200,000 bad lines gives its 200,000 errors without overflowing', function () {
      // What this guards is the stack, not the speed; a busy machine may take its time.
      this.timeout(60_000);
      assert.equal(compileScenario('t.smmu', 'x\n'.repeat(200_000)).diagnostics.length, 200_000);
    });
  });

  describe('scenario runs', () => {
    /** The run errors of a scenario run with the checker following, as `line:col message`. */
    const runErrors = (text: string): string[] => {
      const program = compileForSession('t.smmu', text, { read: () => undefined, resolve: (_f, r) => r });
      assert.deepEqual(program.diagnostics, []);
      const s = new Session(program, { limits: { maxOps: 10_000, maxPages: 4096 } });
      return s.runner.runToEnd().errors.map((d) => `${d.range.start.line}:${d.range.start.col} ${d.message}`);
    };

    it('map and unmap of a domain the kexec left behind are located errors, not a TypeError', () => {
      // Found in a mutated KHO example: the name was known when compiled, gone at run time.
      assert.deepEqual(runErrors('smmu init\ndomain d1 stage=1\nkexec\nmap d1 0x1000 -> 0x2000'),
        ["4:5 domain 'd1' does not exist in this kernel: it belongs to the kernel before kexec; `kho restore d1` first"]);
      assert.deepEqual(runErrors('smmu init\ndomain d1 stage=1\nkexec\nunmap d1 0x1000'),
        ["4:7 domain 'd1' does not exist in this kernel: it belongs to the kernel before kexec; `kho restore d1` first"]);
    });

    it('a StreamID wider than 32 bits (or a SubstreamID wider than 20) is a located error, not an escaping FieldError', () => {
      // Found as traffic of StreamID 2^32: the checker's probe at the end of the statement encoded a
      // C_BAD_STREAMID record whose StreamID field [63:32] cannot hold it, outside the runner's catch.
      assert.deepEqual(runErrors('smmu init\ntraffic t 0x1_0000_0000 read 0x1000\ndsb'), ['2:11 StreamID 0x100000000 is wider than 32 bits']);
      assert.deepEqual(runErrors('smmu init\ndma 5:0x10_0000 read 0x1000'), ['2:7 SubstreamID 0x100000 is wider than 20 bits']);
    });

    it('an entry-writer target the kernel would WARN about is a located error, not an escaping EntryWarning', () => {
      // Found in a mutated examples/02: `ste 7 <- fields ... V=0` with Config=S2_TRANS. With V=0 the STE uses
      // only V, so Config (bits [3:1], 0b110 << 1 = 0xc) is set in bits its own configuration ignores.
      const errors = runErrors('smmu sidsize=8\nsmmu init strtab=linear\nste 5 <- fields V=0 Config=S2_TRANS');
      assert.equal(errors.length, 1);
      assert.match(errors[0], /^3:1 STE target qword 0 sets bits 0xc \(Config\) that its own configuration does not use/);
    });
  });

  describe('CPU cache', () => {
    it('a CMO over a huge range visits the lines the cache holds, not every line address', () => {
      // Found as `clean pte_addr(d1, IOVA_D, 2) 695G` in a mutated example: 11 billion line
      // addresses visited one by one, half an hour.
      const m = Machine.create(DEFAULT_PLATFORM);
      m.alloc('buf', 0x1000, 'cacheable', 'test', { base: 0x4000_0000 });
      m.store(0x4000_0040, 8, 0x1234n);
      const r = m.cmo('clean', 0x4000_0000, 695 * 2 ** 30);
      // 695 GiB / 64-byte lines = 695 * 2^30 / 2^6 = 695 * 2^24 = 11_660_165_120 lines, one of them dirty.
      assert.equal(r.lines, 11_660_165_120);
      assert.equal(r.dirtyLines, 1);
      m.barrier('dsb');
      assert.equal(m.mem.pocRead(0x4000_0040, 1)[0], 0x34);
    });
  });

  describe('SMMU model: tables at the top of the physical address space', () => {
    // The model's memory ends at 2^52 = 0x10_0000_0000_0000. Register and descriptor address
    // fields reach bit 55 (bits above the output size are RES0, but a corrupt table or a
    // mistyped dump register can set them): an access there used to throw a MemoryError.
    const TOP = 2 ** 52;
    const enabled = (): Machine => {
      const m = Machine.create(DEFAULT_PLATFORM);
      // STRTAB_BASE ADDR [55:6] = TOP - 64: a linear table whose STE 0 is the last 64 bytes of memory.
      m.mmioWrite('STRTAB_BASE', BigInt(TOP - 64));
      // STRTAB_BASE_CFG: FMT 0 (linear) [17:16], LOG2SIZE 8 [5:0] = 0x8.
      m.mmioWrite('STRTAB_BASE_CFG', 0x8n);
      return m;
    };
    const hasBit = (v: bigint, bit: number): boolean => ((v >> BigInt(bit)) & 1n) === 1n;

    it('an STE beyond the output address size is an F_STE_FETCH abort, with the address it fetched', () => {
      // The default SMMU's OAS is 48 bits: a linear table from 2^48 - 64 has STE 0 inside, STE 1 beyond.
      const m = Machine.create(DEFAULT_PLATFORM);
      m.mmioWrite('STRTAB_BASE', BigInt(2 ** 48 - 64));
      m.mmioWrite('STRTAB_BASE_CFG', 0x8n);
      m.mmioWrite('CR0', 0x1n); // SMMUEN
      const r = m.dma({ sid: 1, iova: 0x1000n, access: 'read', priv: false });
      assert.equal(r.outcome, 'fault');
      assert.equal(r.event?.name, 'F_STE_FETCH');
      assert.match(r.reason, /0x1000000000000/);
      // FetchAddr is record bits [247:195]: qword 3 bits [55:3], so the address sits in qword 3 as is.
      assert.equal(r.event!.words[3], BigInt(2 ** 48));
      // StreamID 0's STE is the last 64 bytes below 2^48: fetched, all zero, so V=0: C_BAD_STE.
      assert.equal(m.dma({ sid: 0, iova: 0x1000n, access: 'read', priv: false }).event?.name, 'C_BAD_STE');
    });

    it('the locators and the reachability walk stop at the top instead of throwing', () => {
      const m = enabled();
      m.mmioWrite('CR0', 0x1n);
      assert.deepEqual(steAddress(m, 0), { addr: TOP - 64 });
      const beyond = steAddress(m, 1);
      assert.ok('error' in beyond && /beyond the physical address space/.test(beyond.error), JSON.stringify(beyond));
      // 256 STEs from TOP - 64 run past the top: not a table the SMMU can fetch, so none is listed (and nothing throws).
      const r = Reachability.of(m);
      assert.deepEqual(r.all, []);
    });

    it('a command queue beyond the top stops with CERROR_ABT', () => {
      const m = enabled();
      // CMDQ_BASE: ADDR [55:5] = 2^52 (bit 52 set, beyond memory), LOG2SIZE 1.
      m.mmioWrite('CMDQ_BASE', (1n << 52n) | 1n);
      m.mmioWrite('CR0', 0x8n); // CMDQEN (bit 3)
      m.mmioWrite('CMDQ_PROD', 1n);
      // CMDQ_CONS.ERR [30:24] = 2 (CERROR_ABT); GERROR.CMDQ_ERR (bit 0) toggled to differ from GERRORN.
      assert.equal((m.mmioRead('CMDQ_CONS') >> 24n) & 0x7fn, 2n);
      assert.ok(hasBit(m.mmioRead('GERROR'), 0));
    });

    it('an event queue beyond the top loses the record and raises GERROR.EVENTQ_ABT_ERR', () => {
      const m = enabled();
      m.mmioWrite('EVENTQ_BASE', (1n << 52n) | 1n);
      m.mmioWrite('CR0', 0x5n); // EVENTQEN (bit 2) | SMMUEN
      // The STE lies beyond the 48-bit output address size too: an F_STE_FETCH record, which cannot be written.
      const r = m.dma({ sid: 0, iova: 0x1000n, access: 'read', priv: false });
      assert.equal(r.event?.name, 'F_STE_FETCH');
      assert.equal(r.event?.recorded, false);
      assert.ok(hasBit(m.mmioRead('GERROR'), 2)); // EVENTQ_ABT_ERR is bit 2
    });

    it('a CMD_SYNC MSI beyond the top raises GERROR.MSI_CMDQ_ABT_ERR', () => {
      const m = enabled();
      const q = 0x4000_0000;
      m.alloc('q', 0x1000, 'noncacheable', 'test', { base: q });
      // CMD_SYNC: opcode 0x46, CS=IRQ (1 << 12); qword 1 MSIAddress [55:2] = 2^52.
      m.store(q, 8, 0x1046n);
      m.store(q + 8, 8, 1n << 52n);
      m.mmioWrite('CMDQ_BASE', BigInt(q) | 1n);
      m.mmioWrite('CR0', 0x8n);
      m.mmioWrite('CMDQ_PROD', 1n);
      // The command completed (CONS moved to 1), its MSI write aborted: GERROR bit 4.
      assert.equal(m.mmioRead('CMDQ_CONS') & 0xfffffn, 1n);
      assert.ok(hasBit(m.mmioRead('GERROR'), 4));
    });
  });

  describe('reachability walk: bounded work', () => {
    it('a linear stream table wholly beyond the physical address space is read as nothing', () => {
      // Found by the SMMU fuzz target: STRTAB_BASE with bit 55 set made the bulk read of the table
      // ask memory for 0 bytes at 0x80_0000_4000_4000, which memory refuses.
      const m = Machine.create(DEFAULT_PLATFORM);
      m.mmioWrite('STRTAB_BASE', (1n << 55n) | 0x4000_4000n);
      m.mmioWrite('STRTAB_BASE_CFG', 0x8n);
      m.mmioWrite('CR0', 0x1n);
      assert.deepEqual(Reachability.of(m).all, []);
    });

    it('an STE with a huge linear CD table stops after a bounded number of entries', function () {
      this.timeout(20_000);
      const m = Machine.create(DEFAULT_PLATFORM);
      m.alloc('strtab', 0x1000, 'noncacheable', 'test', { base: 0x4000_0000 });
      // STE 0: V (bit 0) | Config S1_TRANS (0b101 << 1 = 0xa) | S1Fmt 0 (linear) | S1ContextPtr 0x4100_0000
      //   | S1CDMax 21 (21 << 59): 2^21 CDs, more than the walk looks at (2^20 entries).
      m.store(0x4000_0000, 8, (21n << 59n) | 0x4100_0000n | 0xbn);
      m.mmioWrite('STRTAB_BASE', 0x4000_0000n);
      m.mmioWrite('STRTAB_BASE_CFG', 0x0n); // linear, LOG2SIZE 0: one STE
      m.mmioWrite('CR0', 0x1n);
      const r = Reachability.of(m, ['cpu']);
      assert.equal(r.truncated, true);
      assert.deepEqual(r.all.map((t) => [t.kind, t.base, t.entries]), [['ste', 0x4000_0000, 1], ['cd', 0x4100_0000, 2 ** 21]]);
    });
  });

  describe('dump inspector: bounded work', () => {
    /** A dump of one 8 KiB segment at 0x4000_0000: a linear stream table of two STEs, STE 0 as given, then zeros. */
    function oneSte(q0: bigint): ReturnType<typeof inspect> {
      const data = new Uint8Array(0x2000);
      new DataView(data.buffer).setBigUint64(0, q0, true);
      const core = elfCore([{ paddr: 0x4000_0000, data }]);
      // STRTAB_BASE_CFG: linear, LOG2SIZE 1. IDR1: SSIDSIZE [10:6] 20, SIDSIZE [5:0] 8.
      const regs = new Map([['STRTAB_BASE', 0x4000_0000n], ['STRTAB_BASE_CFG', 1n], ['IDR1', (20n << 6n) | 8n], ['CR0', 1n]]);
      const dump = openDump({ core: ['vmcore'], registers: regs }, (p) => bytesSource(p, core));
      const ins = inspect(dumpMachine(dump), dump.memory);
      // Every line of the report is made, however many there are.
      assert.ok(inspectionText(ins, dump.memory).includes('StreamID 0x0: STE at 0x40000000'));
      return ins;
    }

    it('a linear CD table that runs out of the dump is one problem, not one per CD', () => {
      // Found by smmu-walks (after 933,922 cases): example 02's STE 6 with S1CDMax made 18 by a flipped bit 63: 2^18 CDs
      // from a table that leaves the dump after 64. Each CD outside was a problem of its own, and the text report
      // spread the stream's 262,080 lines into one call: "Maximum call stack size exceeded".
      // Qword 0: V (bit 0), Config S1_TRANS (0b101 at bits 3:1), S1Fmt linear (0, bits 5:4), S1ContextPtr
      // 0x4000_1000 (bits 55:6), S1CDMax 18 (bits 63:59). The segment ends at 0x4000_2000: CDs 0..63 are in it.
      const ins = oneSte(1n | (0b101n << 1n) | 0x4000_1000n | (18n << 59n));
      assert.deepEqual(ins.streams.map((s) => s.sid), [0]);
      assert.deepEqual(ins.streams[0].problems, ['CD 64 of STE 0x0 at 0x40002000..0x40002040 is not in the dump (0x40002000 is missing; ' +
        'the dump holds 0x40000000..0x40002000): the linear CD table (262144 CDs from 0x40001000) leaves the dump, so the 262079 after it are not looked at']);
    });

    it('a stream lists at most 100 problems and says how many more there were', () => {
      // S1Fmt 1 (2-level, 64 CDs a leaf) and S1CDMax 20: 2^14 L1CDs from S1ContextPtr 0x8000_0000, outside the dump,
      // each a problem of its own (the next may be in another segment).
      const ins = oneSte(1n | (0b101n << 1n) | (1n << 4n) | 0x8000_0000n | (20n << 59n));
      const problems = ins.streams[0].problems;
      assert.equal(problems.length, 101);
      assert.match(problems[0], /^L1CD 0 of STE 0x0 at 0x80000000 is not in the dump/);
      assert.match(problems[99], /^L1CD 99 of STE 0x0 at 0x80000318 is not in the dump/);
      assert.equal(problems[100], `… and ${2 ** 14 - 100} more problems of STE 0x0, not listed`);
    });

    it('a 2-level table of 2^18 L1 descriptors over zero-filled memory is read, each invalid one without decoding it', function () {
      this.timeout(20_000);
      // Found by dump-elf (a case took 21 s on a loaded machine): the fixture core with its second program header's
      // p_memsz raised (byte 162 = 0x3f) and e_phnum 2, so a large zero-filled segment covers the L1 table.
      // STRTAB_BASE_CFG 0x18157: FMT [17:16] = 1 (2-level), SPLIT [10:6] = 5, LOG2SIZE [5:0] = 0x17 = 23,
      // so 2^(23-5) = 2^18 L1 descriptors of 32 STEs each.
      const b = fixtureCoreBytes().slice();
      b[162] = 0x3f;
      new DataView(b.buffer).setUint16(56, 2, true);
      const regs = new Map([['STRTAB_BASE', 0x4000_0000n], ['STRTAB_BASE_CFG', 0x18157n], ['CR0', 1n]]);
      const dump = openDump({ core: ['core'], registers: regs }, (p) => bytesSource(p, b));
      const ins = inspect(dumpMachine(dump), dump.memory);
      assert.deepEqual(ins.strtab, { base: 0x4000_0000, fmt: '2-level', split: 5, log2size: 23 });
      // Whatever the fixture's bytes make of the descriptors, each finding is one of the two kinds a bad L1 gives.
      for (const p of ins.problems) assert.match(p, /^L1STD \d+ at 0x[0-9a-f]+ .* a reserved value|^the L2 stream table of L1STD \d+ .* is not in the dump/);
    });

    it('the debugger\'s "streams in use" over a 2^21-STE table in a zero-filled segment stops its scan and says so', function () {
      this.timeout(20_000);
      // Found by smmu-walks: the variable scanned every slot of a huge table over a dump (every page may hold
      // data there) and a variables request ran for over ten minutes. The same table as the test below:
      // linear, LOG2SIZE 21 (2^21 STEs, 2^21 * 64 bytes = 128 MiB of zeros in the segment), IDR1.SIDSIZE 32.
      const core = elfCore([{ paddr: 0, data: new Uint8Array(4096), memsz: 2 ** 40 }]);
      const regs = new Map([['STRTAB_BASE', 0x0n], ['STRTAB_BASE_CFG', 21n], ['IDR1', 32n]]);
      const dump = openDump({ core: ['vmcore'], registers: regs }, (p) => bytesSource(p, core));
      const table = scopes({ machine: dumpMachine(dump), hazards: [] }).find((v) => v.name === 'Stream table')!;
      const inUse = table.children!.get(0, 10).find((v) => v.name === 'streams in use')!;
      // 2^20 slots looked at, none of them a live STE (all zero).
      assert.equal(inUse.value, '0 STEs not aborting (the scan stopped after 1,048,576 entries: expand the stream table for the rest)');
    });

    it('a linear stream table of 2^21 STEs in a zero-filled segment stops with a message naming --sid', function () {
      this.timeout(20_000);
      // Found with LOG2SIZE 32 and IDR1.SIDSIZE 32: 2^32 STEs, half an hour of reading zeros.
      // One PT_LOAD at physical 0 with 4 KiB in the file and 1 TiB in memory (p_memsz > p_filesz: the rest is zero).
      const core = elfCore([{ paddr: 0, data: new Uint8Array(4096), memsz: 2 ** 40 }]);
      // STRTAB_BASE_CFG: FMT 0 (linear), LOG2SIZE 21; IDR1.SIDSIZE [5:0] = 32 so the SMMU has the StreamIDs.
      const regs = new Map([['STRTAB_BASE', 0x0n], ['STRTAB_BASE_CFG', 21n], ['IDR1', 32n]]);
      const dump = openDump({ core: ['vmcore'], registers: regs }, (p) => bytesSource(p, core));
      const ins = inspect(dumpMachine(dump), dump.memory);
      assert.equal(ins.streams.length, 0);
      assert.equal(ins.problems.length, 1);
      assert.match(ins.problems[0], /stopped after looking at 1048576 .*--sid/);
    });
  });
});
