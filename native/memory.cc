// Tensor handles: attributes read from JS, deterministic release (dispose(), tidy() frames,
// keep()), and the live-tensor accounting behind torch.memory().
#include <ATen/ATen.h>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
using T = const at::Tensor&;

Napi::Value memorySnapshot(Napi::Env env) {
  const TensorTable& table = *stateOf(env).table;
  Napi::Object devices = Napi::Object::New(env);
  for (const auto& [storage, use] : table.storages()) {
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
  snapshot.Set("liveTensors", static_cast<double>(table.liveTensors()));
  snapshot.Set("peakTensors", static_cast<double>(table.peakTensors()));
  snapshot.Set("scopeDepth", static_cast<double>(table.scopeDepth()));
  snapshot.Set("devices", devices);
  return snapshot;
}
}  // namespace

void registerMemory(Napi::Env env, Napi::Object exports) {
  define(env, exports, "shape", {"tensor"}, [](T tensor) { return tensor.sizes().vec(); });
  define(env, exports, "dtype", {"tensor"}, [](T tensor) { return std::string(dtypeName(tensor.scalar_type())); });
  define(env, exports, "device", {"tensor"}, [](T tensor) { return deviceName(tensor.device()); });
  define(env, exports, "requiresGrad", {"tensor"}, [](T tensor) { return tensor.requires_grad(); });
  define(env, exports, "setRequiresGrad", {"tensor", "requiresGrad"},
         [](T tensor, bool requiresGrad) { const_cast<at::Tensor&>(tensor).set_requires_grad(requiresGrad); });
  define(env, exports, "isDisposed", {"tensor"},
         [](Napi::Env env, TensorRef tensor) { return stateOf(env).table->find(tensor.handle) == nullptr; });
  define(env, exports, "dispose", {"tensor"}, [](Napi::Env env, TensorRef tensor) { stateOf(env).table->release(env, tensor.handle); });
  define(env, exports, "keep", {"tensor"}, [](Napi::Env env, TensorRef tensor) {
    TensorTable& table = *stateOf(env).table;
    if (!table.inScope(tensor.handle)) return;
    table.leaveScopes(env, tensor.handle);
    attachFinalizer(env, tensor.object, tensor.handle);
  });
  define(env, exports, "beginScope", {}, [](Napi::Env env) { stateOf(env).table->beginScope(); });
  define(env, exports, "endScope", {"escaping"}, [](Napi::Env env, std::vector<TensorRef> escaping) {
    TensorTable& table = *stateOf(env).table;
    if (table.scopeDepth() == 0) throw Napi::Error::New(env, "endScope(): no tidy() scope is open");
    for (const TensorRef& tensor : escaping) {
      if (table.escape(env, tensor.handle)) attachFinalizer(env, tensor.object, tensor.handle);
    }
    table.endScope(env);
  });
  define(env, exports, "memory", {}, [](Napi::Env env) { return memorySnapshot(env); });
}

}  // namespace unet
