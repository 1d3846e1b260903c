// Images and label images as plain typed arrays, with no libtorch: what the readers decode to,
// and what the ONNX engine and the browser page work on.

/** An image: float32 samples, planar (C × H × W), row-major within a plane. */
export interface ImageRaster {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

/** A label image: int32 ids, row-major H × W (0 the background). */
export interface LabelRaster {
  height: number;
  width: number;
  data: Int32Array;
}
