/** Commands through the in-memory command queue: raw, invalidations as the driver issues them, CMD_SYNC. */
import { FieldInput } from '../../arch/codec';
import { commandByName, COMMANDS } from '../../arch/commands';
import { didYouMean } from '../../arch/suggest';
import { command, Command, issueCommands } from '../../driver/cmdq';
import { rangeCommands } from '../../driver/tlbi';
import { DriverError } from '../../driver/context';
import { arg, exprArg, evaluate, streamArg } from '../compile-context';
import { ScenarioError } from '../diagnostics';
import { StepContext } from '../program';
import { define, StatementDef } from './def';
import { addr, uses } from './memory';
import { Expr } from '../ast';

export const cmd = define({
  keyword: 'cmd', section: 'commands',
  summary: 'Put any command in the command queue (no CMD_SYNC), fields by name',
  examples: ['cmd CFGI_STE StreamID=5 Leaf=1', 'cmd TLBI_NH_VA ASID=1 Address=0x10000 Leaf=1 TG=1 NUM=15'],
  params: [{ name: 'command', kind: 'name', doc: 'the command (CMD_ prefix optional)' }],
  fields: 'the command\'s fields by name (see `smmu-debug decode cmd`)',
  compile(st, cx) {
    uses(cx, ...[...st.fields.values()].map((a) => (a.value.kind === 'expr' ? a.value.expr : undefined)));
    const name = arg(st, 'command')!.value.kind === 'word' ? (arg(st, 'command')!.value as { word: string }).word : '';
    const layout = commandByName(name);
    if (!layout) {
      cx.error(arg(st, 'command')!.range, `unknown command '${name}'${didYouMean(name, COMMANDS.map((c) => c.name.replace(/^CMD_/, '')))}`);
      return undefined;
    }
    return {
      action: layout.name,
      *run(c) {
        const fields: Record<string, FieldInput> = {};
        for (const [k, a] of st.fields) fields[k] = a.value.kind === 'expr' ? evaluate(a.value.expr, c.env) : '';
        let words: Command;
        try {
          words = command(layout.name, fields);
        } catch (e) {
          throw new ScenarioError(st.range, (e as Error).message);
        }
        yield* issueCommands(c, [words], false);
      },
    };
  },
});

export const sync = define({
  keyword: 'sync', section: 'commands',
  summary: 'CMD_SYNC: wait until the SMMU has completed every earlier command',
  examples: ['sync'],
  params: [],
  compile(_st, cx) {
    uses(cx);
    return { action: 'CMD_SYNC', *run(c) { yield* issueCommands(c, [], true); } };
  },
});

const leafFlag = { leaf: 'only the last level (Leaf=1)' };

export const cfgiSte = define({
  keyword: 'cfgi ste', section: 'commands',
  summary: 'CMD_CFGI_STE: invalidate a StreamID\'s cached STE (and CDs fetched through it)',
  examples: ['cfgi ste 5 leaf'],
  params: [{ name: 'sid', kind: 'expr', doc: 'the StreamID' }],
  flags: leafFlag,
  compile(st, cx) {
    uses(cx, exprArg(st, 'sid'));
    return {
      action: 'CMD_CFGI_STE',
      *run(c) {
        yield* issueCommands(c, [command('CFGI_STE', { StreamID: addr(c, exprArg(st, 'sid')!, 'the StreamID'), Leaf: st.flags.has('leaf') ? 1 : 0 })], false);
      },
    };
  },
});

export const cfgiCd = define({
  keyword: 'cfgi cd', section: 'commands',
  summary: 'CMD_CFGI_CD: invalidate one cached CD of a stream',
  examples: ['cfgi cd 5:0 leaf'],
  params: [{ name: 'stream', kind: 'stream', doc: 'StreamID:SubstreamID' }],
  flags: leafFlag,
  compile(st, cx) {
    const s = streamArg(st, 'stream')!;
    uses(cx, s.sid, s.ssid);
    return {
      action: 'CMD_CFGI_CD',
      *run(c) {
        yield* issueCommands(c, [command('CFGI_CD', {
          StreamID: addr(c, s.sid, 'the StreamID'), SubstreamID: s.ssid ? addr(c, s.ssid, 'the SubstreamID') : 0, Leaf: st.flags.has('leaf') ? 1 : 0,
        })], false);
      },
    };
  },
});

