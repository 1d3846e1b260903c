// The fused CUDA remap (remap_kernel.cu), declared without torch's headers: the .cu is compiled by
// nvcc as C++17, which CMake 3.25 offers for CUDA where torch's headers need C++20. Only
// augment_cuda.cc calls it, with torch's tensors taken apart into pointers and sizes.
#pragma once

#include <cstdint>

namespace unet::kernels {

enum class RemapMode : int { Nearest, Bilinear, Bicubic };

// How a target's elements are read: interpolation takes float32 or float64; 'nearest' copies
// elements of any type by their size.
enum class RemapElement : int { Float32, Float64, Bytes1, Bytes2, Bytes4, Bytes8 };

// One tensor (N, C, H, W), contiguous, to resample into `result` (the same shape).
struct RemapTarget {
  const void* source;
  void* result;
  int64_t channels;
  RemapMode mode;
  RemapElement element;
};

// Targets sampled from one computation of each pixel's source point.
constexpr int kRemapTargetsPerLaunch = 8;

// out_k(n, c, y, x) = target_k(n, c, y + dy, x + dx) with (dy, dx) = field(n, y, x) (float32 or
// float64, (N, H, W, 2), contiguous), mirrored about the outer pixel centres, on `stream` (a
// cudaStream_t) of the current device; at most kRemapTargetsPerLaunch targets. Returns null, or
// CUDA's message when the launch failed.
const char* launchRemap(const RemapTarget* targets, int count, const void* field, bool fieldIsDouble, int64_t samples, int64_t height,
                        int64_t width, void* stream);

}  // namespace unet::kernels
