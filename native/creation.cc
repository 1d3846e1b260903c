// Tensor creation: from JS typed arrays, and the factory functions.
#include <ATen/ATen.h>

#include <cstring>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
at::TensorOptions options(std::optional<at::ScalarType> dtype, std::optional<c10::Device> device) {
  return at::TensorOptions().dtype(dtype).device(device);
}

std::optional<at::ScalarType> dtypeOfTypedArray(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
      return at::kChar;
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return at::kByte;
    case napi_int16_array:
      return at::kShort;
    case napi_int32_array:
      return at::kInt;
    case napi_float32_array:
      return at::kFloat;
    case napi_float64_array:
      return at::kDouble;
    case napi_bigint64_array:
      return at::kLong;
    default:
      return std::nullopt;
  }
}

void copyBytes(const at::Tensor& tensor, const Napi::TypedArray& array) {
  if (array.ByteLength() > 0) {
    std::memcpy(tensor.data_ptr(), static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset(), array.ByteLength());
  }
}

// A CPU tensor holding a copy of `data` (whose element type gives the dtype) in the given shape.
at::Tensor fromTypedArray(const Napi::TypedArray& array, const std::vector<int64_t>& shape) {
  Napi::Env env = array.Env();
  std::optional<at::ScalarType> dtype = dtypeOfTypedArray(array.TypedArrayType());
  if (!dtype) {
    throw Napi::TypeError::New(env,
                               "fromTypedArray(): argument 'data' must be an Int8Array, Uint8Array, Int16Array, Int32Array, "
                               "BigInt64Array, Float32Array or Float64Array");
  }
  int64_t numel = 1;
  for (int64_t size : shape) {
    if (size < 0) throw Napi::RangeError::New(env, "fromTypedArray(): argument 'shape' has a negative size");
    numel *= size;
  }
  if (numel != static_cast<int64_t>(array.ElementLength())) {
    throw Napi::RangeError::New(env, "fromTypedArray(): argument 'shape' holds " + std::to_string(numel) + " elements but 'data' has " +
                                         std::to_string(array.ElementLength()));
  }
  at::Tensor tensor = at::empty(shape, at::TensorOptions().dtype(*dtype));
  copyBytes(tensor, array);
  return tensor;
}

// A CPU tensor of `dtype` whose memory is a copy of the bytes of `data` (any typed array).
at::Tensor fromBytes(const Napi::TypedArray& array, const std::vector<int64_t>& shape, at::ScalarType dtype) {
  at::Tensor tensor = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (tensor.nbytes() != array.ByteLength()) {
    throw Napi::RangeError::New(array.Env(), "fromBytes(): " + std::to_string(array.ByteLength()) + " bytes cannot hold a " +
                                                 dtypeName(dtype) + " tensor of " + std::to_string(tensor.numel()) + " elements");
  }
  copyBytes(tensor, array);
  return tensor;
}
}  // namespace

void registerCreation(Napi::Env env, Napi::Object exports) {
  define(env, exports, "fromTypedArray", {"data", "shape"},
         [](Napi::TypedArray data, const std::vector<int64_t>& shape) { return fromTypedArray(data, shape); });
  define(env, exports, "fromBytes", {"data", "shape", "dtype"},
         [](Napi::TypedArray data, const std::vector<int64_t>& shape, at::ScalarType dtype) { return fromBytes(data, shape, dtype); });
  define(env, exports, "zeros", {"size", "dtype", "device"},
         [](const std::vector<int64_t>& size, std::optional<at::ScalarType> dtype, std::optional<c10::Device> device) {
           return at::zeros(size, options(dtype, device));
         });
  define(env, exports, "ones", {"size", "dtype", "device"},
         [](const std::vector<int64_t>& size, std::optional<at::ScalarType> dtype, std::optional<c10::Device> device) {
           return at::ones(size, options(dtype, device));
         });
  define(env, exports, "empty", {"size", "dtype", "device"},
         [](const std::vector<int64_t>& size, std::optional<at::ScalarType> dtype, std::optional<c10::Device> device) {
           return at::empty(size, options(dtype, device));
         });
  define(env, exports, "full", {"size", "fillValue", "dtype", "device"},
         [](const std::vector<int64_t>& size, const c10::Scalar& fill, std::optional<at::ScalarType> dtype,
            std::optional<c10::Device> device) { return at::full(size, fill, options(dtype, device)); });
  define(env, exports, "arange", {"start", "end", "step", "dtype", "device"},
         [](const c10::Scalar& start, const c10::Scalar& end, const c10::Scalar& step, std::optional<at::ScalarType> dtype,
            std::optional<c10::Device> device) { return at::arange(start, end, step, options(dtype, device)); });
  define(env, exports, "linspace", {"start", "end", "steps", "dtype", "device"},
         [](const c10::Scalar& start, const c10::Scalar& end, int64_t steps, std::optional<at::ScalarType> dtype,
            std::optional<c10::Device> device) { return at::linspace(start, end, steps, options(dtype, device)); });
  define(env, exports, "eye", {"n", "m", "dtype", "device"},
         [](int64_t n, std::optional<int64_t> m, std::optional<at::ScalarType> dtype, std::optional<c10::Device> device) {
           return at::eye(n, m.value_or(n), options(dtype, device));
         });
  define(env, exports, "rand", {"size", "dtype", "device"},
         [](const std::vector<int64_t>& size, std::optional<at::ScalarType> dtype, std::optional<c10::Device> device) {
           return at::rand(size, options(dtype, device));
         });
  define(env, exports, "randn", {"size", "dtype", "device"},
         [](const std::vector<int64_t>& size, std::optional<at::ScalarType> dtype, std::optional<c10::Device> device) {
           return at::randn(size, options(dtype, device));
         });
  define(env, exports, "randint", {"low", "high", "size", "dtype", "device"},
         [](int64_t low, int64_t high, const std::vector<int64_t>& size, std::optional<at::ScalarType> dtype,
            std::optional<c10::Device> device) { return at::randint(low, high, size, options(dtype.value_or(at::kLong), device)); });
}

}  // namespace unet
