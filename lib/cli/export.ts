// `unet export --model RUN --out model.onnx`: a trained or shipped model as an ONNX file.
import * as fs from 'node:fs';

import { exportOnnx, ONNX_OPSETS } from '../onnx/export';
import { loadTrainedModel } from '../unet/model-files';
import { PRETRAINED, resolveModel } from '../unet/pretrained';
import { integerOption } from './args';
import { defineCommand } from './command';

/** `unet export` */
export const exportCommand = defineCommand({
  name: 'export',
  synopsis: '--model RUN --out FILE.onnx [options]',
  flags: {
    model: {
      type: 'string',
      placeholder: 'RUN',
      help: `a training folder, a weights file beside a model.json, or a shipped model: ${Object.keys(PRETRAINED).join(', ')}`,
    },
    out: { type: 'string', placeholder: 'FILE', help: 'the ONNX file to write' },
    opset: { type: 'string', placeholder: 'N', help: `ONNX opset: ${Object.keys(ONNX_OPSETS).join(', ')} (default 17)` },
  },
  required: ['model', 'out'],
  epilogue: `The graph reads 'image' (batch × channels × height × width, normalised as model.json says)
and writes 'logits'; batch, height and width are dynamic (any valid tile size). Evaluation
semantics: batch normalisation uses its running statistics, drop-out is left out. The metadata
holds the tile rule (unet.tile) and model.json's normalisation, post-processing and TTA
(unet.model), which \`unet predict --engine onnxruntime\` applies.`,
  run(values) {
    const { model, weights, description } = loadTrainedModel(resolveModel(values.model!));
    try {
      exportOnnx(model, values.out!, { opset: integerOption('opset', values.opset), description });
    } finally {
      model.dispose();
    }
    process.stdout.write(`${weights} → ${values.out} (${(fs.statSync(values.out!).size / 1e6).toFixed(1)} MB)\n`);
    return 0;
  },
});
