// Resampling through a displacement field on the GPU, fused: one thread per output pixel computes
// its source point once, in double precision, and samples every target from it (image bicubic,
// labels nearest, weight map bilinear), where the torch-ops path runs one grid_sample per target
// in float64. The arithmetic is that of the CPU kernel (augment.cc, with which it shares
// resample_math.h) and of grid_sample with align_corners and reflection padding, so the three agree
// to float32 rounding.
#include <cuda_runtime.h>

#include "remap_kernel.h"
#include "resample_math.h"

namespace unet::kernels {

namespace {

using resample::cubicWeights;
using resample::reflect;
using resample::reflectIndex;

struct TargetList {
  RemapTarget targets[kRemapTargetsPerLaunch];
  int count;
};

// Where one output pixel samples: the whole pixel at or before its mirrored source point, the
// fraction beyond it, and the nearest pixel (half to even, as grid_sample rounds).
struct SourcePoint {
  int64_t row, column, nearestRow, nearestColumn;
  double rowFraction, columnFraction;
};

template <typename Real>
__device__ void interpolate(const RemapTarget& target, const SourcePoint& p, int64_t sample, int64_t pixel, int64_t height, int64_t width) {
  const Real* source = static_cast<const Real*>(target.source) + sample * target.channels * height * width;
  Real* result = static_cast<Real*>(target.result) + sample * target.channels * height * width;
  const int64_t plane = height * width;
  const Real ty = static_cast<Real>(p.rowFraction), tx = static_cast<Real>(p.columnFraction);
  if (target.mode == RemapMode::Bilinear) {
    const int64_t y1 = min(p.row + 1, height - 1), x1 = min(p.column + 1, width - 1);
    for (int64_t c = 0; c < target.channels; ++c) {
      const Real* s = source + c * plane;
      const Real top = s[p.row * width + p.column] * (1 - tx) + s[p.row * width + x1] * tx;
      const Real bottom = s[y1 * width + p.column] * (1 - tx) + s[y1 * width + x1] * tx;
      result[c * plane + pixel] = top * (1 - ty) + bottom * ty;
    }
    return;
  }
  Real wy[4], wx[4];
  cubicWeights(ty, wy);
  cubicWeights(tx, wx);
  int64_t rows[4], columns[4];
  for (int k = 0; k < 4; ++k) {
    rows[k] = reflectIndex(p.row - 1 + k, height) * width;
    columns[k] = reflectIndex(p.column - 1 + k, width);
  }
  for (int64_t c = 0; c < target.channels; ++c) {
    const Real* s = source + c * plane;
    // Rows weighted and summed for each tap column first, then the columns, as the CPU kernel.
    Real sums[4];
    for (int j = 0; j < 4; ++j) {
      sums[j] = wy[0] * s[rows[0] + columns[j]];
      for (int k = 1; k < 4; ++k) sums[j] += wy[k] * s[rows[k] + columns[j]];
    }
    result[c * plane + pixel] = (wx[0] * sums[0] + wx[2] * sums[2]) + (wx[1] * sums[1] + wx[3] * sums[3]);
  }
}

template <typename Element>
__device__ void copyNearest(const RemapTarget& target, const SourcePoint& p, int64_t sample, int64_t pixel, int64_t height, int64_t width) {
  const int64_t plane = height * width;
  const Element* source = static_cast<const Element*>(target.source) + sample * target.channels * plane;
  Element* result = static_cast<Element*>(target.result) + sample * target.channels * plane;
  const int64_t from = p.nearestRow * width + p.nearestColumn;
  for (int64_t c = 0; c < target.channels; ++c) result[c * plane + pixel] = source[c * plane + from];
}

template <typename Displacement>
__global__ void remapKernel(TargetList list, const Displacement* field, int64_t samples, int64_t height, int64_t width) {
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t plane = height * width;
  if (index >= samples * plane) return;
  const int64_t sample = index / plane, pixel = index % plane;
  double row = static_cast<double>(pixel / width) + static_cast<double>(field[2 * index]);
  double column = static_cast<double>(pixel % width) + static_cast<double>(field[2 * index + 1]);
  // As on the CPU, a point that is not finite is taken as (0, 0); the caller checks the field.
  if (!isfinite(row) || !isfinite(column)) row = column = 0;
  row = reflect(row, height);
  column = reflect(column, width);
  SourcePoint p;
  p.row = static_cast<int64_t>(row);  // mirrored points are >= 0, where truncation is floor
  p.column = static_cast<int64_t>(column);
  p.rowFraction = row - static_cast<double>(p.row);
  p.columnFraction = column - static_cast<double>(p.column);
  p.nearestRow = static_cast<int64_t>(rint(row));
  p.nearestColumn = static_cast<int64_t>(rint(column));
  for (int k = 0; k < list.count; ++k) {
    const RemapTarget& target = list.targets[k];
    switch (target.element) {
      case RemapElement::Float32:
        if (target.mode == RemapMode::Nearest)
          copyNearest<uint32_t>(target, p, sample, pixel, height, width);
        else
          interpolate<float>(target, p, sample, pixel, height, width);
        break;
      case RemapElement::Float64:
        if (target.mode == RemapMode::Nearest)
          copyNearest<uint64_t>(target, p, sample, pixel, height, width);
        else
          interpolate<double>(target, p, sample, pixel, height, width);
        break;
      case RemapElement::Bytes1:
        copyNearest<uint8_t>(target, p, sample, pixel, height, width);
        break;
      case RemapElement::Bytes2:
        copyNearest<uint16_t>(target, p, sample, pixel, height, width);
        break;
      case RemapElement::Bytes4:
        copyNearest<uint32_t>(target, p, sample, pixel, height, width);
        break;
      case RemapElement::Bytes8:
        copyNearest<uint64_t>(target, p, sample, pixel, height, width);
        break;
    }
  }
}

}  // namespace

const char* launchRemap(const RemapTarget* targets, int count, const void* field, bool fieldIsDouble, int64_t samples, int64_t height,
                        int64_t width, void* stream) {
  if (count < 1 || count > kRemapTargetsPerLaunch) return "launchRemap: between 1 and kRemapTargetsPerLaunch targets";
  const int64_t pixels = samples * height * width;
  if (pixels == 0) return nullptr;
  TargetList list{};
  for (int k = 0; k < count; ++k) list.targets[k] = targets[k];
  list.count = count;
  constexpr int threads = 256;
  const auto blocks = static_cast<unsigned int>((pixels + threads - 1) / threads);
  const auto cudaStream = static_cast<cudaStream_t>(stream);
  if (fieldIsDouble)
    remapKernel<<<blocks, threads, 0, cudaStream>>>(list, static_cast<const double*>(field), samples, height, width);
  else
    remapKernel<<<blocks, threads, 0, cudaStream>>>(list, static_cast<const float*>(field), samples, height, width);
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

}  // namespace unet::kernels
