// The augmentation kernels of our own on CUDA (augment_cuda.cc over remap_kernel.cu), built only
// where nvcc and a CUDA libtorch were found at install (UNET_WITH_CUDA_KERNELS).
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "remap_kernel.h"

namespace unet {

// remap() of augment.cc for CUDA tensors, in one fused kernel: out_k(n, c, y, x) =
// inputs_k(n, c, y + dy, x + dx) mirrored at the borders, each pixel's source point computed once.
// The arguments have passed augment.cc's checks (checkRemap), which parsed the modes.
std::vector<at::Tensor> remapCuda(const std::vector<at::Tensor>& inputs, const at::Tensor& field,
                                  const std::vector<kernels::RemapMode>& modes);

}  // namespace unet
