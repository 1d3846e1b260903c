// The one pattern every binding follows. A binding is a captureless C++ lambda whose parameter
// types say what it takes; `define` exports it under a name with its argument names, and at each
// call converts and type-checks every JS argument (Arg<T>), runs the lambda inside the one place
// that turns C++ exceptions into JS errors (guarded), and converts the result back (toJs).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/MemoryFormat.h>
#include <c10/core/Scalar.h>
#include <c10/util/Exception.h>
#include <napi.h>

#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor_table.h"

namespace unet {

struct Binding {
  const char* name;
  std::vector<const char*> argumentNames;
};

// --- errors -----------------------------------------------------------------------------------

[[noreturn]] void throwArgumentError(Napi::Env env, const Binding& binding, size_t index, const char* expected, const Napi::Value& got);
std::string describeValue(const Napi::Value& value);

// torch's message without its C++ backtrace or dispatcher tables.
std::string torchMessage(const c10::Error& error);

// The JS error for a torch error of binding `name`: an OutOfMemoryError (lib/errors.ts) when an
// allocator failed, else an Error.
Napi::Error torchError(Napi::Env env, const char* name, const c10::Error& error);

// Runs `body`, turning torch and C++ exceptions into JS errors that name the binding. torch's
// IndexError becomes a RangeError, its TypeError a TypeError and a failed allocation an
// OutOfMemoryError; the C++ backtrace is dropped.
template <typename Body>
Napi::Value guarded(Napi::Env env, const char* name, Body&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::IndexError& error) {
    throw Napi::RangeError::New(env, std::string(name) + "(): " + torchMessage(error));
  } catch (const c10::TypeError& error) {
    throw Napi::TypeError::New(env, std::string(name) + "(): " + torchMessage(error));
  } catch (const c10::Error& error) {
    throw torchError(env, name, error);
  } catch (const std::exception& error) {
    throw Napi::Error::New(env, std::string(name) + "(): " + error.what());
  }
}

// --- argument conversion ------------------------------------------------------------------------

// A tensor, or a JS number/boolean taken as a "wrapped number" the way Python's `x + 2` does,
// so that type promotion follows PyTorch (an integral number keeps an integer tensor integral).
struct Operand {
  at::Tensor value;
  // Set when the JS argument was a number: for the ops whose Python binding picks a Scalar overload.
  std::optional<c10::Scalar> scalar;
};

// A JS number, boolean or BigInt as a Scalar; a BigInt outside int64 is an error naming argument i.
c10::Scalar toScalar(const Napi::CallbackInfo& info, size_t i, const Binding& b);
bool isScalar(const Napi::Value& value);
at::Tensor wrappedNumber(const c10::Scalar& value);
std::optional<at::ScalarType> parseDtype(const std::string& name);
const char* dtypeName(at::ScalarType type);
std::optional<c10::Device> parseDevice(const std::string& text);
std::string deviceName(const c10::Device& device);
// Throws a JS Error naming the argument when `device` is a CUDA device this process cannot use.
void checkDeviceUsable(Napi::Env env, const Binding& binding, size_t index, const c10::Device& device);

template <typename T>
struct Arg;

template <>
struct Arg<at::Tensor> {
  static const at::Tensor& get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    std::optional<Handle> handle = handleOf(info.Env(), info[i]);
    if (!handle) throwArgumentError(info.Env(), b, i, "a Tensor", info[i]);
    const at::Tensor* tensor = stateOf(info.Env()).table->find(*handle);
    if (tensor == nullptr) throwArgumentError(info.Env(), b, i, "a live Tensor", info[i]);
    return *tensor;
  }
};

// A tensor by handle, live or disposed, for the bindings that manage handles (dispose, keep).
struct TensorRef {
  Handle handle;
  Napi::Value object;
};

template <>
struct Arg<TensorRef> {
  static TensorRef get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    std::optional<Handle> handle = handleOf(info.Env(), info[i]);
    if (!handle) throwArgumentError(info.Env(), b, i, "a Tensor", info[i]);
    return {*handle, info[i]};
  }
};

template <>
struct Arg<Operand> {
  static Operand get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (isScalar(info[i])) {
      c10::Scalar scalar = toScalar(info, i, b);
      return {wrappedNumber(scalar), scalar};
    }
    const at::Tensor* tensor = tensorOf(info.Env(), info[i]);
    if (tensor == nullptr) throwArgumentError(info.Env(), b, i, "a live Tensor or a number", info[i]);
    return {*tensor, std::nullopt};
  }
};

