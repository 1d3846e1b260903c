// The augmentation's displacement fields composed on the GPU, one thread per output pixel: the
// elastic part (control points upsampled as upsample_bicubic2d with align_corners) and the affine
// map about the tile's centre, in double precision. The arithmetic and its order are those of the
// CPU (augment.cc's composeField, through resample_math.h), and this file is compiled without fused
// multiply-adds (CMakeLists.txt), so the field of a seed is the same bits on the CPU and on any GPU.
#include <cuda_runtime.h>

#include "field_kernel.h"
#include "resample_math.h"

namespace unet::kernels {

namespace {

using resample::CubicTaps;
using resample::cubicTaps;
using resample::sumTaps;

__global__ void composeFieldKernel(const double* points, const double* affine, int64_t samples, int64_t gridY, int64_t gridX,
                                   int64_t height, int64_t width, float* field) {
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t plane = height * width;
  if (index >= samples * plane) return;
  const int64_t sample = index / plane, y = (index % plane) / width, x = index % width;
  double elasticY = 0, elasticX = 0;
  if (points != nullptr) {
    const CubicTaps rowTaps = cubicTaps(gridY, height, y), columnTaps = cubicTaps(gridX, width, x);
    for (int component = 0; component < 2; ++component) {
      // Along x on the four grid rows the pixel's row taps, then along y, as the CPU.
      const double* grid = points + (sample * 2 + component) * gridY * gridX;
      double alongX[4];
      for (int k = 0; k < 4; ++k) alongX[k] = sumTaps(columnTaps, grid + rowTaps.index[k] * gridX, 1);
      const double elastic =
          alongX[0] * rowTaps.weight[0] + alongX[1] * rowTaps.weight[1] + alongX[2] * rowTaps.weight[2] + alongX[3] * rowTaps.weight[3];
      (component == 0 ? elasticY : elasticX) = elastic;
    }
  }
  const double* m = affine + sample * 6;
  const double centreY = static_cast<double>(height - 1) / 2, centreX = static_cast<double>(width - 1) / 2;
  const double row = static_cast<double>(y), column = static_cast<double>(x);
  const double qy = row + elasticY - centreY, qx = column + elasticX - centreX;
  field[2 * index] = resample::displacement(m[0], m[1], qy, qx, centreY + m[4], row);
  field[2 * index + 1] = resample::displacement(m[2], m[3], qy, qx, centreX + m[5], column);
}

}  // namespace

const char* launchComposeField(const double* points, const double* affine, int64_t samples, int64_t gridY, int64_t gridX, int64_t height,
                               int64_t width, float* field, void* stream) {
  const int64_t pixels = samples * height * width;
  if (pixels == 0) return nullptr;
  constexpr int threads = 256;
  const auto blocks = static_cast<unsigned int>((pixels + threads - 1) / threads);
  composeFieldKernel<<<blocks, threads, 0, static_cast<cudaStream_t>(stream)>>>(points, affine, samples, gridY, gridX, height, width,
                                                                                field);
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

}  // namespace unet::kernels
