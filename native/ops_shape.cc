// Conversions, shape, indexing, joining and padding.
#include <ATen/ATen.h>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
using T = const at::Tensor&;
using Ints = const std::vector<int64_t>&;

// Advanced-indexing indices: one Tensor or null (a full slice) per leading dimension.
c10::List<std::optional<at::Tensor>> indexList(Napi::Value indices) {
  Napi::Env env = indices.Env();
  if (!indices.IsArray()) throw Napi::TypeError::New(env, "index(): argument 'indices' must be an array of Tensors or nulls");
  Napi::Array array = indices.As<Napi::Array>();
  c10::List<std::optional<at::Tensor>> list;
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Napi::Value element = array.Get(k);
    if (element.IsNull() || element.IsUndefined()) {
      list.push_back(std::nullopt);
      continue;
    }
    const at::Tensor* tensor = tensorOf(env, element);
    if (tensor == nullptr) {
      throw Napi::TypeError::New(env, "index(): argument 'indices' must hold live Tensors or nulls, got " + describeValue(element) +
                                          " at position " + std::to_string(k));
    }
    list.push_back(*tensor);
  }
  return list;
}
}  // namespace

void registerShapeOps(Napi::Env env, Napi::Object exports) {
  // conversions
  define(env, exports, "toDtype", {"input", "dtype"}, [](T input, at::ScalarType dtype) { return input.to(dtype); });
  // nonBlocking: a copy from pinned (or, host to device, any) memory is queued on the current
  // stream without the host waiting for the stream (PyTorch's non_blocking).
  define(env, exports, "toDevice", {"input", "device", "nonBlocking"},
         [](T input, c10::Device device, std::optional<bool> nonBlocking) { return input.to(device, nonBlocking.value_or(false)); });
  define(env, exports, "pinMemory", {"input"}, [](T input) {
    TORCH_CHECK_VALUE(input.device().is_cpu(), "only a CPU tensor can be pinned, got one on ", input.device());
    TORCH_CHECK_VALUE(at::hasCUDA(), "pinned memory needs CUDA, which this libtorch or machine does not have");
    return input.pin_memory();
  });
  define(env, exports, "isPinned", {"input"}, [](T input) { return input.is_pinned(); });
  define(env, exports, "clone", {"input", "memoryFormat"},
         [](T input, std::optional<c10::MemoryFormat> format) { return input.clone(format); });
  define(env, exports, "detach", {"input"}, [](T input) { return input.detach(); });
  define(env, exports, "alias", {"input"}, [](T input) { return at::alias(input); });
  define(env, exports, "asStrided", {"input", "size", "stride", "storageOffset"},
         [](T input, Ints size, Ints stride, int64_t offset) { return at::as_strided(input, size, stride, offset); });
  define(env, exports, "contiguous", {"input", "memoryFormat"},
         [](T input, std::optional<c10::MemoryFormat> format) { return input.contiguous(format.value_or(c10::MemoryFormat::Contiguous)); });
  define(env, exports, "isContiguous", {"input", "memoryFormat"}, [](T input, std::optional<c10::MemoryFormat> format) {
    return input.is_contiguous(format.value_or(c10::MemoryFormat::Contiguous));
  });
  define(env, exports, "stride", {"input"}, [](T input) { return input.strides().vec(); });

  // shape
  define(env, exports, "reshape", {"input", "shape"}, [](T input, Ints shape) { return at::reshape(input, shape); });
  define(env, exports, "view", {"input", "shape"}, [](T input, Ints shape) { return input.view(shape); });
  define(env, exports, "permute", {"input", "dims"}, [](T input, Ints dims) { return input.permute(dims); });
  define(env, exports, "transpose", {"input", "dim0", "dim1"},
         [](T input, int64_t dim0, int64_t dim1) { return at::transpose(input, dim0, dim1); });
  define(env, exports, "squeeze", {"input", "dim"},
         [](T input, std::optional<std::vector<int64_t>> dim) { return dim ? at::squeeze(input, *dim) : at::squeeze(input); });
  define(env, exports, "unsqueeze", {"input", "dim"}, [](T input, int64_t dim) { return at::unsqueeze(input, dim); });
  define(env, exports, "flatten", {"input", "startDim", "endDim"},
         [](T input, int64_t start, int64_t end) { return at::flatten(input, start, end); });
  define(env, exports, "expand", {"input", "size"}, [](T input, Ints size) { return input.expand(size); });
  define(env, exports, "repeat", {"input", "repeats"}, [](T input, Ints repeats) { return input.repeat(repeats); });
  define(env, exports, "flip", {"input", "dims"}, [](T input, Ints dims) { return at::flip(input, dims); });
  define(env, exports, "roll", {"input", "shifts", "dims"}, [](T input, Ints shifts, Ints dims) { return at::roll(input, shifts, dims); });

  // indexing
  define(env, exports, "narrow", {"input", "dim", "start", "length"},
         [](T input, int64_t dim, int64_t start, int64_t length) { return at::narrow(input, dim, start, length); });
  define(env, exports, "select", {"input", "dim", "index"},
         [](T input, int64_t dim, int64_t index) { return at::select(input, dim, index); });
  define(env, exports, "slice", {"input", "dim", "start", "end", "step"},
         [](T input, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step) {
           return at::slice(input, dim, start, end, step);
         });
  define(env, exports, "index", {"input", "indices"}, [](T input, Napi::Value indices) { return at::index(input, indexList(indices)); });
  define(env, exports, "indexPut_", {"input", "indices", "values", "accumulate"},
         [](T input, Napi::Value indices, const Operand& values, bool accumulate) {
           // A number takes the destination's dtype and device, as in Python's `x[i] = 0.5`.
           at::Tensor source = values.scalar ? at::scalar_tensor(*values.scalar, input.options()) : values.value;
           input.index_put_(indexList(indices), source, accumulate);
         });
  define(env, exports, "indexSelect", {"input", "dim", "index"},
         [](T input, int64_t dim, T index) { return at::index_select(input, dim, index); });
  define(env, exports, "gather", {"input", "dim", "index"}, [](T input, int64_t dim, T index) { return at::gather(input, dim, index); });
  define(env, exports, "scatter", {"input", "dim", "index", "src"}, [](T input, int64_t dim, T index, const Operand& src) {
    return src.scalar ? at::scatter(input, dim, index, *src.scalar) : at::scatter(input, dim, index, src.value);
  });
  define(env, exports, "maskedFill", {"input", "mask", "value"}, [](T input, T mask, const Operand& value) {
    return value.scalar ? at::masked_fill(input, mask, *value.scalar) : at::masked_fill(input, mask, value.value);
  });
  define(env, exports, "maskedSelect", {"input", "mask"}, [](T input, T mask) { return at::masked_select(input, mask); });

  // joining and splitting
  define(env, exports, "cat", {"tensors", "dim"},
         [](const std::vector<at::Tensor>& tensors, int64_t dim) { return at::cat(tensors, dim); });
  define(env, exports, "stack", {"tensors", "dim"},
         [](const std::vector<at::Tensor>& tensors, int64_t dim) { return at::stack(tensors, dim); });
  define(env, exports, "split", {"input", "splitSize", "dim"},
         [](T input, int64_t size, int64_t dim) { return at::split(input, size, dim); });
  define(env, exports, "splitWithSizes", {"input", "splitSizes", "dim"},
         [](T input, Ints sizes, int64_t dim) { return at::split_with_sizes(input, sizes, dim); });
  define(env, exports, "chunk", {"input", "chunks", "dim"},
         [](T input, int64_t chunks, int64_t dim) { return at::chunk(input, chunks, dim); });

  // padding
  define(env, exports, "pad", {"input", "pad", "mode", "value"},
         [](T input, Ints pad, const std::string& mode, std::optional<double> value) { return at::pad(input, pad, mode, value); });
}

}  // namespace unet
