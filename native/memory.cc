// Deterministic release: dispose(), tidy() frames, keep(), and the live-tensor accounting behind
// torch.memory().
#include <ATen/ATen.h>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
Napi::Value memorySnapshot(Napi::Env env) {
  const TensorRegistry& registry = *stateOf(env).registry;
  Napi::Object devices = Napi::Object::New(env);
  for (const auto& [storage, use] : registry.storages) {
    std::string name = deviceName(use.device);
    Napi::Object entry;
    if (devices.Has(name)) {
      entry = devices.Get(name).As<Napi::Object>();
    } else {
      entry = Napi::Object::New(env);
      entry.Set("tensors", 0.0);
      entry.Set("bytes", 0.0);
      devices.Set(name, entry);
    }
    entry.Set("tensors", entry.Get("tensors").As<Napi::Number>().DoubleValue() + static_cast<double>(use.holders));
    entry.Set("bytes", entry.Get("bytes").As<Napi::Number>().DoubleValue() + static_cast<double>(use.bytes));
  }
  Napi::Object snapshot = Napi::Object::New(env);
  snapshot.Set("liveTensors", static_cast<double>(registry.liveTensors));
  snapshot.Set("peakTensors", static_cast<double>(registry.peakTensors));
  snapshot.Set("scopeDepth", static_cast<double>(registry.scopes.size()));
  snapshot.Set("devices", devices);
  return snapshot;
}
}  // namespace

void registerMemory(Napi::Env env, Napi::Object exports) {
  define(env, exports, "dispose", {"tensor"}, [](Napi::Env env, TensorWrap* handle) { handle->release(env); });
  define(env, exports, "keep", {"tensor"}, [](TensorWrap* handle) { handle->leaveScope(); });
  define(env, exports, "beginScope", {}, [](Napi::Env env) { stateOf(env).registry->scopes.emplace_back(); });
  define(env, exports, "endScope", {"escaping"}, [](Napi::Env env, Napi::Value escaping) {
    TensorRegistry& registry = *stateOf(env).registry;
    if (registry.scopes.empty()) throw Napi::Error::New(env, "endScope: no tidy() scope is open");
    const int top = static_cast<int>(registry.scopes.size()) - 1;
    if (escaping.IsArray()) {
      Napi::Array array = escaping.As<Napi::Array>();
      for (uint32_t k = 0; k < array.Length(); ++k) {
        TensorWrap* handle = tensorHandle(env, array.Get(k));
        if (handle != nullptr && handle->scopeDepth() == top) handle->escapeScope();
      }
    }
    std::vector<TensorWrap*> frame = std::move(registry.scopes.back());
    registry.scopes.pop_back();
    for (TensorWrap* handle : frame) {
      if (handle != nullptr) handle->release(env);
    }
  });
  define(env, exports, "memory", {}, [](Napi::Env env) { return memorySnapshot(env); });
}

}  // namespace unet
