// `npm start`: the main job. For now: decode a few representative descriptors with the CLI
// (an STE, a CD, a page-table entry, a command, an event, a register) and print what they mean.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'smmu-debug.js');

const samples = [
  ['The kernel\'s stage-1 STE (linear CD table, S1DSS=SSID0)', ['decode', 'ste', '0x000000004800f00b', '0xd6']],
  ['A stage-1 CD (4K granule, 48-bit VA, ASID 1)', ['decode', 'cd', '0x0001_e205_c000_3510', '0x40001000', '0', '0x00000000f404ff44']],
  ['A 4K level-3 page-table entry', ['decode', 'pte', '--stage', '1', '--granule', '4k', '--level', '3', '0x0000_0000_4012_3f47']],
  ['CMD_CFGI_STE for StreamID 0x42', ['decode', 'cmd', '0x0000004200000003', '0x1']],
  ['CMD_SYNC', ['decode', 'cmd', '0x0000000000002046', '0']],
  ['STRTAB_BASE_CFG (2-level, SPLIT 8, 16-bit StreamIDs)', ['decode', 'reg', 'STRTAB_BASE_CFG', '0x10210']],
];

let failed = false;
for (const [title, args] of samples) {
  console.log(`\n### ${title}\n$ smmu-debug ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
