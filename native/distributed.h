// The functions that construct a backend, each isolated in its own file: gloo_backend.cc (the only
// file that includes ProcessGroupGloo.hpp, see native/gloo-declarations/README.md) and, in builds
// against a CUDA libtorch with NCCL's headers (UNET_WITH_NCCL), nccl_backend.cc. Everything else
// talks to c10d through the virtual Backend and ProcessGroup interfaces.
#pragma once

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <string>

namespace unet {

// Connects to every peer through `store` (blocking until they all have, or `timeout`), as
// PyTorch's ProcessGroupGloo(store, rank, size, timeout) does, with the network device PyTorch
// picks (GLOO_SOCKET_IFNAME, else this host's name, else the loopback).
c10::intrusive_ptr<c10d::Backend> createGlooBackend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                    std::chrono::milliseconds timeout, const std::string& groupName);

#ifdef UNET_WITH_NCCL
// Joins the NCCL communicator of the group's CUDA tensors, as PyTorch's ProcessGroupNCCL(store,
// rank, size, options) does; NCCL connects the ranks lazily, at their first collective.
c10::intrusive_ptr<c10d::Backend> createNcclBackend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                    std::chrono::milliseconds timeout, const std::string& groupName);
#endif

}  // namespace unet
