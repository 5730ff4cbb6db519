/** The statement table: every statement of the scenario language, in documentation order. */
import { StatementDef, define } from './def';
import { platform, smmu } from './platform';
import { alloc, barriers, clean, cleanInv, constDef, dmaSync, free, inval, readl, store, writeback, writelStatements } from './memory';
import { commandStatements } from './commands';
import { dma, stop, traffic } from './devices';
import { expectStatements } from './expect';
import { driverStatements } from './driver';
import { khoStatements } from './kho';
import { load } from './load';

/** `include` is resolved by the compiler itself; this entry gives its syntax and documentation. */
const include = define({
  keyword: 'include', section: 'structure',
  summary: 'Include another scenario file (its path is relative to this one)',
  examples: ['include "common/platform.smmu"'],
  params: [{ name: 'path', kind: 'string', doc: 'the file, relative to this one' }],
  compile: () => undefined,
});

export const STATEMENTS: readonly StatementDef[] = [
  platform, smmu, load,
  alloc, free, constDef,
  ...driverStatements,
  store, clean, cleanInv, inval, dmaSync, ...barriers, writeback, ...writelStatements, readl,
  ...commandStatements,
  dma, traffic, stop,
  ...expectStatements,
  ...khoStatements,
  include,
];
