// Module entry: per-environment state (safe under worker_threads), then every group of bindings.
#include <napi.h>

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
}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
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
  registerMemory(env, exports);
  registerCreation(env, exports);
  registerReadback(env, exports);
  registerRuntime(env, exports);
  registerMathOps(env, exports);
  registerShapeOps(env, exports);
  registerNnOps(env, exports);
  registerAutograd(env, exports);
  registerSerialization(env, exports);
  registerAmp(env, exports);
  registerWeightMap(env, exports);
  registerAugment(env, exports);
  return exports;
}

}  // namespace unet

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return unet::init(env, exports); }

NODE_API_MODULE(unet_torch, Init)
