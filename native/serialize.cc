// PyTorch's own file format for state dicts: torch.save's zip of a pickle and tensor records,
// written and read by libtorch's pickler, so that torch.load in Python reads what we write
// and we read what torch.save wrote.
#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstring>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
Napi::Value toJsValue(Napi::Env env, const c10::IValue& value, const std::string& path);

Napi::Value dictToJs(Napi::Env env, const c10::impl::GenericDict& dict, const std::string& path) {
  Napi::Object object = Napi::Object::New(env);
  for (const auto& entry : dict) {
    if (!entry.key().isString()) TORCH_CHECK_TYPE(false, "a dict key under '", path, "' is a ", entry.key().tagKind(), ", not a string");
    std::string key = entry.key().toStringRef();
    object.Set(key, toJsValue(env, entry.value(), path.empty() ? key : path + "." + key));
  }
  return object;
}

// Tensors, dicts with string keys, lists and tuples, strings, numbers, booleans and None: what
// state dicts and checkpoints hold. Anything else is refused with its path.
Napi::Value toJsValue(Napi::Env env, const c10::IValue& value, const std::string& path) {
  if (value.isTensor()) return wrapTensor(env, value.toTensor());
  if (value.isGenericDict()) return dictToJs(env, value.toGenericDict(), path);
  if (value.isList() || value.isTuple()) {
    std::vector<c10::IValue> items = value.isList() ? value.toListRef().vec() : value.toTupleRef().elements().vec();
    Napi::Array array = Napi::Array::New(env, items.size());
    for (uint32_t k = 0; k < items.size(); ++k) array[k] = toJsValue(env, items[k], path + "[" + std::to_string(k) + "]");
    return array;
  }
  if (value.isString()) return Napi::String::New(env, value.toStringRef());
  if (value.isInt()) return Napi::Number::New(env, static_cast<double>(value.toInt()));
  if (value.isDouble()) return Napi::Number::New(env, value.toDouble());
  if (value.isBool()) return Napi::Boolean::New(env, value.toBool());
  if (value.isNone()) return env.Null();
  TORCH_CHECK_TYPE(false, "'", path.empty() ? "(the file's top level)" : path, "' holds a ", value.tagKind(),
                   ", which unet-torch does not read (expected tensors, dicts, lists, strings, numbers)");
}

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
    double number = value.As<Napi::Number>().DoubleValue();
    if (number == static_cast<double>(static_cast<int64_t>(number))) return static_cast<int64_t>(number);
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
  define(env, exports, "pickleLoad", {"data"}, [](Napi::Env env, Napi::TypedArray data) {
    const char* begin = static_cast<const char*>(data.ArrayBuffer().Data()) + data.ByteOffset();
    std::vector<char> bytes(begin, begin + data.ByteLength());
    return toJsValue(env, torch::jit::pickle_load(bytes), "");
  });
}

}  // namespace unet
