// The libtorch runtime: version, threads, seeding, and CUDA devices and memory.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <torch/cuda.h>

#include <cmath>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
bool cudaBuilt() { return at::CUDAHooksRegistry()->Has("CUDAHooks"); }

c10::DeviceIndex cudaIndex(const std::optional<c10::Device>& device) {
  TORCH_CHECK(torch::cuda::is_available(), "CUDA is not available: no NVIDIA GPU is visible, or this libtorch is a CPU build");
  c10::Device chosen = device.value_or(c10::Device(c10::kCUDA, 0));
  TORCH_CHECK(chosen.is_cuda(), "expected a CUDA device, got ", chosen.str());
  c10::DeviceIndex index = chosen.has_index() ? chosen.index() : 0;
  TORCH_CHECK_INDEX(index < torch::cuda::device_count(), "CUDA device ", static_cast<int>(index),
                    " does not exist: ", static_cast<int>(torch::cuda::device_count()), " visible");
  return index;
}
}  // namespace

void registerRuntime(Napi::Env env, Napi::Object exports) {
  // Python's float ** float is C's pow(); V8's ** differs from it in the last bit for integral
  // exponents. Optimizers and schedulers use this one so that their steps match PyTorch's bitwise.
  define(env, exports, "libmPow", {"base", "exponent"}, [](double base, double exponent) { return std::pow(base, exponent); });
  define(env, exports, "cudaBuilt", {}, [] { return cudaBuilt(); });
  define(env, exports, "cudaRuntimeVersion", {},
         [] { return cudaBuilt() ? static_cast<int64_t>(at::detail::getCUDAHooks().versionCUDART()) : int64_t{0}; });
  define(env, exports, "getNumThreads", {}, [] { return static_cast<int64_t>(at::get_num_threads()); });
  define(env, exports, "setNumThreads", {"threads"}, [](int64_t threads) {
    TORCH_CHECK_VALUE(threads > 0, "threads must be positive, got ", threads);
    at::set_num_threads(static_cast<int>(threads));
  });
  define(env, exports, "cpuCapability", {}, [] { return at::get_cpu_capability(); });
  define(env, exports, "mkldnnEnabled", {}, [] { return at::globalContext().userEnabledMkldnn(); });
  define(env, exports, "setMkldnnEnabled", {"enabled"}, [](bool enabled) { at::globalContext().setUserEnabledMkldnn(enabled); });
  define(env, exports, "manualSeed", {"seed"}, [](int64_t seed) { at::manual_seed(static_cast<uint64_t>(seed)); });
  define(env, exports, "cudaIsAvailable", {}, [] { return torch::cuda::is_available(); });
  define(env, exports, "cudaDeviceCount", {}, [] { return static_cast<int64_t>(torch::cuda::device_count()); });
  define(env, exports, "cudaSynchronize", {"device"},
         [](std::optional<c10::Device> device) { torch::cuda::synchronize(cudaIndex(device)); });
  define(env, exports, "cudaEmptyCache", {}, [] {
    if (torch::cuda::is_available()) c10::getDeviceAllocator(c10::kCUDA)->emptyCache();
  });
  define(env, exports, "cudaResetPeakMemoryStats", {"device"},
         [](std::optional<c10::Device> device) { c10::getDeviceAllocator(c10::kCUDA)->resetPeakStats(cudaIndex(device)); });
  define(env, exports, "cudaMemoryStats", {"device"}, [](Napi::Env env, std::optional<c10::Device> device) {
    auto stats = c10::getDeviceAllocator(c10::kCUDA)->getDeviceStats(cudaIndex(device));
    const auto& allocated = stats.allocated_bytes[0];  // the aggregate over all pools
    const auto& reserved = stats.reserved_bytes[0];
    Napi::Object result = Napi::Object::New(env);
    result.Set("allocated", static_cast<double>(allocated.current));
    result.Set("peakAllocated", static_cast<double>(allocated.peak));
    result.Set("reserved", static_cast<double>(reserved.current));
    result.Set("peakReserved", static_cast<double>(reserved.peak));
    return Napi::Value(result);
  });
}

}  // namespace unet
