'use strict';
// A quick end-to-end check of a built addon (UNET_TORCH_ADDON picks which): create, compute,
// read back, catch an error, free.
const assert = require('node:assert/strict');
const { torch } = require('../dist/index.js');

const result = torch.tidy(() => torch.tensor([1, 2, 3], { dtype: 'float32' }).mul(2).add(1).toArray());
assert.deepEqual(result, [3, 5, 7]);
assert.throws(() => torch.zeros([2, 3]).matmul(torch.zeros([2, 3])), /matmul\(\): mat1 and mat2 shapes cannot be multiplied/);
assert.equal(torch.memory().liveTensors, 2);
const facts = torch.info();
console.log(
  `smoke: ok: libtorch ${facts.libtorchVersion}, CUDA build ${facts.cudaBuild}, CUDA available ${facts.cudaAvailable}, ` +
    `distributed ${facts.distributedBackends.join(' and ')}, ${facts.addon}`,
);
