// The augmentation kernels of our own on CUDA (augment_cuda.cc over remap_kernel.cu), built only
// where nvcc and a CUDA libtorch were found at install (UNET_WITH_CUDA_KERNELS).
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>
#include <vector>

#include "remap_kernel.h"

namespace unet {

// remap() of augment.cc for CUDA tensors, in one fused kernel: out_k(n, c, y, x) =
// inputs_k(n, c, y + dy, x + dx) mirrored at the borders, each pixel's source point computed once.
// The arguments have passed augment.cc's checks (checkRemap), which parsed the modes.
std::vector<at::Tensor> remapCuda(const std::vector<at::Tensor>& inputs, const at::Tensor& field,
                                  const std::vector<kernels::RemapMode>& modes);

// composeField() of augment.cc for CUDA tensors (affine, and the control points where given, on
// one CUDA device; checked by augment.cc): the same fields, to the bit, on that device.
at::Tensor composeFieldCuda(const std::optional<at::Tensor>& controlPoints, const at::Tensor& affine, int64_t gridY, int64_t gridX,
                            int64_t height, int64_t width);

}  // namespace unet
