// The CUDA field composition (field_kernel.cu), declared without torch's headers, as
// remap_kernel.h: only augment_cuda.cc calls it, with torch's tensors taken apart into pointers.
#pragma once

#include <cstdint>

namespace unet::kernels {

// field(n, y, x) = the displacement (dy, dx), float32, of control points (N, 2, gy, gx) upsampled
// bicubically (none where `points` is null) followed by the affine maps (N, 6) about the tile's
// centre, all float64 and contiguous on the current device: what augment.cc's composeField
// computes on the CPU, to the bit. On `stream` (a cudaStream_t). Returns null, or CUDA's message
// when the launch failed.
const char* launchComposeField(const double* points, const double* affine, int64_t samples, int64_t gridY, int64_t gridX, int64_t height,
                               int64_t width, float* field, void* stream);

}  // namespace unet::kernels
