'use strict';
// Command-line arguments of the benchmarks' side processes. No dependencies: bench/onnx-side.js
// must not load the addon.

/** The command line's arguments from `from` on as numbers; a missing or non-numeric one is an error naming its position. */
function numberArguments(/** @type {string[]} */ args, /** @type {number} */ count, from = 0) {
  return Array.from({ length: count }, (_, k) => {
    const value = Number(args[from + k]);
    if (args[from + k] === undefined || !Number.isFinite(value))
      throw new Error(`argument ${from + k + 1} must be a number, got ${args[from + k]}`);
    return value;
  });
}

/** A preset name from the command line. */
function presetArgument(/** @type {string | undefined} */ name) {
  if (name !== 'ronneberger2015' && name !== 'compact' && name !== 'padded')
    throw new Error(`expected a preset (ronneberger2015, compact, padded), got ${name}`);
  return name;
}

module.exports = { numberArguments, presetArgument };
