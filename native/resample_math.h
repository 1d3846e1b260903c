// The resampling arithmetic the CPU kernel (augment.cc) and the CUDA kernel (remap_kernel.cu)
// share, so that the two compute the same points and weights: mirroring about the outer pixel
// centres (grid_sample's reflection with align_corners) and Keys' cubic kernel. Plain C++17 with
// no torch headers, compiled for the host by g++ and for host and device by nvcc.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define UNET_HOST_DEVICE __host__ __device__
#else
#define UNET_HOST_DEVICE
#endif

namespace unet::resample {

// A coordinate mirrored about the outer pixel centres 0 and size - 1 as often as needed. `x` must
// be finite.
UNET_HOST_DEVICE inline double reflect(double x, int64_t size) {
  const double span = static_cast<double>(size - 1);
  if (x >= 0 && x <= span) return x;
  if (size == 1) return 0;
  // One reflection covers every point within a span of the image, which is nearly all of them.
  const double once = x < 0 ? -x : 2 * span - x;
  if (once >= 0 && once <= span) return once;
  const double folded = fmod(fabs(x), 2 * span);
  const double mirrored = folded <= span ? folded : 2 * span - folded;
  return mirrored < span ? mirrored : span;
}

// reflect() for whole pixel positions, in integers: the mirror image repeats every 2 (size - 1).
UNET_HOST_DEVICE inline int64_t reflectIndex(int64_t index, int64_t size) {
  if (index >= 0 && index < size) return index;
  if (size == 1) return 0;
  const int64_t period = 2 * (size - 1);
  const int64_t folded = ((index % period) + period) % period;
  return folded < size ? folded : period - folded;
}

// Keys' cubic convolution kernel with a = -0.75, as PyTorch's bicubic modes use: the weights of
// the taps at -1, 0, 1 and 2 pixels for a point `t` in [0, 1) beyond tap 0.
template <typename Real>
UNET_HOST_DEVICE inline void cubicWeights(Real t, Real weights[4]) {
  const Real a = -0.75;
  const Real near0 = t, near1 = 1 - t, far0 = t + 1, far1 = 2 - t;
  weights[0] = ((a * far0 - 5 * a) * far0 + 8 * a) * far0 - 4 * a;
  weights[1] = ((a + 2) * near0 - (a + 3)) * near0 * near0 + 1;
  weights[2] = ((a + 2) * near1 - (a + 3)) * near1 * near1 + 1;
  weights[3] = ((a * far1 - 5 * a) * far1 + 8 * a) * far1 - 4 * a;
}

// floor() without a libm call (the x86-64 baseline has no rounding instruction).
UNET_HOST_DEVICE inline int64_t floorIndex(double x) {
  const int64_t truncated = static_cast<int64_t>(x);
  return truncated - (x < static_cast<double>(truncated) ? 1 : 0);
}

// Where output pixel `x` of `outputSize` samples a coarse grid of `gridSize` points in PyTorch's
// align_corners bicubic upsampling (upsample_bicubic2d): the four taps, clamped to the grid, and
// their weights.
struct CubicTaps {
  int64_t index[4];
  double weight[4];
};

UNET_HOST_DEVICE inline CubicTaps cubicTaps(int64_t gridSize, int64_t outputSize, int64_t x) {
  const double scale = outputSize > 1 ? static_cast<double>(gridSize - 1) / static_cast<double>(outputSize - 1) : 0;
  const double real = scale * static_cast<double>(x);
  const int64_t first = floorIndex(real);
  CubicTaps taps;
  cubicWeights(real - static_cast<double>(first), taps.weight);
  for (int k = 0; k < 4; ++k) {
    const int64_t index = first - 1 + k;
    taps.index[k] = index < 0 ? 0 : (index > gridSize - 1 ? gridSize - 1 : index);
  }
  return taps;
}

// The taps' weighted sum of values[index * stride], added in upsample_bicubic2d's order. The CPU
// and CUDA field compositions sum in this order, without fused multiply-adds (field_kernel.cu is
// compiled with --fmad=false), so that the two give the same bits.
UNET_HOST_DEVICE inline double sumTaps(const CubicTaps& taps, const double* values, int64_t stride) {
  return values[taps.index[0] * stride] * taps.weight[0] + values[taps.index[1] * stride] * taps.weight[1] +
         values[taps.index[2] * stride] * taps.weight[2] + values[taps.index[3] * stride] * taps.weight[3];
}

// One component of a pixel's displacement: its source point offset + m0·qy + m1·qx (q: the
// elastically moved pixel about the centre, offset: the centre plus the shift) minus its position.
UNET_HOST_DEVICE inline float displacement(double m0, double m1, double qy, double qx, double offset, double position) {
  return static_cast<float>((m0 * qy + m1 * qx + offset) - position);
}

}  // namespace unet::resample
