// ONNX out: the U-Net family as ONNX graphs for onnxruntime (Node, the browser) and any ONNX runtime.
export { exportOnnx, ONNX_OPSETS, tileRule, unetToOnnx } from './export';
export type { ExportOnnxOptions } from './export';
export { ONNX_INPUT, ONNX_METADATA, ONNX_OUTPUT, readOnnxMetadata, unetMetadata } from './metadata';
export type { TileRule, UNetMetadata } from './metadata';
