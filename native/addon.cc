// Module entry: per-environment state (safe under worker_threads), then every group of bindings.
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <c10/util/Logging.h>
#include <napi.h>

#include <iostream>
#include <mutex>
#include <set>
#include <string>

#include "bind.h"
#include "bindings.h"
#include "tensor_table.h"

namespace unet {

namespace {
void finalizeState(Napi::Env, AddonState* state) {
  // Tensors still alive when the environment ends (a worker exits) are freed here; finalizers
  // that run later find their handles stale.
  state->table->releaseAll();
  delete state;
}
// libtorch's default handler prints a warning every time it is raised; in Python the warnings
// module shows each once per place. Without that filter a warning raised per convolution (NNPACK
// on CPUs it does not support) floods the output, so this prints each distinct warning once.
class OnceWarningHandler : public c10::WarningHandler {
 public:
  void process(const c10::Warning& warning) override {
    const std::string text = warning.msg();
    std::lock_guard<std::mutex> lock(mutex_);
    if (!seen_.insert(text).second) return;
    std::cerr << "[libtorch warning] " << text << std::endl;
  }

 private:
  std::mutex mutex_;
  std::set<std::string> seen_;
};

OnceWarningHandler onceWarningHandler;

// Convolutions ask whether NNPACK initialised on every call, and libtorch logs a warning each
// time it did not (CPUs without AVX2). Asked once, quietly: where it cannot run, it is turned off,
// which changes no result (it would not have been used) and stops the flood.
void disableUnusableNnpack() {
  static std::once_flag once;
  std::call_once(once, [] {
    const int level = FLAGS_caffe2_log_level;
    FLAGS_caffe2_log_level = 2;  // errors only, while asking
    const bool available = at::_nnpack_available();
    FLAGS_caffe2_log_level = level;
    if (!available) at::globalContext().setUserEnabledNNPACK(false);
  });
}
}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  // The handler is per thread: set it on each thread (main or worker) that loads the addon.
  c10::WarningUtils::set_warning_handler(&onceWarningHandler);
  disableUnusableNnpack();
  auto* state = new AddonState();
  env.SetInstanceData<AddonState, finalizeState>(state);
  define(env, exports, "setTensorClass", {"tensorClass", "handleKey", "constructToken"},
         [](Napi::Env env, Napi::Value tensorClass, Napi::Value handleKey, Napi::Value constructToken) {
           if (!tensorClass.IsFunction() || !handleKey.IsSymbol() || !constructToken.IsSymbol()) {
             throw Napi::TypeError::New(env, "setTensorClass(): expected the Tensor class and two symbols");
           }
           AddonState& state = stateOf(env);
           state.tensorClass = Napi::Persistent(tensorClass.As<Napi::Function>());
           state.handleKey = Napi::Persistent(handleKey);
           state.constructToken = Napi::Persistent(constructToken);
         });
  define(env, exports, "setOutOfMemoryErrorClass", {"errorClass"}, [](Napi::Env env, Napi::Value errorClass) {
    if (!errorClass.IsFunction()) throw Napi::TypeError::New(env, "setOutOfMemoryErrorClass(): expected the OutOfMemoryError class");
    stateOf(env).outOfMemoryErrorClass = Napi::Persistent(errorClass.As<Napi::Function>());
  });
  registerCpuCache(env, exports);
  registerMemory(env, exports);
  registerCreation(env, exports);
  registerReadback(env, exports);
  registerRuntime(env, exports);
  registerMathOps(env, exports);
  registerShapeOps(env, exports);
  registerNnOps(env, exports);
  registerAutograd(env, exports);
  registerSerialization(env, exports);
  registerJit(env, exports);
  registerAmp(env, exports);
  registerWeightMap(env, exports);
  registerAugment(env, exports);
  registerDistributed(env, exports);
  registerCudaGraph(env, exports);
  return exports;
}

}  // namespace unet

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return unet::init(env, exports); }

NODE_API_MODULE(unet_torch, Init)
