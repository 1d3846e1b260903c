// Where the package is installed: the one path the addon loader, the shipped models, the sample
// data and the reference scripts are found from. It loads nothing, so any layer may use it.
import * as path from 'node:path';

/** The folder holding package.json: one level above both lib/ (tests) and dist/ (the build). */
export const packageRoot = path.resolve(__dirname, '..');
