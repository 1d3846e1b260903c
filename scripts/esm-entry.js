'use strict';
// Writes dist/index.mjs: an ES module that re-exports the CommonJS build by name, so that
// `import { torch } from 'unet-torch'` and `require('unet-torch')` share one loaded addon.
const fs = require('node:fs');
const path = require('node:path');

const dist = path.resolve(__dirname, '..', 'dist');
const names = Object.keys(require(path.join(dist, 'index.js'))).filter((name) => name !== '__esModule');
const body = ["import cjs from './index.js';", `export const { ${names.join(', ')} } = cjs;`, 'export default cjs;', ''].join('\n');
fs.writeFileSync(path.join(dist, 'index.mjs'), body);
