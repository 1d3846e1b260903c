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

}  // namespace unet::resample
