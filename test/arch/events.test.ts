import { strict as assert } from 'node:assert';
import { decode, describe as describeText, FieldError, setField } from '../../src/arch/codec';
import { ArchContext, bitsInWord, fieldWidth, Layout, mask } from '../../src/arch/field';
import {
  encodeEvent, EVENT_CLASS, eventById, eventByName, eventLayoutFor, EVENTS, PRI_RECORD,
} from '../../src/arch/events';

/** Problems of `layout` for `words` with the given rule id. */
function problems(layout: Layout, words: readonly bigint[], rule: string, ctx: ArchContext = {}) {
  return decode(layout, words, ctx).problems.filter((p) => p.rule === rule);
}

function event(name: string): Layout {
  const e = eventByName(name);
  assert.ok(e, name);
  return e;
}

describe('arch/events', () => {
  describe('hand-worked records', () => {
    it('F_TRANSLATION: SID 0x10, no SSID, unprivileged data read of 0x12345000, stage 1, CLASS IN, no stall', () => {
      // qword 0: EventNumber [7:0] = 0x10; SSV [11] = 0; SubstreamID [31:12] = 0; StreamID [63:32] = 0x10
      //   → 0x10 << 32 | 0x10 = 0x0000_0010_0000_0010
      // qword 1 (bits 64..127, so subtract 64): RnW [99] → bit 35 → 1 << 35 = 0x8_0000_0000
      //   CLASS [105:104] = 2 (IN) → bits [41:40] → 2 << 40 = 0x200_0000_0000
      //   PnU [97] = 0 (unprivileged), InD [98] = 0 (data), S2 [103] = 0, Stall [95] = 0, STAG = 0
      //   → 0x200_0000_0000 + 0x8_0000_0000 = 0x0000_0208_0000_0000
      // qword 2: InputAddr [191:128] = 0x12345000
      // qword 3: IPA [247:204] = 0 (UNKNOWN for a stage 1 fault)
      const expected = [0x0000001000000010n, 0x0000020800000000n, 0x0000000012345000n, 0n];
      const words = encodeEvent('F_TRANSLATION', {
        StreamID: 0x10, SSV: 0, RnW: 1, PnU: 0, InD: 0, S2: 0, CLASS: 'IN', Stall: 0, InputAddr: 0x12345000n,
      });
      assert.deepEqual(words, expected);
      // The same through the Linux spellings.
      assert.deepEqual(encodeEvent('evt_id_translation_fault', { sid: 0x10, rnw: true, class: 2, addr: 0x12345000 }), expected);

      const layout = eventLayoutFor(expected);
      assert.equal(layout.kind, 'event.F_TRANSLATION');
      assert.equal(layout.title, 'F_TRANSLATION (translation fault)');
      const d = decode(layout, expected);
      assert.equal(d.get('sid'), 0x10n);
      assert.equal(d.get('CLASS'), 2n);
      assert.equal(d.field('CLASS')?.valueName, 'IN');
      assert.equal(d.get('InputAddr'), 0x12345000n);
      assert.equal(d.field('SubstreamID')?.relevant, false, 'SSV 0: SubstreamID is UNKNOWN');
      assert.equal(d.field('IPA')?.relevant, false, 'stage 1 fault: IPA is UNKNOWN');
      assert.equal(d.field('STAG')?.relevant, false, 'no stall: STAG means nothing');
      assert.deepEqual(d.problems, []);
      assert.equal(d.summary, 'F_TRANSLATION: SID 0x10 read of IOVA 0x12345000 (stage 1, input address), no stall');
    });

    it('F_TRANSLATION with SSID 0 reads as the developer writes it', () => {
      // SID 5, SSV 1, SubstreamID 0, read of 0x10000 at stage 1.
      const w = encodeEvent('F_TRANSLATION', { sid: 5, ssv: 1, ssid: 0, rnw: 1, class: 'IN', addr: 0x10000 });
      assert.equal(decode(eventLayoutFor(w), w).summary,
        'F_TRANSLATION: SID 5 SSID 0 read of IOVA 0x10000 (stage 1, input address), no stall');
    });

    it('C_BAD_STE for SID 3', () => {
      // qword 0: StreamID 3 << 32 | EventNumber 0x04 = 0x0000_0003_0000_0004; every other bit RES0.
      const expected = [0x0000000300000004n, 0n, 0n, 0n];
      assert.deepEqual(encodeEvent('C_BAD_STE', { sid: 3 }), expected);
      const d = decode(eventLayoutFor(expected), expected);
      assert.equal(d.layout.kind, 'event.C_BAD_STE');
      assert.deepEqual(d.problems, []);
      assert.equal(d.summary, 'C_BAD_STE: SID 3 — the STE is invalid or ILLEGAL');
    });

    it('F_WALK_EABT: stage 1 walk abort with FetchAddr', () => {
      // SID 5, SSV 1, SSID 1, read (RnW 1) of 0x80000000, stage 1 (S2 0), CLASS TT (1), Reason 0x12,
      // descriptor at PA 0x4_8000_0ff8.
      // qword 0: 5 << 32 | SSID 1 << 12 (0x1000) | SSV 1 << 11 (0x800) | 0x0b = 0x0000_0005_0000_180b
      // qword 1: Reason [79:64] → bits [15:0] = 0x12; RnW [99] → 1 << 35 = 0x8_0000_0000;
      //   CLASS [105:104] = 1 → 1 << 40 = 0x100_0000_0000 → 0x0000_0108_0000_0012
      // qword 2: InputAddr = 0x8000_0000
      // qword 3: FetchAddr [247:195] holds PA[55:3] at qword bits [55:3], so the qword is the PA: 0x4_8000_0ff8
      const expected = [0x000000050000180bn, 0x0000010800000012n, 0x0000000080000000n, 0x0000000480000ff8n];
      const w = encodeEvent('F_WALK_EABT', {
        sid: 5, ssv: 1, ssid: 1, rnw: 1, s2: 0, class: 'TT', Reason: 0x12, addr: 0x80000000, fetch_addr: 0x480000ff8n,
      });
      assert.deepEqual(w, expected);
      const d = decode(eventLayoutFor(expected), expected);
      assert.equal(d.get('FetchAddr'), 0x480000ff8n);
      assert.equal(d.field('FetchAddr')?.raw, 0x480000ff8n >> 3n);
      assert.deepEqual(d.problems, []);
      assert.equal(d.summary, 'F_WALK_EABT: SID 5 SSID 1 read of IOVA 0x80000000 (stage 1, stage 1 table walk): ' +
        'descriptor fetch of 0x480000ff8 failed');
      assert.throws(() => encodeEvent('F_WALK_EABT', { fetch_addr: 0x480000ffcn }), FieldError,
        'FetchAddr holds bits [55:3] only');
    });

    it('E_PAGE_REQUEST: 16 KB hint, unprivileged read/write', () => {
      // SID 0x20, SSV 1, SSID 7, InputAddr 0x7f00_1234_5000, Span 4 (4 x 4 KB), uR and uW.
      // qword 0: 0x20 << 32 | 7 << 12 (0x7000) | 1 << 11 (0x800) | 0x24 = 0x0000_0020_0000_7824
      // qword 1: uR [99] → 1 << 35 = 0x8_0000_0000; uW [98] → 1 << 34 = 0x4_0000_0000;
      //   Span [115:108] → bits [51:44] → 4 << 44 = 0x4000_0000_0000 → 0x0000_400c_0000_0000
      // qword 2: InputAddr [191:140] = address bits [63:12] at qword bits [63:12] → 0x0000_7f00_1234_5000
      const expected = [0x0000002000007824n, 0x0000400c00000000n, 0x00007f0012345000n, 0n];
      const w = encodeEvent('E_PAGE_REQUEST', { sid: 0x20, ssv: 1, ssid: 7, uR: 1, uW: 1, Span: 4, addr: 0x7f0012345000n });
      assert.deepEqual(w, expected);
      const d = decode(eventLayoutFor(expected), expected);
      assert.match(d.field('Span')!.text, /16 KB/);
      assert.deepEqual(d.problems, []);
      assert.equal(d.summary, 'E_PAGE_REQUEST: SID 0x20 SSID 7 will access 4 page(s) at 0x7f0012345000 (uR uW) — ' +
        'a hint, no response needed');
    });

    it('F_BAD_ATS_TREQ: R/W/X/P and Span sit in qword 1 from the top', () => {
      // SID 2, no PASID, R and W requested, Span 1, InputAddr 0x4000_0000.
      // qword 0: 2 << 32 | 0x05 = 0x0000_0002_0000_0005
      // qword 1: R [95] → bit 31 = 0x8000_0000; W [94] → bit 30 = 0x4000_0000; Span [67:64] → bits [3:0] = 1
      //   → 0xc000_0001
      // qword 2: InputAddr[63:12] in qword bits [63:12] → 0x4000_0000
      const expected = [0x0000000200000005n, 0xc0000001n, 0x40000000n, 0n];
      assert.deepEqual(encodeEvent('F_BAD_ATS_TREQ', { sid: 2, read: 1, write: 1, Span: 1, addr: 0x40000000 }), expected);
      const d = decode(eventLayoutFor(expected), expected);
      assert.deepEqual(d.problems, []);
      assert.match(d.summary, /ATS Translation Request for 0x40000000 \(RW, 1 STUs\) refused/);
    });

    it('PRI record: page request with PASID, read+write, last of PRG 5', () => {
      // qword 0: StreamID [31:0] = 0x10; SubstreamID [51:32] = 3 → 0x3_0000_0000;
      //   R [60], W [61], Last [62], SSV [63] → 0x1000…, 0x2000…, 0x4000…, 0x8000… (16 digits) = 0xf000_0000_0000_0000
      //   → 0xf000_0003_0000_0010
      // qword 1: PRGIndex [72:64] → bits [8:0] = 5; PageAddress [127:76] = address bits [63:12] → 0x1234_5000
      //   → 0x0000_0000_1234_5005
      const expected = [0xf000000300000010n, 0x0000000012345005n];
      const d = decode(PRI_RECORD, expected);
      assert.equal(d.get('sid'), 0x10n);
      assert.equal(d.get('ssid'), 3n);
      assert.equal(d.get('R'), 1n);
      assert.equal(d.get('W'), 1n);
      assert.equal(d.get('X'), 0n);
      assert.equal(d.get('Priv'), 0n);
      assert.equal(d.get('prg_last'), 1n);
      assert.equal(d.get('ssid_v'), 1n);
      assert.equal(d.get('prg_idx'), 5n);
      assert.equal(d.get('addr'), 0x12345000n);
      assert.deepEqual(d.problems, []);
      assert.equal(d.summary, 'SID 0x10 SSID 3 page request for 0x12345000 (read, write), PRG 5, ' +
        'last — answer the group with CMD_PRI_RESP');
      assert.equal(PRI_RECORD.kind, 'pri');
      assert.equal(PRI_RECORD.words, 2);
    });

    it('PRI record: Last with no R/W and a PASID is a stop marker', () => {
      // qword 0: SID 1 | SSID 2 << 32 | Last 1 << 62 | SSV 1 << 63 = 0xc000_0002_0000_0001; qword 1: PRG 0.
      const d = decode(PRI_RECORD, [0xc000000200000001n, 0n]);
      assert.match(d.summary, /stop marker/);
    });

    it('unknown event 0x7e decodes raw with a warning; 0xe3 is IMPLEMENTATION DEFINED', () => {
      // qword 0: StreamID 0x10 << 32 | 0x7e = 0x0000_0010_0000_007e
      const words = [0x000000100000007en, 0n, 0n, 0n];
      const layout = eventLayoutFor(words);
      assert.equal(layout.kind, 'event.unknown');
      assert.equal(eventLayoutFor(words), layout, 'one layout per number');
      const d = decode(layout, words);
      assert.equal(d.get('EventNumber'), 0x7en);
      const p = d.problems.filter((x) => x.rule === 'reserved-value');
      assert.equal(p.length, 1);
      assert.equal(p[0].field, 'EventNumber');
      assert.equal(p[0].severity, 'warning');
      assert.equal(d.problems.filter((x) => x.rule === 'res0').length, 0, 'unknown contents are not RES0');
      assert.match(d.summary, /unknown event 0x7e/);

      const impdef = eventLayoutFor([0xe3n, 0n, 0n, 0n]);
      assert.equal(impdef.kind, 'event.IMPDEF_EVENT3');
      assert.deepEqual(decode(impdef, [0xffffffffffffffe3n, ~0n, ~0n, ~0n]).problems, []);
    });
  });

  describe('the table', () => {
    it('holds every event type the architecture defines', () => {
      const ids = EVENTS.filter((e) => e.id < 0xe0).map((e) => [e.id, e.name]);
      assert.deepEqual(ids, [
        [0x01, 'F_UUT'], [0x02, 'C_BAD_STREAMID'], [0x03, 'F_STE_FETCH'], [0x04, 'C_BAD_STE'],
        [0x05, 'F_BAD_ATS_TREQ'], [0x06, 'F_STREAM_DISABLED'], [0x07, 'F_TRANSL_FORBIDDEN'],
        [0x08, 'C_BAD_SUBSTREAMID'], [0x09, 'F_CD_FETCH'], [0x0a, 'C_BAD_CD'], [0x0b, 'F_WALK_EABT'],
        [0x10, 'F_TRANSLATION'], [0x11, 'F_ADDR_SIZE'], [0x12, 'F_ACCESS'], [0x13, 'F_PERMISSION'],
        [0x20, 'F_TLB_CONFLICT'], [0x21, 'F_CFG_CONFLICT'], [0x24, 'E_PAGE_REQUEST'], [0x25, 'F_VMS_FETCH'],
      ]);
      const impdef = EVENTS.filter((e) => e.id >= 0xe0);
      assert.deepEqual(impdef.map((e) => e.id), Array.from({ length: 16 }, (_, i) => 0xe0 + i));
      assert.equal(impdef[15].name, 'IMPDEF_EVENT15');
      for (const e of EVENTS) {
        assert.equal(e.kind, `event.${e.name}`);
        assert.match(e.title, new RegExp(`^${e.name} \\(.+\\)$`));
        assert.ok(e.cause.length > 10, e.name);
        assert.equal(e.words, 4);
        assert.equal(e.wordBits, 64);
        assert.equal(eventById(e.id), e);
        assert.equal(eventLayoutFor([BigInt(e.id), 0n, 0n, 0n]), e);
        // Every record is 256 bits, all accounted for.
        assert.equal(e.fields.reduce((n, f) => n + fieldWidth(f), 0), 256, e.name);
      }
      assert.equal(eventById(0x7e), undefined);
    });

    it('puts the common fields where the specification does', () => {
      const at = (l: Layout, name: string) => {
        const f = l.fields.find((x) => x.name === name);
        return f ? [f.hi, f.lo] : undefined;
      };
      const t = event('F_TRANSLATION');
      assert.deepEqual(at(t, 'StreamID'), [63, 32]);
      assert.deepEqual(at(t, 'SubstreamID'), [31, 12]);
      assert.deepEqual(at(t, 'SSV'), [11, 11]);
      assert.deepEqual(at(t, 'STAG'), [79, 64]);
      assert.deepEqual(at(t, 'Stall'), [95, 95]);
      assert.deepEqual(at(t, 'NSIPA'), [100, 100]);
      assert.deepEqual(at(t, 'S2'), [103, 103]);
      assert.deepEqual(at(t, 'IPA'), [247, 204]);
      assert.deepEqual(at(event('F_PERMISSION'), 'TTRnW'), [108, 108]);
      assert.deepEqual(at(event('F_STE_FETCH'), 'GPCF'), [80, 80]);
      // F_STREAM_DISABLED and F_TRANSL_FORBIDDEN have no SubstreamID; C_BAD_SUBSTREAMID has no SSV.
      assert.equal(at(event('F_STREAM_DISABLED'), 'SSV'), undefined);
      assert.equal(at(event('F_TRANSL_FORBIDDEN'), 'SubstreamID'), undefined);
      assert.equal(at(event('C_BAD_SUBSTREAMID'), 'SSV'), undefined);
      assert.deepEqual(at(event('C_BAD_SUBSTREAMID'), 'SubstreamID'), [31, 12]);
    });

    it('EVENT_CLASS names the four CLASS encodings', () => {
      assert.deepEqual(EVENT_CLASS.map((c) => [c.value, c.name, !!c.reserved]),
        [[0, 'CD', false], [1, 'TT', false], [2, 'IN', false], [3, 'Reserved', true]]);
    });

    it('finds events by any spelling', () => {
      for (const n of ['F_TRANSLATION', 'f_translation', 'EVT_F_TRANSLATION', 'evt_id_translation_fault', 'translation']) {
        assert.equal(eventByName(n)?.id, 0x10, n);
      }
      assert.equal(eventByName('EVT_ID_BAD_STE_CONFIG')?.name, 'C_BAD_STE');
      assert.equal(eventByName('EVT_ID_VMS_FETCH_FAULT')?.name, 'F_VMS_FETCH');
      assert.equal(eventByName('page_request')?.name, 'E_PAGE_REQUEST');
      assert.equal(eventByName('impdef_event7')?.id, 0xe7);
      assert.equal(eventByName('F_NOPE'), undefined);
    });

    it('encodeEvent refuses unknown names and contradicting numbers', () => {
      assert.throws(() => encodeEvent('F_TRANSLATON', {}), /did you mean 'F_TRANSLATION'/);
      assert.throws(() => encodeEvent('F_TRANSLATION', { id: 0x11 }), /contradicts/);
      assert.deepEqual(encodeEvent('F_TRANSLATION', { id: 0x10 }), [0x10n, 0n, 0n, 0n]);
      assert.throws(() => encodeEvent('C_BAD_STE', { addr: 1 }), /has no field 'addr'/);
    });

    it('round-trips every named field of every record', () => {
      for (const layout of [...EVENTS, PRI_RECORD]) {
        for (const f of layout.fields) {
          if (f.kind === 'reserved') continue;
          const [, lo] = bitsInWord(layout, f);
          const ones = mask(fieldWidth(f));
          let value = f.kind === 'address' ? ones << BigInt(lo) : ones;
          if (f.kind === 'enum') value = BigInt(Math.max(...f.values!.filter((v) => !v.reserved).map((v) => v.value)));
          const words = setField(layout, [], f.name, value);
          const d = decode(layout, words);
          assert.equal(d.get(f.name), value, `${layout.kind}.${f.name}`);
          for (const g of d.fields) {
            if (g.spec !== f) assert.equal(g.raw, 0n, `${layout.kind}.${f.name} leaked into ${g.spec.name}`);
          }
          assert.deepEqual(setField(layout, words, f.name, 0), new Array(layout.words).fill(0n));
        }
      }
    });

    it('describes a record field by field', () => {
      const w = encodeEvent('F_PERMISSION', { sid: 5, ssv: 1, s2: 1, class: 'TT', tt_read: 1, ipa: 0x80001000n, rnw: 1 });
      const text = describeText(decode(eventLayoutFor(w), w));
      assert.match(text, /TTRnW\s+1\[44\]/);
      assert.match(text, /IPA\s+3\[55:12\]\s+0x80001000/);
      assert.match(decode(eventLayoutFor(w), w).summary,
        /SID 5 SSID 0 read of IOVA 0x0 \(stage 2, stage 1 table walk, IPA 0x80001000\); table walk read denied, no stall/);
    });
  });

  describe('rules', () => {
    const T = () => event('F_TRANSLATION');
    const good = () => encodeEvent('F_TRANSLATION', { sid: 1, rnw: 1, class: 'IN', addr: 0x1000 });

    it('event-id: a record decoded with another event\'s layout', () => {
      const w = encodeEvent('F_ACCESS', { sid: 1, rnw: 1, class: 'IN' });
      const p = problems(T(), w, 'event-id');
      assert.equal(p.length, 1);
      assert.equal(p[0].severity, 'error');
      assert.equal(p[0].field, 'EventNumber');
      assert.deepEqual(problems(T(), good(), 'event-id'), []);
    });

    it('ignored: SubstreamID set while SSV is 0', () => {
      const bad = encodeEvent('C_BAD_STE', { sid: 1, ssid: 5 });
      const p = problems(event('C_BAD_STE'), bad, 'ignored');
      assert.deepEqual(p.map((x) => x.field), ['SubstreamID']);
      assert.deepEqual(problems(event('C_BAD_STE'), encodeEvent('C_BAD_STE', { sid: 1, ssv: 1, ssid: 5 }), 'ignored'), []);
      // C_BAD_SUBSTREAMID has no SSV: its SubstreamID always counts.
      assert.deepEqual(problems(event('C_BAD_SUBSTREAMID'), encodeEvent('C_BAD_SUBSTREAMID', { ssid: 5 }), 'ignored'), []);
    });

    it('range: StreamID and SubstreamID beyond IDR1.SIDSIZE / SSIDSIZE', () => {
      const ctx = { sidSize: 4, ssidSize: 2 };
      const bad = encodeEvent('C_BAD_CD', { sid: 0x10, ssv: 1, ssid: 4 });
      assert.deepEqual(problems(event('C_BAD_CD'), bad, 'range', ctx).map((x) => x.field).sort(), ['StreamID', 'SubstreamID']);
      assert.deepEqual(problems(event('C_BAD_CD'), encodeEvent('C_BAD_CD', { sid: 0xf, ssv: 1, ssid: 3 }), 'range', ctx), []);
      // Without the context nothing is checked.
      assert.deepEqual(problems(event('C_BAD_CD'), bad, 'range'), []);
      // C_BAD_STREAMID exists to report StreamIDs out of range.
      assert.deepEqual(problems(event('C_BAD_STREAMID'), encodeEvent('C_BAD_STREAMID', { sid: 0x10 }), 'range', ctx), []);
    });

    it('range: IPA and FetchAddr beyond IDR5.OAS', () => {
      const ctx = { oas: 40 };
      const over = encodeEvent('F_TRANSLATION', { s2: 1, rnw: 1, class: 'IN', ipa: 1n << 40n });
      assert.deepEqual(problems(T(), over, 'range', ctx).map((x) => x.field), ['IPA']);
      const under = encodeEvent('F_TRANSLATION', { s2: 1, rnw: 1, class: 'IN', ipa: (1n << 40n) - 0x1000n });
      assert.deepEqual(problems(T(), under, 'range', ctx), []);
      const fetch = encodeEvent('F_STE_FETCH', { sid: 1, fetch_addr: 1n << 44n });
      assert.deepEqual(problems(event('F_STE_FETCH'), fetch, 'range', { oas: 44 }).map((x) => x.field), ['FetchAddr']);
      assert.deepEqual(problems(event('F_STE_FETCH'), fetch, 'range', { oas: 48 }), []);
    });

    it('inconsistent: InD on a write', () => {
      const bad = encodeEvent('F_TRANSLATION', { rnw: 0, ind: 1, class: 'IN' });
      assert.deepEqual(problems(T(), bad, 'inconsistent').map((x) => x.field), ['InD']);
      const fetch = encodeEvent('F_TRANSLATION', { rnw: 1, ind: 1, class: 'IN' });
      assert.deepEqual(problems(T(), fetch, 'inconsistent'), []);
      assert.match(decode(T(), fetch).summary, /instruction fetch of IOVA/);
    });

    it('inconsistent: NSIPA on a stage 1 fault', () => {
      const bad = encodeEvent('F_TRANSLATION', { rnw: 1, nsipa: 1, class: 'IN' });
      assert.deepEqual(problems(T(), bad, 'inconsistent').map((x) => x.field), ['NSIPA']);
      const ok = encodeEvent('F_TRANSLATION', { rnw: 1, nsipa: 1, s2: 1, class: 'IN' });
      assert.deepEqual(problems(T(), ok, 'inconsistent'), []);
    });

    it('inconsistent: CLASS of a stage 1 fault', () => {
      const bad = encodeEvent('F_ACCESS', { rnw: 1, class: 'TT' });
      assert.deepEqual(problems(event('F_ACCESS'), bad, 'inconsistent').map((x) => x.field), ['CLASS']);
      const s2 = encodeEvent('F_ACCESS', { rnw: 1, s2: 1, class: 'TT' });
      assert.deepEqual(problems(event('F_ACCESS'), s2, 'inconsistent'), []);
      // F_WALK_EABT reports stage 1 walk aborts as CLASS TT, not IN.
      const walk = event('F_WALK_EABT');
      assert.deepEqual(problems(walk, encodeEvent('F_WALK_EABT', { rnw: 1, class: 'IN' }), 'inconsistent')
        .map((x) => x.field), ['CLASS']);
      assert.deepEqual(problems(walk, encodeEvent('F_WALK_EABT', { rnw: 1, class: 'TT' }), 'inconsistent'), []);
    });

    it('inconsistent: Overlay and AssuredOnly only at stage 2', () => {
      const P = event('F_PERMISSION');
      const bad = encodeEvent('F_PERMISSION', { rnw: 1, class: 'IN', overlay: 1, assuredonly: 1 });
      assert.deepEqual(problems(P, bad, 'inconsistent').map((x) => x.field), ['Overlay', 'AssuredOnly']);
      const ok = encodeEvent('F_PERMISSION', { rnw: 1, class: 'IN', s2: 1, overlay: 1, assuredonly: 1 });
      assert.deepEqual(problems(P, ok, 'inconsistent'), []);
    });

    it('inconsistent: an ATS Translation Request without R', () => {
      const A = event('F_BAD_ATS_TREQ');
      assert.deepEqual(problems(A, encodeEvent('F_BAD_ATS_TREQ', { w: 1, span: 1 }), 'inconsistent').map((x) => x.field), ['R']);
      assert.deepEqual(problems(A, encodeEvent('F_BAD_ATS_TREQ', { r: 1, span: 1 }), 'inconsistent'), []);
    });

    it('range: E_PAGE_REQUEST with Span 0', () => {
      const E = event('E_PAGE_REQUEST');
      assert.deepEqual(problems(E, encodeEvent('E_PAGE_REQUEST', { ur: 1 }), 'range').map((x) => x.field), ['Span']);
      assert.deepEqual(problems(E, encodeEvent('E_PAGE_REQUEST', { ur: 1, span: 1 }), 'range'), []);
    });

    it('unsupported: Stall on an SMMU without stalls', () => {
      const stalled = encodeEvent('F_TRANSLATION', { rnw: 1, class: 'IN', stall: 1, stag: 0x42 });
      const p = problems(T(), stalled, 'unsupported', { stallModel: 1 });
      assert.deepEqual(p.map((x) => x.field), ['Stall']);
      assert.deepEqual(problems(T(), stalled, 'unsupported', { stallModel: 0 }), []);
      assert.match(decode(T(), stalled).summary, /stalled, STAG 0x42$/);
    });

    it('generic checks: reserved CLASS and RES0 bits', () => {
      const reserved = setField(T(), good(), 'CLASS', 3);
      assert.deepEqual(problems(T(), reserved, 'reserved-value').map((x) => x.field), ['CLASS']);
      // Bit 96 is RES0 in F_TRANSLATION: qword 1 bit 32.
      const w = good();
      w[1] |= 1n << 32n;
      assert.deepEqual(problems(T(), w, 'res0').map((x) => x.field), ['RES0[96]']);
      // IMPL_DEF [127:112] may hold anything.
      const impl = good();
      impl[1] |= 0xffffn << 48n;
      assert.deepEqual(decode(T(), impl).problems, []);
    });

    it('PRI: SubstreamID, X and Priv without a PASID', () => {
      // SSV 0 with SSID 3 (3 << 32), X [59] and Priv [58] set: 0x0c00_0003_0000_0001.
      const bad = [0x0c00000300000001n, 0n];
      assert.deepEqual(problems(PRI_RECORD, bad, 'ignored').map((x) => x.field), ['SubstreamID']);
      assert.deepEqual(problems(PRI_RECORD, bad, 'inconsistent').map((x) => x.field), ['X', 'Priv']);
      // The same with SSV [63] set: 0x8c00_0003_0000_0001.
      const ok = [0x8c00000300000001n, 0n];
      assert.deepEqual(problems(PRI_RECORD, ok, 'ignored'), []);
      assert.deepEqual(problems(PRI_RECORD, ok, 'inconsistent'), []);
      assert.deepEqual(problems(PRI_RECORD, ok, 'range', { ssidSize: 1 }).map((x) => x.field), ['SubstreamID']);
      assert.deepEqual(problems(PRI_RECORD, ok, 'range', { ssidSize: 2 }), []);
    });
  });
});
