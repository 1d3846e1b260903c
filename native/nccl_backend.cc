// Constructs c10d's NCCL backend, as torch.distributed's _create_nccl_process_group does. Built only
// where the libtorch has CUDA and NCCL's and CUDA's headers were found at install (CMakeLists.txt,
// binding.gyp, scripts/libtorch.js); like gloo_backend.cc, this file only constructs: every
// collective then runs through the virtual c10d::Backend interface.
#define USE_C10D_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include "distributed.h"

namespace unet {

c10::intrusive_ptr<c10d::Backend> createNcclBackend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                    std::chrono::milliseconds timeout, const std::string& groupName) {
  // Python's default options: a normal-priority stream; the group's timeout, name and ranks.
  c10::intrusive_ptr<c10d::ProcessGroupNCCL::Options> options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  options->group_name = groupName;
  for (int k = 0; k < size; ++k) options->global_ranks_in_group.push_back(static_cast<uint64_t>(k));
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
}

}  // namespace unet
