// The JS handle of a torch tensor, and the per-environment state that tracks every live handle.
#pragma once

#include <ATen/core/Tensor.h>
#include <napi.h>

#include <memory>
#include <unordered_map>
#include <vector>

namespace unet {

class TensorWrap;

// Everything the handles of one JS environment (main thread or worker) share. Held through a
// shared_ptr by the environment and by every handle: finalizers may run after the environment's
// own cleanup when a worker ends.
struct TensorRegistry {
  struct StorageUse {
    int64_t holders;
    int64_t bytes;
    c10::Device device;
  };
  // Views share a storage: bytes are counted once per storage, not once per handle.
  std::unordered_map<const c10::StorageImpl*, StorageUse> storages;
  int64_t liveTensors = 0;
  int64_t peakTensors = 0;
  // tidy() frames, innermost last. A handle that leaves its frame (dispose, keep) leaves a null slot.
  std::vector<std::vector<TensorWrap*>> scopes;
  bool environmentAlive = true;
};

struct AddonState {
  std::shared_ptr<TensorRegistry> registry = std::make_shared<TensorRegistry>();
  Napi::FunctionReference tensorClass;  // the JS subclass of the native class, used for new handles
  Napi::ObjectReference constructToken;  // proves a construction comes from the addon itself
};

AddonState& stateOf(Napi::Env env);

class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static Napi::Function defineClass(Napi::Env env);
  explicit TensorWrap(const Napi::CallbackInfo& info);
  ~TensorWrap() override;
  void Finalize(Napi::Env env) override;

  const at::Tensor& tensor() const { return tensor_; }
  bool disposed() const { return !tensor_.defined(); }
  // Takes ownership of `tensor` for this handle and accounts for its storage.
  void adopt(Napi::Env env, at::Tensor tensor);
  // Frees the tensor now (dispose(), tidy() end, finalizer). Idempotent.
  void release(Napi::Env env);
  // Leaves the current tidy() frame, so that frame's end does not free it.
  void leaveScope();
  // Moves this handle from its frame to the enclosing frame (or out of all frames).
  void escapeScope();
  int scopeDepth() const { return scopeDepth_; }
  const std::shared_ptr<TensorRegistry>& registry() const { return registry_; }

 private:
  Napi::Value shape(const Napi::CallbackInfo& info);
  Napi::Value dtype(const Napi::CallbackInfo& info);
  Napi::Value device(const Napi::CallbackInfo& info);
  Napi::Value requiresGrad(const Napi::CallbackInfo& info);
  void setRequiresGrad(const Napi::CallbackInfo& info, const Napi::Value& value);
  Napi::Value isDisposed(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);

  void registerStorage(Napi::Env env);
  void unregisterStorage(Napi::Env env);

  at::Tensor tensor_;
  std::shared_ptr<TensorRegistry> registry_;
  const c10::StorageImpl* storage_ = nullptr;
  int scopeDepth_ = -1;
  size_t scopeSlot_ = 0;
};

// Wraps a tensor in a new JS handle (null for an undefined tensor).
Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor);
// The handle behind `value` when it is a live handle of this addon; null otherwise.
TensorWrap* tensorHandle(Napi::Env env, const Napi::Value& value);

}  // namespace unet
