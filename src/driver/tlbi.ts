/**
 * TLB invalidation as the driver issues it (__arm_smmu_tlb_inv_range): with range
 * invalidation, commands that each cover NUM+1 << SCALE pages of the smallest page size;
 * without, one command per granule.
 */
import { FieldInput } from '../arch/codec';
import { command, Command } from './cmdq';
import { DriverError } from './context';

/** CMDQ_TLBI_RANGE_NUM_MAX: NUM is 5 bits. */
const NUM_MAX = 31;

export interface RangeInvalidation {
  readonly name: 'TLBI_NH_VA' | 'TLBI_EL2_VA' | 'TLBI_S2_IPA';
  /** ASID/VMID fields. */
  readonly fields: Readonly<Record<string, FieldInput>>;
  readonly iova: number;
  readonly size: number;
  /** The smallest page size of the domain (its granule): the range commands count these. */
  readonly pageSize: number;
  /** The size of the leaves being invalidated (the mapping's page or block size). */
  readonly granule: number;
  /** Last level only (an unmap); false also invalidates walk caches (a table freed). */
  readonly leaf: boolean;
  /** SMMU_IDR3.RIL. */
  readonly ril: boolean;
}

export function rangeCommands(r: RangeInvalidation): Command[] {
  const tg = Math.log2(r.pageSize);
  if (![12, 14, 16].includes(tg)) throw new DriverError(`page size 0x${r.pageSize.toString(16)} is not 4K, 16K or 64K`);
  if (r.size === 0) return [];
  if (r.iova % r.pageSize !== 0 || r.size % r.pageSize !== 0) {
    throw new DriverError(`range 0x${r.iova.toString(16)}+0x${r.size.toString(16)} is not aligned to the ${r.pageSize / 1024}K page size`);
  }
  const cmds: Command[] = [];
  const end = r.iova + r.size;
  const base = { ...r.fields, Leaf: r.leaf ? 1 : 0 };
  if (!r.ril) {
    for (let a = r.iova; a < end; a += r.granule) cmds.push(command(r.name, { ...base, Address: a }));
    return cmds;
  }
  let pages = r.size / r.pageSize;
  const extra: Record<string, FieldInput> = { TG: (tg - 10) / 2 };
  if (r.leaf) {
    // The level of the leaves: TTL = 4 - (log2(granule) - 3) / (tg - 3).
    extra.TTL = 4 - Math.floor((Math.log2(r.granule) - 3) / (tg - 3));
  } else if ((pages & NUM_MAX) === 1) {
    // Non-leaf: TTL stays 0, so NUM = SCALE = 0 would be an illegal command: cover two pages.
    pages++;
  }
  for (let a = r.iova; a < end;) {
    let scale = 0;
    while (Math.floor(pages / 2 ** scale) % 2 === 0) scale++;
    const num = Math.floor(pages / 2 ** scale) & NUM_MAX;
    cmds.push(command(r.name, { ...base, ...extra, Address: a, NUM: num - 1, SCALE: scale }));
    a += num * 2 ** scale * r.pageSize;
    pages -= num * 2 ** scale;
  }
  return cmds;
}