template <>
struct Arg<c10::Scalar> {
  static c10::Scalar get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (!isScalar(info[i])) throwArgumentError(info.Env(), b, i, "a number or boolean", info[i]);
    return toScalar(info, i, b);
  }
};

template <>
struct Arg<double> {
  static double get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (!info[i].IsNumber()) throwArgumentError(info.Env(), b, i, "a number", info[i]);
    return info[i].As<Napi::Number>().DoubleValue();
  }
};

int64_t toInteger(const Napi::CallbackInfo& info, size_t i, const Binding& b, const Napi::Value& value);

template <>
struct Arg<int64_t> {
  static int64_t get(const Napi::CallbackInfo& info, size_t i, const Binding& b) { return toInteger(info, i, b, info[i]); }
};

template <>
struct Arg<bool> {
  static bool get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (!info[i].IsBoolean()) throwArgumentError(info.Env(), b, i, "a boolean", info[i]);
    return info[i].As<Napi::Boolean>().Value();
  }
};

template <>
struct Arg<std::string> {
  static std::string get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (!info[i].IsString()) throwArgumentError(info.Env(), b, i, "a string", info[i]);
    return info[i].As<Napi::String>().Utf8Value();
  }
};

// An integer list (shape, dims, kernel size); a single integer counts as a list of one.
template <>
struct Arg<std::vector<int64_t>> {
  static std::vector<int64_t> get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (info[i].IsNumber()) return {toInteger(info, i, b, info[i])};
    if (!info[i].IsArray()) throwArgumentError(info.Env(), b, i, "an array of integers", info[i]);
    Napi::Array array = info[i].As<Napi::Array>();
    std::vector<int64_t> values(array.Length());
    for (uint32_t k = 0; k < values.size(); ++k) values[k] = toInteger(info, i, b, array.Get(k));
    return values;
  }
};

template <>
struct Arg<std::vector<double>> {
  static std::vector<double> get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (info[i].IsNumber()) return {info[i].As<Napi::Number>().DoubleValue()};
    if (!info[i].IsArray()) throwArgumentError(info.Env(), b, i, "an array of numbers", info[i]);
    Napi::Array array = info[i].As<Napi::Array>();
    std::vector<double> values(array.Length());
    for (uint32_t k = 0; k < values.size(); ++k) {
      Napi::Value element = array.Get(k);
      if (!element.IsNumber()) throwArgumentError(info.Env(), b, i, "an array of numbers", info[i]);
      values[k] = element.As<Napi::Number>().DoubleValue();
    }
    return values;
  }
};

template <>
struct Arg<std::vector<std::string>> {
  static std::vector<std::string> get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (!info[i].IsArray()) throwArgumentError(info.Env(), b, i, "an array of strings", info[i]);
    Napi::Array array = info[i].As<Napi::Array>();
    std::vector<std::string> values(array.Length());
    for (uint32_t k = 0; k < values.size(); ++k) {
      Napi::Value element = array.Get(k);
      if (!element.IsString()) throwArgumentError(info.Env(), b, i, "an array of strings", info[i]);
      values[k] = element.As<Napi::String>().Utf8Value();
    }
    return values;
  }
};

template <>
struct Arg<std::vector<at::Tensor>> {
  static std::vector<at::Tensor> get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (!info[i].IsArray()) throwArgumentError(info.Env(), b, i, "an array of Tensors", info[i]);
    Napi::Array array = info[i].As<Napi::Array>();
    std::vector<at::Tensor> tensors;
    tensors.reserve(array.Length());
    for (uint32_t k = 0; k < array.Length(); ++k) {
      const at::Tensor* tensor = tensorOf(info.Env(), array.Get(k));
      if (tensor == nullptr) throwArgumentError(info.Env(), b, i, "an array of live Tensors", info[i]);
      tensors.push_back(*tensor);
    }
    return tensors;
  }
};

