#include "bind.h"

#include <ATen/ATen.h>
#include <ATen/ScalarOps.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <cmath>

namespace unet {

std::string describeValue(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_boolean:
      return value.As<Napi::Boolean>().Value() ? "true" : "false";
    case napi_number: {
      std::string text = value.ToString().Utf8Value();
      return "the number " + text;
    }
    case napi_string:
      return "a string";
    case napi_bigint:
      return "a bigint";
    case napi_symbol:
      return "a symbol";
    case napi_function:
      return "a function";
    default:
      break;
  }
  if (value.IsArray()) return "an array";
  if (value.IsTypedArray()) return "a typed array";
  if (handleOf(value.Env(), value)) return tensorOf(value.Env(), value) == nullptr ? "a disposed Tensor" : "a Tensor";
  return "an object that is not a Tensor";
}

namespace {
const char* argumentName(const Binding& binding, size_t index) {
  return index < binding.argumentNames.size() ? binding.argumentNames[index] : "(extra)";
}
}  // namespace

void throwArgumentError(Napi::Env env, const Binding& binding, size_t index, const char* expected, const Napi::Value& got) {
  const char* argument = argumentName(binding, index);
  throw Napi::TypeError::New(
      env, std::string(binding.name) + "(): argument '" + argument + "' must be " + expected + ", got " + describeValue(got));
}

std::string torchMessage(const c10::Error& error) {
  std::string message = error.what_without_backtrace();
  size_t table = message.find("\n\n");
  if (table != std::string::npos && message.find("registered at", table) != std::string::npos) message.resize(table);
  return message;
}

Napi::Error torchError(Napi::Env env, const char* name, const c10::Error& error) {
  const std::string message = std::string(name) + "(): " + torchMessage(error);
  // The CPU allocator reports a refused allocation as a plain enforce failure; CUDA's caching
  // allocator (and others) throw c10::OutOfMemoryError.
  const bool outOfMemory = dynamic_cast<const c10::OutOfMemoryError*>(&error) != nullptr ||
                           message.find("DefaultCPUAllocator: can't allocate memory") != std::string::npos;
  const Napi::FunctionReference& errorClass = stateOf(env).outOfMemoryErrorClass;
  if (!outOfMemory || errorClass.IsEmpty()) return Napi::Error::New(env, message);
  return Napi::Error(env, errorClass.New({Napi::String::New(env, message)}));
}

void checkDeviceUsable(Napi::Env env, const Binding& binding, size_t index, const c10::Device& device) {
  if (!device.is_cuda()) return;
  std::string prefix =
      std::string(binding.name) + "(): argument '" + argumentName(binding, index) + "' is '" + deviceName(device) + "' but ";
  if (!at::hasCUDA()) {
    throw Napi::Error::New(env, prefix +
                                    "CUDA is not available (no NVIDIA GPU is visible, or this libtorch is a CPU "
                                    "build; see torch.cuda.isAvailable() and `unet info`)");
  }
  int gpus = at::detail::getCUDAHooks().getNumGPUs();
  if (device.has_index() && device.index() >= gpus) {
    throw Napi::RangeError::New(env, prefix + "only " + std::to_string(gpus) + " CUDA device(s) are visible");
  }
}

Napi::Value raise(Napi::Env env, const Napi::Error& error) {
  napi_throw(env, error.Value());  // fails only while the environment is shutting down
  return Napi::Value();
}

bool isScalar(const Napi::Value& value) { return value.IsNumber() || value.IsBoolean() || value.IsBigInt(); }

c10::Scalar toScalar(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
  const Napi::Value value = info[i];
  if (value.IsBoolean()) return c10::Scalar(value.As<Napi::Boolean>().Value());
  if (value.IsBigInt()) {
    bool lossless = false;
    const int64_t integer = value.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) throwArgumentError(info.Env(), b, i, "a BigInt within int64 (-2^63 to 2^63 - 1)", value);
    return c10::Scalar(integer);
  }
  double number = value.As<Napi::Number>().DoubleValue();
  // An integral JS number acts like a Python int: it does not promote an integer tensor to float.
  if (std::isfinite(number) && number == std::trunc(number) && std::fabs(number) < 9007199254740992.0) {
    return c10::Scalar(static_cast<int64_t>(number));
  }
  return c10::Scalar(number);
}

