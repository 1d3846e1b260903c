// The torch side of the augmentation's CUDA kernels: takes the tensors augment.cc has checked, makes
// the results and launches the kernels of remap_kernel.cu and field_kernel.cu on the current
// stream of their device.
#include "augment_cuda.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>

#include "field_kernel.h"
#include "remap_kernel.h"

namespace unet {

namespace {

kernels::RemapElement elementOf(const at::Tensor& input, kernels::RemapMode mode) {
  if (input.scalar_type() == at::kFloat) return kernels::RemapElement::Float32;
  if (input.scalar_type() == at::kDouble) return kernels::RemapElement::Float64;
  TORCH_CHECK_VALUE(mode == kernels::RemapMode::Nearest, "the CUDA kernel interpolates float32 and float64 inputs, got ",
                    input.scalar_type());
  switch (input.element_size()) {
    case 1:
      return kernels::RemapElement::Bytes1;
    case 2:
      return kernels::RemapElement::Bytes2;
    case 4:
      return kernels::RemapElement::Bytes4;
    default:
      TORCH_CHECK_VALUE(input.element_size() == 8, "'nearest' copies elements of 1, 2, 4 or 8 bytes, got ", input.scalar_type());
      return kernels::RemapElement::Bytes8;
  }
}

}  // namespace

std::vector<at::Tensor> remapCuda(const std::vector<at::Tensor>& inputs, const at::Tensor& field,
                                  const std::vector<kernels::RemapMode>& modes) {
  const int64_t samples = field.size(0), height = field.size(1), width = field.size(2);
  const c10::cuda::CUDAGuard guard(field.device());
  std::vector<at::Tensor> sources, results;
  std::vector<kernels::RemapTarget> targets;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const kernels::RemapElement element = elementOf(inputs[k], modes[k]);
    sources.push_back(inputs[k].contiguous());
    results.push_back(at::empty_like(sources.back(), at::MemoryFormat::Contiguous));
    targets.push_back({sources.back().const_data_ptr(), results.back().mutable_data_ptr(), inputs[k].size(1), modes[k], element});
  }
  const at::Tensor displacement = (field.scalar_type() == at::kDouble ? field : field.to(at::kFloat)).contiguous();
  void* stream = c10::cuda::getCurrentCUDAStream(field.device().index()).stream();
  for (size_t first = 0; first < targets.size(); first += kernels::kRemapTargetsPerLaunch) {
    const int count = static_cast<int>(std::min<size_t>(kernels::kRemapTargetsPerLaunch, targets.size() - first));
    const char* failure = kernels::launchRemap(targets.data() + first, count, displacement.const_data_ptr(),
                                               displacement.scalar_type() == at::kDouble, samples, height, width, stream);
    TORCH_CHECK(failure == nullptr, "the CUDA remap kernel did not launch: ", failure);
  }
  return results;
}

at::Tensor composeFieldCuda(const std::optional<at::Tensor>& controlPoints, const at::Tensor& affine, int64_t gridY, int64_t gridX,
                            int64_t height, int64_t width) {
  const c10::cuda::CUDAGuard guard(affine.device());
  const at::Tensor maps = affine.to(at::kDouble).contiguous();
  const at::Tensor points = controlPoints ? controlPoints->to(at::kDouble).contiguous() : at::Tensor();
  at::Tensor field = at::empty({affine.size(0), height, width, 2}, affine.options().dtype(at::kFloat));
  void* stream = c10::cuda::getCurrentCUDAStream(affine.device().index()).stream();
  const char* failure =
      kernels::launchComposeField(controlPoints ? points.const_data_ptr<double>() : nullptr, maps.const_data_ptr<double>(), affine.size(0),
                                  gridY, gridX, height, width, field.mutable_data_ptr<float>(), stream);
  TORCH_CHECK(failure == nullptr, "the CUDA field kernel did not launch: ", failure);
  return field;
}

}  // namespace unet