export const cfgiAll = define({
  keyword: 'cfgi all', section: 'commands',
  summary: 'CMD_CFGI_ALL: invalidate every cached STE and CD',
  examples: ['cfgi all'],
  params: [],
  compile(_st, cx) {
    uses(cx);
    return { action: 'CMD_CFGI_ALL', *run(c) { yield* issueCommands(c, [command('CFGI_ALL', { Range: 31 })], false); } };
  },
});

function idArg(c: StepContext, e: Expr, what: string): number {
  return addr(c, e, what);
}

export const tlbiAsid = define({
  keyword: 'tlbi asid', section: 'commands',
  summary: 'CMD_TLBI_NH_ASID: invalidate every stage-1 entry of an ASID',
  examples: ['tlbi asid 1', 'tlbi asid 1 vmid=3'],
  params: [{ name: 'asid', kind: 'expr', doc: 'the ASID' }],
  options: { vmid: { kind: 'expr', doc: 'the VMID (default 0)' } },
  compile(st, cx) {
    uses(cx, exprArg(st, 'asid'), exprArg(st, 'vmid'));
    return {
      action: 'CMD_TLBI_NH_ASID',
      *run(c) {
        const vmid = exprArg(st, 'vmid') ? idArg(c, exprArg(st, 'vmid')!, 'the VMID') : 0;
        yield* issueCommands(c, [command('TLBI_NH_ASID', { ASID: idArg(c, exprArg(st, 'asid')!, 'the ASID'), VMID: vmid })], false);
      },
    };
  },
});

export const tlbiVmid = define({
  keyword: 'tlbi vmid', section: 'commands',
  summary: 'CMD_TLBI_S12_VMALL: invalidate every entry of a VMID (stage 1 and 2)',
  examples: ['tlbi vmid 3'],
  params: [{ name: 'vmid', kind: 'expr', doc: 'the VMID' }],
  compile(st, cx) {
    uses(cx, exprArg(st, 'vmid'));
    return {
      action: 'CMD_TLBI_S12_VMALL',
      *run(c) { yield* issueCommands(c, [command('TLBI_S12_VMALL', { VMID: idArg(c, exprArg(st, 'vmid')!, 'the VMID') })], false); },
    };
  },
});

export const tlbiAll = define({
  keyword: 'tlbi all', section: 'commands',
  summary: 'CMD_TLBI_NSNH_ALL: invalidate every Non-secure non-hypervisor entry',
  examples: ['tlbi all'],
  params: [],
  compile(_st, cx) {
    uses(cx);
    return { action: 'CMD_TLBI_NSNH_ALL', *run(c) { yield* issueCommands(c, [command('TLBI_NSNH_ALL')], false); } };
  },
});

export const tlbiVa = define({
  keyword: 'tlbi va', section: 'commands',
  summary: 'CMD_TLBI_NH_VA over a range, as the driver issues it (range commands with RIL)',
  examples: ['tlbi va 0x10000 size=64K asid=1 leaf', 'tlbi va 0x10000 size=2M asid=1 granule=4K'],
  params: [{ name: 'iova', kind: 'expr', doc: 'start of the range' }],
  options: {
    size: { kind: 'expr', doc: 'bytes (default one granule)' },
    asid: { kind: 'expr', doc: 'the ASID' },
    vmid: { kind: 'expr', doc: 'the VMID (default 0)' },
    granule: { kind: 'expr', doc: 'the size of the leaf entries being invalidated (default 4K): sets TTL' },
  },
  flags: leafFlag,
  compile(st, cx) {
    uses(cx, exprArg(st, 'iova'), exprArg(st, 'size'), exprArg(st, 'asid'), exprArg(st, 'vmid'), exprArg(st, 'granule'));
    if (!exprArg(st, 'asid')) cx.error(st.keywordRange, '`tlbi va` needs asid=');
    return {
      action: 'CMD_TLBI_NH_VA',
      *run(c) {
        const granule = exprArg(st, 'granule') ? addr(c, exprArg(st, 'granule')!, 'the granule') : 4096;
        const size = exprArg(st, 'size') ? addr(c, exprArg(st, 'size')!, 'the size') : granule;
        const base = { ASID: idArg(c, exprArg(st, 'asid')!, 'the ASID'), VMID: exprArg(st, 'vmid') ? idArg(c, exprArg(st, 'vmid')!, 'the VMID') : 0 };
        try {
          yield* issueCommands(c, rangeCommands({
            name: 'TLBI_NH_VA', fields: base, iova: addr(c, exprArg(st, 'iova')!), size, pageSize: 4096, granule, leaf: st.flags.has('leaf'),
            ril: c.machine.smmu.features.rangeInvalidation,
          }), false);
        } catch (e) {
          if (e instanceof DriverError) throw new ScenarioError(st.range, e.message);
          throw e;
        }
      },
    };
  },
});