at::Tensor wrappedNumber(const c10::Scalar& value) {
  // double, int64 or bool by the scalar's kind, as Python's scalar_to_tensor does; a float32 tensor
  // here would round the scalar before it meets a float64 tensor.
  at::Tensor wrapped = c10::scalar_to_tensor(value);
  wrapped.unsafeGetTensorImpl()->set_wrapped_number(true);
  return wrapped;
}

int64_t toInteger(const Napi::CallbackInfo& info, size_t i, const Binding& b, const Napi::Value& value) {
  if (value.IsNumber()) {
    double number = value.As<Napi::Number>().DoubleValue();
    if (std::isfinite(number) && number == std::trunc(number) && std::fabs(number) < 9007199254740992.0) {
      return static_cast<int64_t>(number);
    }
  } else if (value.IsBigInt()) {
    bool lossless = false;
    int64_t integer = value.As<Napi::BigInt>().Int64Value(&lossless);
    if (lossless) return integer;
  }
  throwArgumentError(info.Env(), b, i, "an integer", value);
}

namespace {
struct DtypeName {
  const char* name;
  at::ScalarType type;
};
constexpr DtypeName kDtypes[] = {
    {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf}, {"bfloat16", at::kBFloat16}, {"int8", at::kChar},
    {"int16", at::kShort},   {"int32", at::kInt},      {"int64", at::kLong},   {"uint8", at::kByte},        {"bool", at::kBool},
};
}  // namespace

std::optional<at::ScalarType> parseDtype(const std::string& name) {
  for (const auto& entry : kDtypes) {
    if (name == entry.name) return entry.type;
  }
  return std::nullopt;
}

const char* dtypeName(at::ScalarType type) {
  for (const auto& entry : kDtypes) {
    if (type == entry.type) return entry.name;
  }
  return c10::toString(type);
}

std::optional<c10::Device> parseDevice(const std::string& text) {
  if (text == "cpu") return c10::Device(c10::kCPU);
  if (text == "cuda") return c10::Device(c10::kCUDA);
  if (text.rfind("cuda:", 0) == 0 && text.size() > 5 && text.size() < 9) {
    int index = 0;
    for (size_t k = 5; k < text.size(); ++k) {
      if (text[k] < '0' || text[k] > '9') return std::nullopt;
      index = index * 10 + (text[k] - '0');
    }
    if (index > 127) return std::nullopt;
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return std::nullopt;
}

std::string deviceName(const c10::Device& device) {
  if (device.is_cpu()) return "cpu";
  return device.str();
}

Napi::Value toJs(Napi::Env env, const c10::Scalar& value) {
  if (value.isBoolean()) return Napi::Boolean::New(env, value.toBool());
  if (value.isIntegral(false)) return Napi::Number::New(env, static_cast<double>(value.toLong()));
  return Napi::Number::New(env, value.toDouble());
}

Napi::Value toJs(Napi::Env env, const std::vector<int64_t>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (uint32_t k = 0; k < values.size(); ++k) array[k] = Napi::Number::New(env, static_cast<double>(values[k]));
  return array;
}

Napi::Value toJs(Napi::Env env, const std::vector<std::string>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (uint32_t k = 0; k < values.size(); ++k) array[k] = Napi::String::New(env, values[k]);
  return array;
}

Napi::Value toJs(Napi::Env env, std::vector<at::Tensor> tensors) {
  Napi::Array array = Napi::Array::New(env, tensors.size());
  for (uint32_t k = 0; k < tensors.size(); ++k) array[k] = wrapTensor(env, std::move(tensors[k]));
  return array;
}

}  // namespace unet
