// Module entry: per-environment state (safe under worker_threads), then every group of bindings.
#include <napi.h>

#include "bindings.h"
#include "tensor_wrap.h"

namespace unet {

namespace {
void finalizeState(Napi::Env, AddonState* state) {
  // Handles finalized after this point must not report memory to a dying environment.
  state->registry->environmentAlive = false;
  delete state;
}

Napi::Value setTensorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "setTensorClass(): argument 'tensorClass' must be a class");
  stateOf(info.Env()).tensorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}
}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  auto* state = new AddonState();
  env.SetInstanceData<AddonState, finalizeState>(state);
  state->constructToken = Napi::Persistent(Napi::Object::New(env));
  Napi::Function tensorClass = TensorWrap::defineClass(env);
  state->tensorClass = Napi::Persistent(tensorClass);
  exports.Set("NativeTensor", tensorClass);
  exports.Set("setTensorClass", Napi::Function::New(env, setTensorClass, "setTensorClass"));
  registerMemory(env, exports);
  registerCreation(env, exports);
  registerReadback(env, exports);
  registerRuntime(env, exports);
  registerMathOps(env, exports);
  registerShapeOps(env, exports);
  registerNnOps(env, exports);
  registerAutograd(env, exports);
  return exports;
}

}  // namespace unet

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return unet::init(env, exports); }

NODE_API_MODULE(unet_torch, Init)
