// Where the tensors of one JS environment live. A JS Tensor holds only a handle: the index of a
// slot in its environment's table and the slot's generation. Disposing frees the slot's tensor
// and bumps the generation, so a stale or forged handle is detected by a bounds and generation
// check and never dereferenced.
//
// Why not napi_wrap: a wrap costs a V8 weak reference, a finalizer queued on the event loop and a
// type tag per tensor, three times the cost of a small op. Here a tensor created inside tidy()
// costs no finalizer at all; only a tensor that outlives every tidy() scope gets one, as the
// garbage-collection backstop.
#pragma once

#include <ATen/core/Tensor.h>
#include <napi.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace unet {

// generation << kIndexBits | index: below 2^53, so exact as a JS number.
using Handle = uint64_t;

class TensorTable {
 public:
  struct StorageUse {
    int64_t holders;
    int64_t bytes;
    c10::Device device;
    // Holders outside every tidy() frame, which only the garbage collector will free.
    int64_t collectedHolders = 0;
  };

  // Takes `tensor` into a new slot (in the innermost tidy() frame, if any) and returns its handle.
  Handle adopt(napi_env env, at::Tensor tensor);
  // The live tensor behind `handle`, or null when the handle is stale or was never issued.
  const at::Tensor* find(Handle handle) const;
  // Frees the tensor now. A stale handle is ignored, so release is idempotent.
  void release(napi_env env, Handle handle);
  // Frees every tensor: the environment is ending.
  void releaseAll();

  void beginScope() { scopes_.emplace_back(); }
  // Moves a tensor of the innermost frame to the enclosing frame. True when that leaves it outside
  // every frame (it escaped the outermost tidy()).
  bool escape(napi_env env, Handle handle);
  // Frees every tensor left in the innermost frame and closes it.
  void endScope(napi_env env);
  // Takes the tensor out of every frame, so that no tidy() end frees it.
  void leaveScopes(napi_env env, Handle handle);
  bool inScope(Handle handle) const;
  size_t scopeDepth() const { return scopes_.size(); }

  int64_t liveTensors() const { return liveTensors_; }
  int64_t peakTensors() const { return peakTensors_; }
  // Views share a storage: bytes are counted once per storage, not once per tensor.
  const std::unordered_map<const c10::StorageImpl*, StorageUse>& storages() const { return storages_; }

 private:
  struct Slot {
    at::Tensor tensor;
    uint32_t generation = 1;
    int32_t scopeDepth = -1;
    uint32_t scopePosition = 0;
    const c10::StorageImpl* storage = nullptr;
    bool collected = false;  // outside every frame: freed by dispose() or the garbage collector
  };

  Slot* live(Handle handle);
  void registerStorage(Slot& slot);
  void unregisterStorage(Slot& slot);
  void setCollected(napi_env env, Slot& slot, bool collected);
  void reportExternalMemory(napi_env env, int64_t bytes);
  void placeInFrame(Handle handle, Slot& slot, size_t depth);
  void leaveFrame(Slot& slot);

  std::vector<Slot> slots_;
  std::vector<uint32_t> freeSlots_;
  // tidy() frames, innermost last. A tensor that leaves its frame early leaves a stale handle.
  std::vector<std::vector<Handle>> scopes_;
  std::unordered_map<const c10::StorageImpl*, StorageUse> storages_;
  int64_t liveTensors_ = 0;
  int64_t peakTensors_ = 0;
  bool environmentAlive_ = true;
  int64_t unreportedBytes_ = 0;
};

// Per-environment state (main thread or worker).
struct AddonState {
  // Shared with the finalizers of tensors that outlive every tidy() scope, which may run during
  // the environment's teardown.
  std::shared_ptr<TensorTable> table = std::make_shared<TensorTable>();
  Napi::FunctionReference tensorClass;            // lib/tensor.ts's Tensor
  Napi::Reference<Napi::Value> handleKey;         // the symbol under which a Tensor keeps its handle
  Napi::Reference<Napi::Value> constructToken;    // proves to Tensor's constructor that the addon calls it
  Napi::FunctionReference outOfMemoryErrorClass;  // lib/errors.ts's OutOfMemoryError
};

AddonState& stateOf(Napi::Env env);

// A new JS Tensor for `tensor` (null for an undefined tensor).
Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor);
// The handle of `value` when it is a Tensor of this environment (live or not); nullopt otherwise.
std::optional<Handle> handleOf(Napi::Env env, const Napi::Value& value);
// The live tensor behind `value`, or null (not a Tensor, or disposed).
const at::Tensor* tensorOf(Napi::Env env, const Napi::Value& value);
// Gives `tensor` (which has just left every tidy() scope) its garbage-collection backstop.
void attachFinalizer(Napi::Env env, const Napi::Value& tensor, Handle handle);

}  // namespace unet
