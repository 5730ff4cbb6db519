/**
 * The hazard rules: what can go wrong between the driver and an SMMU that fetches at any
 * time, caches what it fetched, and — when it does not snoop — reads only what reached PoC.
 * Each rule is also a breakpoint filter in the debugger.
 */

export type HazardSeverity = 'error' | 'warning';

export interface RuleInfo {
  readonly id: string;
  readonly severity: HazardSeverity;
  readonly title: string;
  /** What the rule checks, for the documentation and the breakpoint filter's description. */
  readonly description: string;
}

export const RULES: readonly RuleInfo[] = [
  {
    id: 'torn-update', severity: 'error', title: 'Torn or non-hitless update',
    description: 'A value the SMMU could read of an entry in use (any mix of its qwords the architecture allows) makes the SMMU do something ' +
      'that neither the old nor the new entry does: a C_BAD_STE/C_BAD_CD, another output address, ASID, VMID or permission.',
  },
  {
    id: 'torn-store', severity: 'warning', title: 'Plain store to a live descriptor',
    description: 'A store the compiler may split (a plain C assignment) writes a descriptor the SMMU can reach: the SMMU may see it half written.',
  },
  {
    id: 'stale-fetch', severity: 'error', title: 'Stale read by a non-coherent SMMU',
    description: 'The SMMU is told to look (CFGI/TLBI + CMD_SYNC, a doorbell, enabling, a new pointer) while a structure it reads has CPU writes ' +
      'that were never cleaned to PoC.',
  },
  {
    id: 'cmo-incomplete', severity: 'error', title: 'Clean not completed before the SMMU looks',
    description: 'The SMMU is told to look after a clean was issued but before a DSB completed it.',
  },
  {
    id: 'missing-barrier', severity: 'error', title: 'Publish not ordered after its data',
    description: 'A pointer, valid bit or doorbell can become visible to the SMMU before the stores it depends on: no barrier separates them.',
  },
  {
    id: 'stale-cache', severity: 'error', title: 'Stale configuration or TLB entry',
    description: 'The SMMU uses (or still holds at the end) a cached STE, CD or translation that no longer matches memory, with no invalidation completed by CMD_SYNC.',
  },
  {
    id: 'missing-tlbi', severity: 'error', title: 'Translation changed with no TLBI + CMD_SYNC',
    description: 'A valid page-table entry the SMMU can reach was cleared or changed (another output or table, fewer permissions), so a ' +
      'translation the SMMU could have cached (it may walk at any time) is stale, and no TLBI covering it (regime, address, Leaf=0 for ' +
      'a table descriptor) was completed by a CMD_SYNC before it could matter: a later DMA walking through the entry, a re-map of the ' +
      'entry, a free or reuse of the old page or table, or the end. When the TLB of the run does hold it, stale-cache reports it instead.',
  },
  {
    id: 'sync-missing', severity: 'error', title: 'Invalidation without CMD_SYNC',
    description: 'Invalidation commands were issued but the CPU went on (freed or reused memory, or the scenario ended) without a CMD_SYNC completing them.',
  },
  {
    id: 'table-reuse', severity: 'error', title: 'Table memory freed while reachable or cached',
    description: 'Memory holding a stream table, CD table, page table or queue is freed while the SMMU can still reach it or holds it in a cache.',
  },
  {
    id: 'lost-dirty', severity: 'error', title: 'Invalidate CMO discarded live data',
    description: 'An invalidate (DC IVAC) threw away dirty bytes of a structure the SMMU can reach.',
  },
  {
    id: 'illegal-reprogram', severity: 'error', title: 'Register written when the architecture forbids it',
    description: 'A register the architecture makes read-only while the SMMU or a queue is enabled was written (the write is ignored or UNPREDICTABLE).',
  },
  {
    id: 'unpreserved-reachable', severity: 'error', title: 'Memory the SMMU reaches is not preserved across kexec',
    description: 'At finalize or kexec, a page the SMMU can reach from its live configuration (stream table, L2 tables, CD tables, page ' +
      'tables at every level, queues) is not preserved, so the new kernel may reuse it while the SMMU reads it; or the new kernel overwrote ' +
      'such a page. Lists every page and the path that reaches it.',
  },
  {
    id: 'preserved-mutated', severity: 'error', title: 'Preserved memory written after finalize',
    description: 'The CPU wrote preserved memory after KHO was finalized: the preserved state and its description were frozen there.',
  },
  {
    id: 'restore-missing', severity: 'error', title: 'Preserved memory used without being restored',
    description: 'The new kernel writes or takes over preserved memory it has not restored, or finishes the live update (releasing that ' +
      'memory) while the SMMU still reaches it.',
  },
  {
    id: 'handover-dirty', severity: 'error', title: 'Table data dirty in the CPU cache at kexec',
    description: 'At kexec, entries a non-coherent SMMU can reach hold CPU writes never cleaned to PoC; kexec leaves them dirty and the ' +
      'new kernel does not know to clean them, so the SMMU reads the old values.',
  },
  {
    id: 'reset-during-handover', severity: 'error', title: 'SMMU reset while DMA is live across the handover',
    description: 'After kexec, the new kernel disables the SMMU (SMMUEN=0) while streams are configured or traffic runs: DMA aborts or bypasses translation.',
  },
  {
    id: 'set-bound', severity: 'warning', title: 'Observable set too large to check fully',
    description: 'An entry had more observable values than the configured bound; the rest were not judged. Raise the bound to check them.',
  },
];

export function ruleInfo(id: string): RuleInfo {
  const r = RULES.find((x) => x.id === id);
  if (!r) throw new Error(`unknown hazard rule '${id}'`);
  return r;
}
