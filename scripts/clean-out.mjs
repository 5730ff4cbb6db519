// Removes out/ (the compiled tests) so a test deleted from test/ does not keep running from
// an old compiled copy.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

rmSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'out'), { recursive: true, force: true });
