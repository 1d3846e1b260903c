#include "tensor_wrap.h"

#include "bind.h"

namespace unet {

namespace {
// Marks handles made by this addon, so a foreign object passed as a tensor is rejected, not
// dereferenced.
constexpr napi_type_tag kTensorTag = {0x8a1c2e5b7d3f4a91ULL, 0x52e6c0b9f1a47d38ULL};
}  // namespace

AddonState& stateOf(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

namespace {
// Tells V8 about native bytes. Called from finalizers too, where a terminating worker makes the
// call fail: its status is ignored on purpose, since throwing from a finalizer aborts the process.
void reportExternalMemory(Napi::Env env, int64_t bytes) {
  int64_t total = 0;
  napi_adjust_external_memory(env, bytes, &total);
}
}  // namespace

Napi::Function TensorWrap::defineClass(Napi::Env env) {
  return DefineClass(env, "NativeTensor",
                     {
                         InstanceAccessor<&TensorWrap::shape>("shape"),
                         InstanceAccessor<&TensorWrap::dtype>("dtype"),
                         InstanceAccessor<&TensorWrap::device>("device"),
                         InstanceAccessor<&TensorWrap::requiresGrad, &TensorWrap::setRequiresGrad>("requiresGrad"),
                         InstanceAccessor<&TensorWrap::isDisposed>("isDisposed"),
                         InstanceMethod<&TensorWrap::dispose>("dispose"),
                     });
}

TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {
  Napi::Env env = info.Env();
  AddonState& state = stateOf(env);
  if (info.Length() != 1 || !info[0].StrictEquals(state.constructToken.Value())) {
    throw Napi::TypeError::New(env, "Tensor cannot be constructed with `new`: use torch.tensor(), torch.zeros() and the like");
  }
  registry_ = state.registry;
  // Fails only in a terminating worker; the untagged object is then never accepted as a tensor.
  napi_type_tag_object(env, info.This(), &kTensorTag);
}

TensorWrap::~TensorWrap() = default;

void TensorWrap::Finalize(Napi::Env env) { release(env); }

void TensorWrap::adopt(Napi::Env env, at::Tensor tensor) {
  tensor_ = std::move(tensor);
  TensorRegistry& registry = *registry_;
  registry.liveTensors += 1;
  registry.peakTensors = std::max(registry.peakTensors, registry.liveTensors);
  registerStorage(env);
  if (!registry.scopes.empty()) {
    auto& frame = registry.scopes.back();
    scopeDepth_ = static_cast<int>(registry.scopes.size()) - 1;
    scopeSlot_ = frame.size();
    frame.push_back(this);
  }
}

void TensorWrap::release(Napi::Env env) {
  if (!tensor_.defined()) return;
  leaveScope();
  unregisterStorage(env);
  tensor_.reset();
  registry_->liveTensors -= 1;
}

void TensorWrap::leaveScope() {
  if (scopeDepth_ < 0) return;
  auto& scopes = registry_->scopes;
  if (static_cast<size_t>(scopeDepth_) < scopes.size() && scopeSlot_ < scopes[scopeDepth_].size() &&
      scopes[scopeDepth_][scopeSlot_] == this) {
    scopes[scopeDepth_][scopeSlot_] = nullptr;
  }
  scopeDepth_ = -1;
}

void TensorWrap::escapeScope() {
  int parent = scopeDepth_ - 1;
  leaveScope();
  if (parent < 0) return;
  auto& frame = registry_->scopes[parent];
  scopeDepth_ = parent;
  scopeSlot_ = frame.size();
  frame.push_back(this);
}

void TensorWrap::registerStorage(Napi::Env env) {
  if (!tensor_.has_storage()) return;
  storage_ = tensor_.storage().unsafeGetStorageImpl();
  auto [entry, inserted] = registry_->storages.try_emplace(
      storage_, TensorRegistry::StorageUse{0, static_cast<int64_t>(tensor_.storage().nbytes()), tensor_.device()});
  entry->second.holders += 1;
  if (inserted && entry->second.device.is_cpu() && registry_->environmentAlive) {
    reportExternalMemory(env, entry->second.bytes);
  }
}

void TensorWrap::unregisterStorage(Napi::Env env) {
  if (storage_ == nullptr) return;
  auto entry = registry_->storages.find(storage_);
  storage_ = nullptr;
  if (entry == registry_->storages.end() || --entry->second.holders > 0) return;
  if (entry->second.device.is_cpu() && registry_->environmentAlive) {
    reportExternalMemory(env, -entry->second.bytes);
  }
  registry_->storages.erase(entry);
}

namespace {
void throwIfDisposed(Napi::Env env, const TensorWrap& handle, const char* what) {
  if (handle.disposed()) {
    throw Napi::Error::New(env, std::string("Tensor.") + what + ": the tensor has been disposed");
  }
}
}  // namespace

Napi::Value TensorWrap::shape(const Napi::CallbackInfo& info) {
  throwIfDisposed(info.Env(), *this, "shape");
  return toJs(info.Env(), tensor_.sizes().vec());
}

Napi::Value TensorWrap::dtype(const Napi::CallbackInfo& info) {
  throwIfDisposed(info.Env(), *this, "dtype");
  return Napi::String::New(info.Env(), dtypeName(tensor_.scalar_type()));
}

Napi::Value TensorWrap::device(const Napi::CallbackInfo& info) {
  throwIfDisposed(info.Env(), *this, "device");
  return Napi::String::New(info.Env(), deviceName(tensor_.device()));
}

Napi::Value TensorWrap::requiresGrad(const Napi::CallbackInfo& info) {
  throwIfDisposed(info.Env(), *this, "requiresGrad");
  return Napi::Boolean::New(info.Env(), tensor_.requires_grad());
}

void TensorWrap::setRequiresGrad(const Napi::CallbackInfo& info, const Napi::Value& value) {
  throwIfDisposed(info.Env(), *this, "requiresGrad");
  if (!value.IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), "Tensor.requiresGrad must be set to a boolean, got " + describeValue(value));
  }
  guarded(info.Env(), "Tensor.requiresGrad", [&] {
    tensor_.set_requires_grad(value.As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

Napi::Value TensorWrap::isDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed()); }

Napi::Value TensorWrap::dispose(const Napi::CallbackInfo& info) {
  release(info.Env());
  return info.Env().Undefined();
}

Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  AddonState& state = stateOf(env);
  Napi::Object object = state.tensorClass.New({state.constructToken.Value()});
  TensorWrap::Unwrap(object)->adopt(env, std::move(tensor));
  return object;
}

TensorWrap* tensorHandle(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) return nullptr;
  bool tagged = false;
  if (napi_check_object_type_tag(env, value, &kTensorTag, &tagged) != napi_ok || !tagged) return nullptr;
  return TensorWrap::Unwrap(value.As<Napi::Object>());
}

}  // namespace unet
