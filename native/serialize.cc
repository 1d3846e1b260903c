// PyTorch's own file format for state dicts: torch.save's zip of a pickle and tensor records,
// written by libtorch's pickler, so that torch.load in Python reads what we write. Reading goes
// through lib/io/pickle.ts, a restricted unpickler that refuses any Python object.
#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
c10::IValue fromJs(Napi::Env env, const Napi::Value& value, const std::string& path) {
  if (const at::Tensor* tensor = tensorOf(env, value)) return *tensor;
  if (value.IsArray()) {
    Napi::Array array = value.As<Napi::Array>();
    c10::impl::GenericList list(c10::AnyType::get());
    for (uint32_t k = 0; k < array.Length(); ++k) list.push_back(fromJs(env, array.Get(k), path + "[" + std::to_string(k) + "]"));
    return list;
  }
  if (value.IsString()) return value.As<Napi::String>().Utf8Value();
  if (value.IsBoolean()) return value.As<Napi::Boolean>().Value();
  if (value.IsNumber()) {
    // Whole numbers within int64 are saved as Python ints (as PyTorch saves a step count); every
    // other number (NaN, ±Infinity such as ReduceLROnPlateau's starting best, 1e30) as a float.
    // Casting those to int64 unchecked would be undefined behaviour.
    const double number = value.As<Napi::Number>().DoubleValue();
    if (std::isfinite(number) && number == std::trunc(number) && std::fabs(number) < 9223372036854775808.0)
      return static_cast<int64_t>(number);
    return number;
  }
  if (value.IsNull() || value.IsUndefined()) return c10::IValue();
  if (value.IsObject() && !value.IsFunction() && !handleOf(env, value)) {
    Napi::Object object = value.As<Napi::Object>();
    c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
    Napi::Array keys = object.GetPropertyNames();
    for (uint32_t k = 0; k < keys.Length(); ++k) {
      std::string key = keys.Get(k).As<Napi::String>().Utf8Value();
      dict.insert(key, fromJs(env, object.Get(key), path.empty() ? key : path + "." + key));
    }
    return dict;
  }
  TORCH_CHECK_TYPE(false, "'", path, "' is ", describeValue(value), ", which cannot be saved");
}
}  // namespace

void registerSerialization(Napi::Env env, Napi::Object exports) {
  define(env, exports, "pickleSave", {"value", "write"}, [](Napi::Env env, Napi::Value value, Napi::Function write) {
    // torch::jit::pickle_save, but with untagged dicts and lists: a type tag would be a global
    // that Python's torch.load(weights_only=True) refuses.
    std::vector<char> pickled;
    torch::jit::Pickler pickler([&](const char* data, size_t size) { pickled.insert(pickled.end(), data, data + size); }, nullptr, nullptr,
                                nullptr, nullptr, /*tag_aggregates=*/false);
    pickler.protocol();
    pickler.pushIValue(fromJs(env, value, ""));
    pickler.stop();
    // The archive goes to `write` in chunks of one reused buffer, as torch.save streams to its file:
    // a checkpoint of hundreds of MB is never whole in memory. Each chunk is valid during its call
    // only. A throwing `write` (a full disk) ends the writing; its error is rethrown at the end,
    // since the stream writer must not be unwound mid-record.
    constexpr size_t kChunk = size_t{4} << 20;
    Napi::ArrayBuffer staging = Napi::ArrayBuffer::New(env, kChunk);
    char* buffer = static_cast<char*>(staging.Data());
    size_t filled = 0;
    std::optional<Napi::Error> failure;
    auto flush = [&] {
      if (filled > 0 && !failure) {
        Napi::HandleScope scope(env);
        try {
          write.Call({Napi::Uint8Array::New(env, filled, staging, 0)});
        } catch (const Napi::Error& error) {
          failure = error;
        }
      }
      filled = 0;
    };
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
      const char* from = static_cast<const char*>(data);
      for (size_t left = size; left > 0 && !failure;) {
        const size_t taken = std::min(left, kChunk - filled);
        std::memcpy(buffer + filled, from, taken);
        filled += taken;
        from += taken;
        left -= taken;
        if (filled == kChunk) flush();
      }
      return size;
    });
    torch::jit::writeArchiveAndTensors("data", pickled.data(), pickled.size(), pickler.tensorData(), writer);
    writer.writeEndOfFile();
    flush();
    if (failure) throw *failure;
    return env.Undefined();
  });
}

}  // namespace unet
