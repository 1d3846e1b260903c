// `unet-torch/onnx`: segmentation with an exported U-Net over onnxruntime, without libtorch. This
// entry point and everything it imports never load the addon (test/engine.test.ts checks).
export { loadOnnxSegmenter, nodeRuntime } from './node';
export { OnnxSegmenter } from './segmenter';
export type { OrtRuntime, OrtSession, OrtTensor, Segmentation, SegmentOptions } from './segmenter';
export type { ImageRaster, LabelRaster } from '../raster/image';
export type { Planes, TileRunner } from '../raster/tiles';
export { decodeImagePng, decodeLabelPng } from '../raster/png';
export { decodeImageTiff, decodeLabelTiff } from '../raster/tiff';
export type { TileRule, UNetMetadata } from '../onnx/metadata';
