#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('smmu-debug: the CLI is not built yet; run `npm run build` in the package folder first\n');
  process.exit(2);
}
require(cli);
