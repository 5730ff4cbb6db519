import { strict as assert } from 'node:assert';
import { posix } from 'node:path';
import { DEFAULT_PLATFORM } from '../../src/model/machine';
import { DEFAULT_FEATURES } from '../../src/model/smmu/features';
import { compileScenario, hasErrors, NO_INCLUDES, SourceHost } from '../../src/scenario/compiler';
import { Program } from '../../src/scenario/program';
import { Runner } from '../../src/scenario/runner';

const FILE = 'c.smmu';

/** Diagnostics as `file:line:col message`. */
function diags(p: Program): string[] {
  return p.diagnostics.map((d) => `${d.range.file}:${d.range.start.line}:${d.range.start.col} ${d.message}`);
}

function compile(lines: string[]): Program {
  return compileScenario(FILE, lines.join('\n'));
}

/** Compile text that must have exactly these errors (`line:col message`, in FILE). */
function errorsOf(lines: string[]): string[] {
  const p = compile(lines);
  assert.ok(p.diagnostics.every((d) => d.severity === 'error'), diags(p).join('\n'));
  return p.diagnostics.map((d) => `${d.range.start.line}:${d.range.start.col} ${d.message}`);
}

/** Files in memory; paths resolve like POSIX paths relative to the including file. */
class FakeHost implements SourceHost {
  readonly reads: string[] = [];
  readonly resolves: [string, string][] = [];

  constructor(private readonly files: Record<string, string>, private readonly deny?: (path: string) => string | undefined) {}

  read(path: string): string | undefined {
    this.reads.push(path);
    return this.files[path];
  }

  resolve(from: string, relative: string): string {
    this.resolves.push([from, relative]);
    return posix.normalize(posix.join(posix.dirname(from), relative));
  }

  allowed(path: string): string | undefined {
    return this.deny?.(path);
  }
}