template <>
struct Arg<std::vector<TensorRef>> {
  static std::vector<TensorRef> get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (!info[i].IsArray()) throwArgumentError(info.Env(), b, i, "an array of Tensors", info[i]);
    Napi::Array array = info[i].As<Napi::Array>();
    std::vector<TensorRef> tensors;
    tensors.reserve(array.Length());
    for (uint32_t k = 0; k < array.Length(); ++k) {
      Napi::Value element = array.Get(k);
      std::optional<Handle> handle = handleOf(info.Env(), element);
      if (!handle) throwArgumentError(info.Env(), b, i, "an array of Tensors", info[i]);
      tensors.push_back({*handle, element});
    }
    return tensors;
  }
};

template <>
struct Arg<at::ScalarType> {
  static at::ScalarType get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    std::optional<at::ScalarType> type = info[i].IsString() ? parseDtype(info[i].As<Napi::String>().Utf8Value()) : std::nullopt;
    if (!type) {
      throwArgumentError(info.Env(), b, i,
                         "a dtype ('float32', 'float64', 'float16', 'bfloat16', 'int8', 'int16', 'int32', 'int64', "
                         "'uint8' or 'bool')",
                         info[i]);
    }
    return *type;
  }
};

template <>
struct Arg<c10::Device> {
  static c10::Device get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    std::optional<c10::Device> device = info[i].IsString() ? parseDevice(info[i].As<Napi::String>().Utf8Value()) : std::nullopt;
    if (!device) throwArgumentError(info.Env(), b, i, "a device ('cpu', 'cuda' or 'cuda:N')", info[i]);
    checkDeviceUsable(info.Env(), b, i, *device);
    return *device;
  }
};

template <>
struct Arg<c10::MemoryFormat> {
  static c10::MemoryFormat get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (info[i].IsString()) {
      std::string name = info[i].As<Napi::String>().Utf8Value();
      if (name == "contiguous") return c10::MemoryFormat::Contiguous;
      if (name == "channelsLast") return c10::MemoryFormat::ChannelsLast;
      if (name == "preserve") return c10::MemoryFormat::Preserve;
    }
    throwArgumentError(info.Env(), b, i, "a memory format ('contiguous', 'channelsLast' or 'preserve')", info[i]);
  }
};

template <>
struct Arg<Napi::TypedArray> {
  static Napi::TypedArray get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (!info[i].IsTypedArray()) throwArgumentError(info.Env(), b, i, "a typed array", info[i]);
    return info[i].As<Napi::TypedArray>();
  }
};

template <>
struct Arg<Napi::Function> {
  static Napi::Function get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (!info[i].IsFunction()) throwArgumentError(info.Env(), b, i, "a function", info[i]);
    return info[i].As<Napi::Function>();
  }
};

template <>
struct Arg<Napi::Value> {
  static Napi::Value get(const Napi::CallbackInfo& info, size_t i, const Binding&) { return info[i]; }
};

// undefined or null means "not given".
template <typename T>
struct Arg<std::optional<T>> {
  static std::optional<T> get(const Napi::CallbackInfo& info, size_t i, const Binding& b) {
    if (info[i].IsUndefined() || info[i].IsNull()) return std::nullopt;
    return T(Arg<T>::get(info, i, b));
  }
};

// --- result conversion --------------------------------------------------------------------------

inline Napi::Value toJs(Napi::Env env, Napi::Value value) { return value; }
inline Napi::Value toJs(Napi::Env env, at::Tensor tensor) { return wrapTensor(env, std::move(tensor)); }
inline Napi::Value toJs(Napi::Env env, double value) { return Napi::Number::New(env, value); }
inline Napi::Value toJs(Napi::Env env, int64_t value) { return Napi::Number::New(env, static_cast<double>(value)); }
inline Napi::Value toJs(Napi::Env env, bool value) { return Napi::Boolean::New(env, value); }
inline Napi::Value toJs(Napi::Env env, const std::string& value) { return Napi::String::New(env, value); }
Napi::Value toJs(Napi::Env env, const c10::Scalar& value);
Napi::Value toJs(Napi::Env env, const std::vector<int64_t>& values);
Napi::Value toJs(Napi::Env env, const std::vector<std::string>& values);
Napi::Value toJs(Napi::Env env, std::vector<at::Tensor> tensors);

template <typename... T>
Napi::Value toJs(Napi::Env env, std::tuple<T...> values) {
  Napi::Array array = Napi::Array::New(env, sizeof...(T));
  uint32_t k = 0;
  std::apply([&](auto&... value) { ((array[k++] = toJs(env, std::move(value))), ...); }, values);
  return array;
}

