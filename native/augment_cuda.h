// The augmentation kernels of our own on CUDA (augment_cuda.cc over remap_kernel.cu), built only
// where nvcc and a CUDA libtorch were found at install (UNET_WITH_CUDA_KERNELS).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace unet {

// remap() of augment.cc for CUDA tensors, in one fused kernel: out_k(n, c, y, x) =
// inputs_k(n, c, y + dy, x + dx) mirrored at the borders, each pixel's source point computed once.
std::vector<at::Tensor> remapCuda(const std::vector<at::Tensor>& inputs, const at::Tensor& field, const std::vector<std::string>& modes);

}  // namespace unet
