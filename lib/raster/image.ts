// Images and label images as plain typed arrays, with no libtorch: what the readers decode to,
// and what the ONNX engine and the browser page work on.

/** An image: float32 samples, planar (C × H × W), row-major within a plane. */
export interface ImageRaster {
  /** C: 1 for gray, 3 for RGB. */
  channels: number;
  /** H, in pixels. */
  height: number;
  /** W, in pixels. */
  width: number;
  /** The samples, plane after plane, each row-major. */
  data: Float32Array;
}

/** A label image: int32 ids, row-major H × W (0 the background). */
export interface LabelRaster {
  /** H, in pixels. */
  height: number;
  /** W, in pixels. */
  width: number;
  /** The ids, row-major. */
  data: Int32Array;
}