export const tlbiIpa = define({
  keyword: 'tlbi ipa', section: 'commands',
  summary: 'CMD_TLBI_S2_IPA over a range, as the driver issues it',
  examples: ['tlbi ipa 0x8000_0000 size=2M vmid=3 leaf'],
  params: [{ name: 'ipa', kind: 'expr', doc: 'start of the range' }],
  options: {
    size: { kind: 'expr', doc: 'bytes (default one granule)' },
    vmid: { kind: 'expr', doc: 'the VMID' },
    granule: { kind: 'expr', doc: 'the size of the leaf entries being invalidated (default 4K): sets TTL' },
  },
  flags: leafFlag,
  compile(st, cx) {
    uses(cx, exprArg(st, 'ipa'), exprArg(st, 'size'), exprArg(st, 'vmid'), exprArg(st, 'granule'));
    if (!exprArg(st, 'vmid')) cx.error(st.keywordRange, '`tlbi ipa` needs vmid=');
    return {
      action: 'CMD_TLBI_S2_IPA',
      *run(c) {
        const granule = exprArg(st, 'granule') ? addr(c, exprArg(st, 'granule')!, 'the granule') : 4096;
        const size = exprArg(st, 'size') ? addr(c, exprArg(st, 'size')!, 'the size') : granule;
        try {
          yield* issueCommands(c, rangeCommands({
            name: 'TLBI_S2_IPA', fields: { VMID: idArg(c, exprArg(st, 'vmid')!, 'the VMID') }, iova: addr(c, exprArg(st, 'ipa')!), size,
            pageSize: 4096, granule, leaf: st.flags.has('leaf'), ril: c.machine.smmu.features.rangeInvalidation,
          }), false);
        } catch (e) {
          if (e instanceof DriverError) throw new ScenarioError(st.range, e.message);
          throw e;
        }
      },
    };
  },
});

export const atcInv = define({
  keyword: 'atc_inv', section: 'commands',
  summary: 'CMD_ATC_INV: invalidate a device\'s ATC (everything, or a range)',
  examples: ['atc_inv 5', 'atc_inv 5:1 0x10000 size=64K'],
  params: [
    { name: 'stream', kind: 'stream', doc: 'StreamID[:SubstreamID]' },
    { name: 'iova', kind: 'expr', optional: true, doc: 'start of the range (default: everything)' },
  ],
  options: { size: { kind: 'expr', doc: 'bytes' } },
  compile(st, cx) {
    const s = streamArg(st, 'stream')!;
    uses(cx, s.sid, s.ssid, exprArg(st, 'iova'), exprArg(st, 'size'));
    return {
      action: 'CMD_ATC_INV',
      *run(c) {
        const fields: Record<string, FieldInput> = { StreamID: addr(c, s.sid, 'the StreamID') };
        if (s.ssid) Object.assign(fields, { SSV: 1, SubstreamID: addr(c, s.ssid, 'the SubstreamID') });
        const iova = exprArg(st, 'iova');
        if (!iova) {
          fields.Size = 52;
        } else {
          // The smallest naturally aligned power-of-two span of 4K pages covering the range.
          const start = addr(c, iova);
          const end = start + (exprArg(st, 'size') ? addr(c, exprArg(st, 'size')!, 'the size') : 4096) - 1;
          const log2Span = Math.max(12, Math.ceil(Math.log2((start ^ end) + 1)));
          fields.Size = log2Span - 12;
          fields.Address = Math.floor(start / 2 ** log2Span) * 2 ** log2Span;
        }
        yield* issueCommands(c, [command('ATC_INV', fields)], false);
      },
    };
  },
});

export const commandStatements: StatementDef[] = [cmd, sync, cfgiSte, cfgiCd, cfgiAll, tlbiAsid, tlbiVmid, tlbiAll, tlbiVa, tlbiIpa, atcInv];
