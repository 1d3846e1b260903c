// CUDA graphs (libtorch's at::cuda::CUDAGraph), as torch.cuda.CUDAGraph: a sequence of CUDA work
// captured once on a side stream and replayed with one launch, which removes the per-kernel launch
// cost of a small network's step. Compiled with the addon's CUDA code (UNET_WITH_CUDA_KERNELS: the
// CUDA toolkit's headers); without it every binding says so.
#ifdef UNET_WITH_CUDA_KERNELS
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/cuda.h>
#endif

#include <memory>
#include <optional>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {

#ifdef UNET_WITH_CUDA_KERNELS
struct GraphHolder {
  std::unique_ptr<at::cuda::CUDAGraph> graph = std::make_unique<at::cuda::CUDAGraph>();
  // While capturing: the side stream made current, as torch.cuda.graph's stream context does
  // (capture is not allowed on the default stream).
  std::optional<c10::cuda::CUDAStreamGuard> capturing;
};
constexpr napi_type_tag kGraphTag = {0x7d3f1b9e2c4a6e80ULL, 0xb1c2d3e4f5061728ULL};

GraphHolder& graphOf(Napi::Env env, const Napi::Value& value, const char* binding) {
  return Tagged<GraphHolder>::unwrap(env, value, kGraphTag, binding, "graph", "CUDA graph");
}

Napi::Value newGraph(Napi::Env env) {
  // Checked first: the graph's constructor would fail with the driver's less telling error.
  TORCH_CHECK(torch::cuda::is_available(), "CUDA is not available: no NVIDIA GPU is visible, so nothing can be captured");
  return Tagged<GraphHolder>::wrap(env, new GraphHolder, kGraphTag);
}

// Begins capture on a side stream of `device` that first waits for the work queued so far.
void captureBegin(Napi::Env env, const Napi::Value& value, const c10::Device& device) {
  GraphHolder& holder = graphOf(env, value, "cudaGraphCaptureBegin");
  TORCH_CHECK(!holder.capturing, "the graph is already capturing");
  TORCH_CHECK(device.is_cuda(), "a CUDA graph captures CUDA work, got device ", device.str());
  const c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(device.index());
  const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, device.index());
  at::cuda::CUDAEvent ready;
  ready.record(current);
  ready.block(side);
  holder.capturing.emplace(side);
  try {
    holder.graph->capture_begin();
  } catch (...) {
    holder.capturing.reset();
    throw;
  }
}

// Ends capture and restores the stream, whether or not the capture succeeded.
void captureEnd(Napi::Env env, const Napi::Value& value) {
  GraphHolder& holder = graphOf(env, value, "cudaGraphCaptureEnd");
  TORCH_CHECK(holder.capturing, "the graph is not capturing");
  const c10::cuda::CUDAStream side = c10::cuda::getCurrentCUDAStream();
  try {
    holder.graph->capture_end();
  } catch (...) {
    holder.capturing.reset();
    throw;
  }
  holder.capturing.reset();
  // Work queued after this point may use what capture allocated: order it after the side stream.
  at::cuda::CUDAEvent done;
  done.record(side);
  done.block(c10::cuda::getCurrentCUDAStream(side.device_index()));
}

void replay(Napi::Env env, const Napi::Value& value) {
  GraphHolder& holder = graphOf(env, value, "cudaGraphReplay");
  TORCH_CHECK(!holder.capturing, "the graph is still capturing: end the capture before replaying it");
  holder.graph->replay();
}

void reset(Napi::Env env, const Napi::Value& value) {
  GraphHolder& holder = graphOf(env, value, "cudaGraphReset");
  TORCH_CHECK(!holder.capturing, "the graph is still capturing");
  holder.graph->reset();
}
#else
[[noreturn]] void withoutGraphs() {
  TORCH_CHECK(false,
              "this addon was built without its CUDA code, which CUDA graphs are part of (no nvcc, or no CUDA libtorch, at install)");
}
Napi::Value newGraph(Napi::Env) { withoutGraphs(); }
void captureBegin(Napi::Env, const Napi::Value&, const c10::Device&) { withoutGraphs(); }
void captureEnd(Napi::Env, const Napi::Value&) { withoutGraphs(); }
void replay(Napi::Env, const Napi::Value&) { withoutGraphs(); }
void reset(Napi::Env, const Napi::Value&) { withoutGraphs(); }
#endif

}  // namespace

void registerCudaGraph(Napi::Env env, Napi::Object exports) {
  define(env, exports, "cudaGraphNew", {}, [](Napi::Env env) { return newGraph(env); });
  define(env, exports, "cudaGraphCaptureBegin", {"graph", "device"}, [](Napi::Env env, Napi::Value graph, c10::Device device) {
    captureBegin(env, graph, device);
    return env.Undefined();
  });
  define(env, exports, "cudaGraphCaptureEnd", {"graph"}, [](Napi::Env env, Napi::Value graph) {
    captureEnd(env, graph);
    return env.Undefined();
  });
  define(env, exports, "cudaGraphReplay", {"graph"}, [](Napi::Env env, Napi::Value graph) {
    replay(env, graph);
    return env.Undefined();
  });
  define(env, exports, "cudaGraphReset", {"graph"}, [](Napi::Env env, Napi::Value graph) {
    reset(env, graph);
    return env.Undefined();
  });
}

}  // namespace unet