describe('scenario compiler', () => {
  describe('names', () => {
    it('suggests a defined name of the right kind for an unknown one', () => {
      assert.deepEqual(errorsOf(['smmu init', 'domain d1', 'map dd1 0 -> 0']), ["3:5 unknown domain 'dd1' — did you mean 'd1'?; domains: d1"]);
      assert.deepEqual(errorsOf(['const BASE = 0x1000', 'dma 5 read BASS + 4']),
        ["2:12 unknown name 'BASS' — did you mean 'BASE'?: define it first (const, alloc, domain)"]);
      assert.deepEqual(errorsOf(['traffic nic 5 read 0', 'stop nix']), ["2:6 unknown traffic 'nix' — did you mean 'nic'?; traffics: nic"]);
      assert.deepEqual(errorsOf(['dma 5 read ste_adr(5)']),
        ["1:12 unknown function 'ste_adr' — did you mean 'ste_addr'?; functions: ste_addr, cd_addr, pte_addr, cmdq_slot"]);
    });

    it('suggests registers, commands, fields and events', () => {
      assert.deepEqual(errorsOf(['writel CMDQ_PRO 1']), ["1:8 unknown SMMU register 'CMDQ_PRO' — did you mean 'CMDQ_PROD'?"]);
      assert.deepEqual(errorsOf(['expect reg GERRORR == 0']), ["1:12 unknown SMMU register 'GERRORR' — did you mean 'GERROR'?"]);
      assert.deepEqual(errorsOf(['cmd CFGI_STX StreamID=1']), ["1:5 unknown command 'CFGI_STX' — did you mean 'CFGI_STE'?"]);
      assert.deepEqual(errorsOf(['ste 5 <- fields Vx=1']), ["1:17 Stream Table Entry has no field 'Vx' — did you mean 'V'?"]);
      assert.deepEqual(errorsOf(['expect ste 5 Confg == 1']), ["1:14 Stream Table Entry has no field 'Confg' — did you mean 'Config'?"]);
      assert.deepEqual(errorsOf(['expect dma 5 read 0 -> F_TRANSLATON']), [
        "1:24 'F_TRANSLATON' is neither a defined name nor an outcome; expected a PA, abort, bypass, fault or an event name — did you mean 'F_TRANSLATION'?",
      ]);
    });

    it('reports names used before they are defined', () => {
      assert.deepEqual(errorsOf(['dma 5 read IOVA', 'const IOVA = 0x1000']), ["1:12 unknown name 'IOVA': define it first (const, alloc, domain)"]);
      assert.deepEqual(errorsOf(['smmu init', 'map d1 0 -> 0', 'domain d1']), ["2:5 unknown domain 'd1'; define it first"]);
      assert.deepEqual(errorsOf(['stop nic', 'traffic nic 5 read 0']), ["1:6 unknown traffic 'nic'; define it first"]);
      assert.deepEqual(errorsOf(['free buf', 'alloc buf 4K cacheable']), ["1:6 unknown region 'buf'; define it first"]);
    });

    it('reports redefinitions, naming the first definition', () => {
      assert.deepEqual(errorsOf(['domain d1', 'domain d1']), ["2:8 'd1' is already defined as a domain at line 1; choose another name"]);
      assert.deepEqual(errorsOf(['const A = 1', '', 'const A = 2']), ["3:7 'A' is already defined as a constant at line 1; choose another name"]);
      assert.deepEqual(errorsOf(['alloc r 4K cacheable', 'const r = 1']), ["2:7 'r' is already defined as a region at line 1; choose another name"]);
      assert.deepEqual(errorsOf(['domain d1', 'alloc d1 4K cacheable']), ["2:7 'd1' is already defined as a domain at line 1; choose another name"]);
      // A region may be allocated again after it is freed (the run checks that it is not live).
      assert.deepEqual(errorsOf(['alloc r 4K cacheable', 'free r', 'alloc r 8K cacheable']), []);
    });

    it('requires a name of the right kind', () => {
      assert.deepEqual(errorsOf(['alloc r 4K cacheable', 'map r 0 -> 0']), ["2:5 'r' is a region, not a domain"]);
      assert.deepEqual(errorsOf(['domain d1', 'free d1']), ["2:6 'd1' is a domain, not a region"]);
      assert.deepEqual(errorsOf(['const X = 1', 'stop X']), ["2:6 'X' is a constant, not a traffic"]);
      assert.deepEqual(errorsOf(['alloc r 4K cacheable', 'attach 5 s1 r']), ["2:13 'r' is a region, not a domain"]);
    });
  });

  describe('statement checks', () => {
    const cases: [string, string][] = [
      ['attach 5 s1', "1:10 'attach ... s1' needs a domain"],
      ['domain d\nattach 5:1 s2 d', '2:8 a SubstreamID applies to stage-1 attachments'],
      ['ste 5 <- s2', '1:10 `ste ... <- s2` needs a domain'],
      ['ste 5 <- words', '1:10 `<- words` needs the qwords: words W0, W1, ...'],
      ['ste 5 <- bypass V=1', '1:17 FIELD=VALUE pairs go with `<- fields`'],
      ['cd 5:0 <- s1', '1:11 `cd ... <- s1` needs a domain'],
      ['tlbi va 0', '1:1 `tlbi va` needs asid='],
      ['tlbi ipa 0', '1:1 `tlbi ipa` needs vmid='],
      ['store 0 0 split=2', '1:11 `split=` applies to a plain store: add `plain`'],
    ];
    for (const [text, message] of cases) {
      it(`${text.replace(/\n/g, ' / ')}: ${message.slice(4)}`, () => {
        assert.deepEqual(errorsOf(text.split('\n')), [message]);
      });
    }
  });

  describe('the platform', () => {
    it('takes platform options into program.platform', () => {
      const p = compile(['platform coherent line=128 wb_granule=4 memory=ordered alloc_base=0x8000_0000']);
      assert.deepEqual(diags(p), []);
      assert.deepEqual(p.platform.memory, { coherent: true, lineSize: 128, writebackGranule: 4 });
      assert.equal(p.platform.allocBase, 0x8000_0000);
      assert.equal(p.platform.allocLimit, DEFAULT_PLATFORM.allocLimit);
      assert.equal(p.memoryModel, 'ordered');
      assert.deepEqual(p.steps, []);
      assert.equal(compile(['platform coherent=no']).platform.memory.coherent, false);
      assert.equal(compile(['dsb']).memoryModel, 'weak');
    });

    it('takes smmu options into the SMMU features', () => {
      const p = compile([
        'smmu stages=1 oas=40 sidsize=8 ssidsize=10 granules=4K,64K strtab_2lvl=no cd2l=no ril=no attr_types_ovr=no',
        'smmu stall=none httu=a bbml=1 cmdqs=10 eventqs=9 asid16=no vmid16=no ats=no pri=no msi=no sev=no hyp=no',
        'smmu cohacc=no fwb=no vax=yes stt',
      ]);
      assert.deepEqual(diags(p), []);
      assert.deepEqual(p.platform.features, {
        ...DEFAULT_FEATURES,
        stage1: true, stage2: false, oasBits: 40, sidBits: 8, ssidBits: 10, granules: [4, 64],
        twoLevelStreamTable: false, twoLevelCdTable: false, rangeInvalidation: false, attrTypesOverride: false,
        stallModel: 1, httu: 1, bbml: 1, cmdqs: 10, eventqs: 9, asid16: false, vmid16: false, ats: false, pri: false,
        msi: false, sev: false, hyp: false, cohacc: false, fwb: false, vax: true, stt: true,
      });
      assert.equal(compile(['smmu stall=force httu=ad stages=2,1']).platform.features.stallModel, 2);
      assert.equal(compile(['smmu stall=force httu=ad']).platform.features.httu, 2);
      // Platform settings leave the memory and the other settings alone.
      assert.deepEqual(p.platform.memory, DEFAULT_PLATFORM.memory);
    });

    it('keeps the defaults without platform statements', () => {
      assert.deepEqual(compile(['dsb']).platform, DEFAULT_PLATFORM);
    });

    it('checks platform values when compiling', () => {
      assert.deepEqual(errorsOf(['platform line=48']), ['1:15 the cache line size 48 must be a power of two']);
      assert.deepEqual(errorsOf(['platform line=8']), ['1:15 the cache line size 8 is out of range: expected 16..4096']);
      assert.deepEqual(errorsOf(['platform wb_granule=3']), ['1:21 the write-back granule 3 must be 1, 2, 4 or 8 bytes']);
      assert.deepEqual(errorsOf(['smmu oas=50']), ['1:10 OAS 50 is not an SMMU output size; expected 32, 36, 40, 42, 44, 48 or 52']);
      assert.deepEqual(errorsOf(['smmu granules=4K,8K']), ['1:18 granule 8192 is not 4K, 16K or 64K']);
      assert.deepEqual(errorsOf(['smmu stages=3']), ['1:13 a stage 3 is out of range: expected 1..2']);
      assert.deepEqual(errorsOf(['const S = 8', 'smmu sidsize=S']),
        ["2:14 SIDSIZE must be a number known before the scenario runs: unknown name 'S': expected a constant, a region or a domain"]);
    });

    it('refuses platform statements after the machine is in use', () => {
      const p = compile(['alloc r 4K cacheable', 'platform coherent=yes', 'smmu init', 'smmu oas=40']);
      assert.deepEqual(diags(p), [
        `${FILE}:2:1 'platform' must come before the first statement that uses the machine: platform settings fix the machine before it starts`,
        `${FILE}:4:1 'smmu' must come before the first statement that uses the machine: platform settings fix the machine before it starts`,
      ]);
      // Not applied.
      assert.equal(p.platform.memory.coherent, false);
      assert.equal(p.platform.features.oasBits, 48);
    });

    it('allows constants before platform statements', () => {
      const p = compile(['const A = 1', 'platform coherent=yes', 'smmu sidsize=8', 'dsb']);
      assert.deepEqual(diags(p), []);
      assert.equal(p.platform.memory.coherent, true);
    });
  });

  describe('steps', () => {
    it('compiles each statement but platform settings to a step, in order, with its source', () => {
      const p = compile(['smmu sidsize=8', 'smmu init', 'domain d1', '', 'map d1 0 -> 0x1000  # c', 'attach 5 s1 d1', 'dsb']);
      assert.deepEqual(diags(p), []);
      assert.equal(hasErrors(p), false);
      assert.equal(p.file, FILE);
      assert.deepEqual(p.steps.map((s) => [s.index, s.range.start.line, s.keyword, s.action, s.text]), [
        [0, 2, 'smmu init', 'arm_smmu_device_reset', 'smmu init'],
        [1, 3, 'domain', 'alloc_io_pgtable_ops', 'domain d1'],
        [2, 5, 'map', 'iommu_map', 'map d1 0 -> 0x1000'],
        [3, 6, 'attach', 'arm_smmu_attach_dev', 'attach 5 s1 d1'],
        [4, 7, 'dsb', 'dsb', 'dsb'],
      ]);
      assert.deepEqual([...p.sources], [[FILE, 'smmu sidsize=8\nsmmu init\ndomain d1\n\nmap d1 0 -> 0x1000  # c\nattach 5 s1 d1\ndsb']]);
    });

    it('reports parse and compile errors together, sorted by position', () => {
      const p = compile(['map d1 0 -> 0', 'mapp', 'domain d1', 'domain d1']);
      assert.equal(hasErrors(p), true);
      assert.deepEqual(diags(p), [
        `${FILE}:1:5 unknown domain 'd1'; define it first`,
        `${FILE}:2:1 unknown statement 'mapp' — did you mean 'map'?`,
        `${FILE}:4:8 'd1' is already defined as a domain at line 3; choose another name`,
      ]);
    });
  });

  describe('include', () => {
    it('resolves paths relative to the including file and compiles included statements in place', () => {
      const host = new FakeHost({
        'proj/lib/platform.smmu': 'smmu sidsize=8\ninclude "../common/consts.smmu"\n',
        'proj/common/consts.smmu': '# constants\nconst BASE = 0x1000',
      });
      const p = compileScenario('proj/main.smmu', 'include "lib/platform.smmu"\nsmmu init\ndma 5 read BASE', host);
      assert.deepEqual(diags(p), []);
      assert.deepEqual(host.resolves, [['proj/main.smmu', 'lib/platform.smmu'], ['proj/lib/platform.smmu', '../common/consts.smmu']]);
      assert.deepEqual(host.reads, ['proj/lib/platform.smmu', 'proj/common/consts.smmu']);
      assert.deepEqual([...p.sources.keys()], ['proj/main.smmu', 'proj/lib/platform.smmu', 'proj/common/consts.smmu']);
      // The included platform setting applies; the included constant is defined for the rest of the file.
      assert.equal(p.platform.features.sidBits, 8);
      assert.deepEqual(p.steps.map((s) => `${s.range.file}:${s.range.start.line} ${s.keyword}`),
        ['proj/common/consts.smmu:2 const', 'proj/main.smmu:2 smmu init', 'proj/main.smmu:3 dma']);
    });

    it('reports an include cycle at the include that closes it', () => {
      const host = new FakeHost({ 'a.smmu': 'include "b.smmu"', 'b.smmu': 'dsb\ninclude "a.smmu"' });
      const p = compileScenario('a.smmu', 'include "b.smmu"', host);
      assert.deepEqual(diags(p), ['b.smmu:2:9 "a.smmu" includes itself (a.smmu → b.smmu → a.smmu); remove the cycle']);
      assert.deepEqual(p.steps.map((s) => s.keyword), ['dsb']);
      const self = compileScenario('a.smmu', 'dsb\ninclude "a.smmu"', new FakeHost({}));
      assert.deepEqual(diags(self), ['a.smmu:2:9 "a.smmu" includes itself (a.smmu → a.smmu); remove the cycle']);
    });

    it('reports a file it cannot read, with the resolved path', () => {
      const p = compileScenario('dir/m.smmu', 'dsb\ninclude "nope.smmu"\nsync', new FakeHost({}));
      assert.deepEqual(diags(p), ['dir/m.smmu:2:9 cannot read "nope.smmu" (resolved to dir/nope.smmu); the path is relative to this file']);
      assert.deepEqual(p.steps.map((s) => s.keyword), ['dsb', 'sync']);
    });

    it('refuses a path the host does not allow, without reading it', () => {
      const host = new FakeHost({ 'secret.smmu': 'dsb' }, (path) => (path.startsWith('ws/') ? undefined : 'it is outside the workspace'));
      const p = compileScenario('ws/m.smmu', 'include "../secret.smmu"\ninclude "ok.smmu"', host);
      assert.deepEqual(diags(p), [
        'ws/m.smmu:1:9 cannot include "../secret.smmu": it is outside the workspace',
        'ws/m.smmu:2:9 cannot read "ok.smmu" (resolved to ws/ok.smmu); the path is relative to this file',
      ]);
      assert.deepEqual(host.reads, ['ws/ok.smmu']);
    });

    it('has no includes without a host', () => {
      assert.deepEqual(diags(compileScenario('m.smmu', 'include "x.smmu"')), ['m.smmu:1:9 cannot include "x.smmu": includes are not available here']);
      assert.deepEqual(diags(compileScenario('m.smmu', 'include "x.smmu"', NO_INCLUDES)), ['m.smmu:1:9 cannot include "x.smmu": includes are not available here']);
    });

    it('stops includes nested deeper than 16 files', () => {
      const files: Record<string, string> = {};
      for (let i = 1; i < 20; i++) files[`f${i}.smmu`] = `include "f${i + 1}.smmu"`;
      const p = compileScenario('f0.smmu', 'include "f1.smmu"', new FakeHost(files));
      assert.deepEqual(diags(p), ['f15.smmu:1:9 includes nest deeper than 16 files']);
      assert.equal(p.sources.size, 16);
    });

    it('locates errors in the included file', () => {
      const host = new FakeHost({ 'inc/lib.smmu': 'domain d1\nmapp d1 0 -> 0\nmap dd1 0 -> 0\n' });
      const p = compileScenario('main.smmu', 'smmu init\ninclude "inc/lib.smmu"\nmap d2 0 -> 0', host);
      assert.deepEqual(diags(p), [
        "inc/lib.smmu:2:1 unknown statement 'mapp' — did you mean 'map'?",
        "inc/lib.smmu:3:5 unknown domain 'dd1' — did you mean 'd1'?; domains: d1",
        "main.smmu:3:5 unknown domain 'd2' — did you mean 'd1'?; domains: d1",
      ]);
      assert.deepEqual(p.diagnostics.map((d) => d.range.file), ['inc/lib.smmu', 'inc/lib.smmu', 'main.smmu']);
    });

    it('locates run-time errors in the included file', () => {
      const host = new FakeHost({ 'inc/lib.smmu': 'alloc r 4K cacheable\nstore r + 4 1\n' });
      const p = compileScenario('main.smmu', 'include "inc/lib.smmu"\ndsb', host);
      assert.deepEqual(diags(p), []);
      const r = new Runner(p).runToEnd();
      assert.deepEqual(r.errors.map((d) => `${d.range.file}:${d.range.start.line}:${d.range.start.col} ${d.message}`),
        ['inc/lib.smmu:2:7 an 8-byte store must be aligned to 8; 0x40000004 is not']);
    });
  });
});