// --- C++ objects held by JS --------------------------------------------------------------------

// A JS External holding one C++ object (a process group, a DDP reducer, a CUDA graph), tagged so
// that a wrong or foreign value is refused by name; the object is deleted when JS collects it.
template <typename T>
struct Tagged {
  static Napi::Value wrap(Napi::Env env, T* object, const napi_type_tag& tag) {
    auto external = Napi::External<T>::New(env, object, [](Napi::Env, T* held) { delete held; });
    if (napi_type_tag_object(env, external, &tag) != napi_ok) throw Napi::Error::New(env);
    return external;
  }
  static T& unwrap(Napi::Env env, const Napi::Value& value, const napi_type_tag& tag, const char* binding, const char* argument,
                   const char* kind) {
    bool tagged = false;
    if (value.IsExternal() && napi_check_object_type_tag(env, value, &tag, &tagged) != napi_ok) throw Napi::Error::New(env);
    if (!tagged)
      throw Napi::TypeError::New(
          env, std::string(binding) + "(): argument '" + argument + "' must be a " + kind + ", got " + describeValue(value));
    return *value.As<Napi::External<T>>().Data();
  }
};

// --- the binding itself -------------------------------------------------------------------------

template <typename F>
struct Signature : Signature<decltype(&F::operator())> {};
template <typename C, typename R, typename... A>
struct Signature<R (C::*)(A...) const> {
  using Result = R;
  using Parameters = std::tuple<std::remove_cvref_t<A>...>;
};

// A binding whose first parameter is Napi::Env receives the environment; it takes no JS argument.
template <typename Parameters>
constexpr size_t environmentParameters() {
  if constexpr (std::tuple_size_v<Parameters> == 0) {
    return 0;
  } else {
    return std::is_same_v<std::tuple_element_t<0, Parameters>, Napi::Env> ? 1 : 0;
  }
}

template <>
struct Arg<Napi::Env> {
  static Napi::Env get(const Napi::CallbackInfo& info, size_t, const Binding&) { return info.Env(); }
};

template <typename F, size_t... I>
Napi::Value invoke(const Napi::CallbackInfo& info, const Binding& binding, std::index_sequence<I...>) {
  using Parameters = typename Signature<F>::Parameters;
  constexpr size_t skip = environmentParameters<Parameters>();
  Napi::Env env = info.Env();
  // Braced initialisation converts the arguments left to right, so the first bad one is reported.
  std::tuple<decltype(Arg<std::tuple_element_t<I, Parameters>>::get(info, I - skip, binding))...> arguments{
      Arg<std::tuple_element_t<I, Parameters>>::get(info, I < skip ? 0 : I - skip, binding)...};
  if constexpr (std::is_void_v<typename Signature<F>::Result>) {
    std::apply(F{}, std::move(arguments));
    return env.Undefined();
  } else {
    return toJs(env, std::apply(F{}, std::move(arguments)));
  }
}

// Raises `error` in JS without node-addon-api's own path, which throws again (and so aborts the
// process) when the environment is a worker being terminated.
Napi::Value raise(Napi::Env env, const Napi::Error& error);

template <typename F>
Napi::Value dispatch(const Napi::CallbackInfo& info) {
  const Binding& binding = *static_cast<const Binding*>(info.Data());
  constexpr size_t arity = std::tuple_size_v<typename Signature<F>::Parameters>;
  try {
    return guarded(info.Env(), binding.name, [&] { return invoke<F>(info, binding, std::make_index_sequence<arity>{}); });
  } catch (const Napi::Error& error) {
    return raise(info.Env(), error);
  }
}

// Exports `fn` as exports[name]. Each lambda type has one Binding for the whole process, shared
// by every environment (main thread and workers).
template <typename F>
void define(Napi::Env env, Napi::Object exports, const char* name, std::vector<const char*> argumentNames, F) {
  static_assert(std::is_empty_v<F>, "a binding must be a captureless lambda");
  static const Binding* binding = new Binding{name, std::move(argumentNames)};
  exports.Set(name, Napi::Function::New(env, dispatch<F>, name, const_cast<Binding*>(binding)));
}

}  // namespace unet
