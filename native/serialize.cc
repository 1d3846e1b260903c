// PyTorch's own file format for state dicts: torch.save's zip of a pickle and tensor records,
// written by libtorch's pickler, so that torch.load in Python reads what we write. Reading goes
// through lib/io/pickle.ts, a restricted unpickler that refuses any Python object.
#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cmath>
#include <cstring>

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
  define(env, exports, "pickleSave", {"value"}, [](Napi::Env env, Napi::Value value) {
    // torch::jit::pickle_save, but with untagged dicts and lists: a type tag would be a global
    // that Python's torch.load(weights_only=True) refuses.
    std::vector<char> pickled;
    torch::jit::Pickler pickler([&](const char* data, size_t size) { pickled.insert(pickled.end(), data, data + size); }, nullptr, nullptr,
                                nullptr, nullptr, /*tag_aggregates=*/false);
    pickler.protocol();
    pickler.pushIValue(fromJs(env, value, ""));
    pickler.stop();
    std::vector<char> bytes;
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
      bytes.insert(bytes.end(), static_cast<const char*>(data), static_cast<const char*>(data) + size);
      return size;
    });
    torch::jit::writeArchiveAndTensors("data", pickled.data(), pickled.size(), pickler.tensorData(), writer);
    writer.writeEndOfFile();
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes.size());
    std::memcpy(buffer.Data(), bytes.data(), bytes.size());
    return Napi::Value(buffer);
  });
}

}  // namespace unet
