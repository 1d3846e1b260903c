#include "tensor_table.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace unet {

namespace {
constexpr int kIndexBits = 24;
constexpr uint64_t kIndexMask = (uint64_t{1} << kIndexBits) - 1;
constexpr uint32_t kGenerationMask = (uint32_t{1} << 29) - 1;
// Generations start at 1, so handle 0 is never live: it marks a frame entry whose tensor left.
constexpr Handle kNoHandle = 0;

uint32_t indexOf(Handle handle) { return static_cast<uint32_t>(handle & kIndexMask); }
uint32_t generationOf(Handle handle) { return static_cast<uint32_t>(handle >> kIndexBits); }
Handle makeHandle(uint32_t index, uint32_t generation) { return (uint64_t{generation} << kIndexBits) | index; }

// V8 hears of native bytes in steps of this size, not per tensor: the call costs as much as a
// small op, and V8 only needs the total to pace garbage collection. It hears only of storages
// that the garbage collector may have to free (held outside every tidy() frame): the rest are
// freed deterministically, and counting them made V8 collect for nothing (6% of a U-Net forward
// pass went to collections).
constexpr int64_t kReportStep = int64_t{1} << 20;
}  // namespace

void TensorTable::reportExternalMemory(napi_env env, int64_t bytes) {
  unreportedBytes_ += bytes;
  if (unreportedBytes_ > -kReportStep && unreportedBytes_ < kReportStep) return;
  int64_t total = 0;
  // Fails only in a terminating worker; throwing from a finalizer would abort the process.
  napi_adjust_external_memory(env, unreportedBytes_, &total);
  unreportedBytes_ = 0;
}

TensorTable::Slot* TensorTable::live(Handle handle) {
  uint32_t index = indexOf(handle);
  if (index >= slots_.size()) return nullptr;
  Slot& slot = slots_[index];
  return slot.generation == generationOf(handle) && slot.tensor.defined() ? &slot : nullptr;
}

const at::Tensor* TensorTable::find(Handle handle) const {
  const Slot* slot = const_cast<TensorTable*>(this)->live(handle);
  return slot == nullptr ? nullptr : &slot->tensor;
}

