// Constructs c10d's Gloo backend. libtorch_cpu holds ProcessGroupGloo but the wheel ships no gloo
// headers; native/gloo-declarations declares the few names its header needs (the class holds gloo
// objects only by pointer, so its layout is libtorch's own). This file only constructs: every
// collective then runs through the virtual c10d::Backend interface.
#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "distributed.h"

namespace unet {

c10::intrusive_ptr<c10d::Backend> createGlooBackend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                    std::chrono::milliseconds timeout, const std::string& groupName) {
  // create_default: the device from GLOO_SOCKET_IFNAME or the host name, two threads, as Python's
  // ProcessGroupGloo(store, rank, size, timeout) builds them.
  c10::intrusive_ptr<c10d::ProcessGroupGloo::Options> options = c10d::ProcessGroupGloo::Options::create_default(timeout);
  options->group_name = groupName;
  for (int k = 0; k < size; ++k) options->global_ranks_in_group.push_back(static_cast<uint64_t>(k));
  auto backend = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
  return backend;
}

}  // namespace unet