Handle TensorTable::adopt(napi_env env, at::Tensor tensor) {
  uint32_t index;
  if (!freeSlots_.empty()) {
    index = freeSlots_.back();
    freeSlots_.pop_back();
  } else {
    if (slots_.size() > kIndexMask) {
      throw std::runtime_error("more than " + std::to_string(kIndexMask) + " live tensors: dispose tensors or use torch.tidy()");
    }
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  slot.tensor = std::move(tensor);
  Handle handle = makeHandle(index, slot.generation);
  liveTensors_ += 1;
  peakTensors_ = std::max(peakTensors_, liveTensors_);
  registerStorage(slot);
  if (scopes_.empty())
    setCollected(env, slot, true);
  else
    placeInFrame(handle, slot, scopes_.size() - 1);
  return handle;
}

void TensorTable::release(napi_env env, Handle handle) {
  Slot* slot = live(handle);
  if (slot == nullptr) return;
  leaveFrame(*slot);
  setCollected(env, *slot, false);
  unregisterStorage(*slot);
  slot->tensor.reset();
  slot->generation = std::max<uint32_t>(1, (slot->generation + 1) & kGenerationMask);
  freeSlots_.push_back(indexOf(handle));
  liveTensors_ -= 1;
}

void TensorTable::releaseAll() {
  environmentAlive_ = false;
  for (uint32_t index = 0; index < slots_.size(); ++index) {
    if (slots_[index].tensor.defined()) release(nullptr, makeHandle(index, slots_[index].generation));
  }
  scopes_.clear();
}

bool TensorTable::escape(napi_env env, Handle handle) {
  const int32_t top = static_cast<int32_t>(scopes_.size()) - 1;
  Slot* slot = live(handle);
  if (slot == nullptr || slot->scopeDepth != top || top < 0) return false;
  leaveFrame(*slot);
  if (top == 0) {
    setCollected(env, *slot, true);
    return true;
  }
  placeInFrame(handle, *slot, top - 1);
  return false;
}

void TensorTable::endScope(napi_env env) {
  std::vector<Handle> frame = std::move(scopes_.back());
  scopes_.pop_back();
  for (Handle handle : frame) release(env, handle);
}

void TensorTable::leaveScopes(napi_env env, Handle handle) {
  Slot* slot = live(handle);
  if (slot == nullptr) return;
  leaveFrame(*slot);
  setCollected(env, *slot, true);
}

bool TensorTable::inScope(Handle handle) const {
  const Slot* slot = const_cast<TensorTable*>(this)->live(handle);
  return slot != nullptr && slot->scopeDepth >= 0;
}

void TensorTable::setCollected(napi_env env, Slot& slot, bool collected) {
  if (slot.collected == collected) return;
  slot.collected = collected;
  auto entry = slot.storage == nullptr ? storages_.end() : storages_.find(slot.storage);
  if (entry == storages_.end()) return;
  StorageUse& use = entry->second;
  use.collectedHolders += collected ? 1 : -1;
  const bool changed = use.collectedHolders == (collected ? 1 : 0);
  if (changed && use.device.is_cpu() && environmentAlive_) reportExternalMemory(env, collected ? use.bytes : -use.bytes);
}

void TensorTable::placeInFrame(Handle handle, Slot& slot, size_t depth) {
  slot.scopeDepth = static_cast<int32_t>(depth);
  slot.scopePosition = static_cast<uint32_t>(scopes_[depth].size());
  scopes_[depth].push_back(handle);
}

void TensorTable::leaveFrame(Slot& slot) {
  if (slot.scopeDepth < 0) return;
  scopes_[slot.scopeDepth][slot.scopePosition] = kNoHandle;
  slot.scopeDepth = -1;
}

void TensorTable::registerStorage(Slot& slot) {
  if (!slot.tensor.has_storage()) return;
  const c10::Storage& storage = slot.tensor.storage();
  slot.storage = storage.unsafeGetStorageImpl();
  auto [entry, inserted] = storages_.try_emplace(slot.storage, StorageUse{0, static_cast<int64_t>(storage.nbytes()), slot.tensor.device()});
  entry->second.holders += 1;
}

void TensorTable::unregisterStorage(Slot& slot) {
  if (slot.storage == nullptr) return;
  auto entry = storages_.find(slot.storage);
  slot.storage = nullptr;
  if (entry == storages_.end() || --entry->second.holders > 0) return;
  storages_.erase(entry);
}

AddonState& stateOf(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  AddonState& state = stateOf(env);
  if (state.tensorClass.IsEmpty()) {
    throw Napi::Error::New(env,
                           "unet-torch: the Tensor class is not registered; load the package (require('unet-torch')), not the addon alone");
  }
  Handle handle = state.table->adopt(env, std::move(tensor));
  napi_value arguments[] = {state.constructToken.Value(), Napi::Number::New(env, static_cast<double>(handle))};
  napi_value object = nullptr;
  if (napi_new_instance(env, state.tensorClass.Value(), 2, arguments, &object) != napi_ok) {
    // Only a terminating worker refuses: free the tensor and let the pending exception stand.
    state.table->release(env, handle);
    throw env.GetAndClearPendingException();
  }
  Napi::Value result(env, object);
  if (state.table->scopeDepth() == 0) attachFinalizer(env, result, handle);
  return result;
}

std::optional<Handle> handleOf(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) return std::nullopt;
  napi_value slot = nullptr;
  if (napi_get_property(env, value, stateOf(env).handleKey.Value(), &slot) != napi_ok) return std::nullopt;
  double number = 0;
  if (napi_get_value_double(env, slot, &number) != napi_ok || !(number >= 0) || number > 9007199254740991.0) return std::nullopt;
  return static_cast<Handle>(number);
}

const at::Tensor* tensorOf(Napi::Env env, const Napi::Value& value) {
  std::optional<Handle> handle = handleOf(env, value);
  return handle ? stateOf(env).table->find(*handle) : nullptr;
}

namespace {
struct FinalizerData {
  std::shared_ptr<TensorTable> table;
  Handle handle;
};

void finalizeTensor(napi_env env, void* data, void*) {
  std::unique_ptr<FinalizerData> finalizer(static_cast<FinalizerData*>(data));
  finalizer->table->release(env, finalizer->handle);
}
}  // namespace

void attachFinalizer(Napi::Env env, const Napi::Value& tensor, Handle handle) {
  auto* data = new FinalizerData{stateOf(env).table, handle};
  if (napi_add_finalizer(env, tensor, data, finalizeTensor, nullptr, nullptr) != napi_ok) delete data;
}

}  // namespace unet
