// Reading tensor data back into JS: synchronously, or off the main thread with a Promise.
#include <ATen/ATen.h>

#include <cstring>
#include <exception>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
at::Tensor contiguousCpu(const at::Tensor& tensor) { return tensor.detach().to(at::kCPU).contiguous(); }

// A contiguous CPU tensor with the same values, in a dtype JS has a typed array for.
at::Tensor readable(const at::Tensor& tensor) {
  at::Tensor result = contiguousCpu(tensor);
  if (result.scalar_type() == at::kHalf || result.scalar_type() == at::kBFloat16) result = result.to(at::kFloat);
  return result;
}

// item() on the hot path of every training loop (loss values, metrics): a one-element CPU tensor
// is read directly, skipping two dispatcher hops; everything else takes torch's own item().
c10::Scalar item(const at::Tensor& tensor) {
  if (tensor.is_cpu() && tensor.layout() == at::kStrided && tensor.numel() == 1 && !tensor.is_conj() && !tensor.is_neg()) {
    c10::Scalar value;
    AT_DISPATCH_ALL_TYPES_AND3(at::kHalf, at::kBFloat16, at::kBool, tensor.scalar_type(), "item",
                               [&] { value = c10::Scalar(*tensor.const_data_ptr<scalar_t>()); });
    return value;
  }
  return tensor.item();
}

Napi::ArrayBuffer copyToArrayBuffer(Napi::Env env, const at::Tensor& contiguous) {
  size_t bytes = contiguous.nbytes();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes > 0) std::memcpy(buffer.Data(), contiguous.const_data_ptr(), bytes);
  return buffer;
}

// Converts and copies on a libuv thread (a CUDA tensor waits for its stream there, not on the
// main thread). It holds its own reference, so disposing the JS handle meanwhile is safe.
class ReadWorker : public Napi::AsyncWorker {
 public:
  ReadWorker(Napi::Env env, at::Tensor source)
      : Napi::AsyncWorker(env, "unet-torch:data"), source_(std::move(source)), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

  // A torch error is kept as it was thrown and turned into a JS error on the main thread by the
  // one path every binding uses (torchError: an allocation that fails is an OutOfMemoryError).
  void Execute() override {
    try {
      result_ = readable(source_);
    } catch (const c10::Error& error) {
      torchFailure_ = std::current_exception();  // keeps its type (c10::OutOfMemoryError), unlike a copy
      SetError(torchMessage(error));
    } catch (const std::exception& error) {
      SetError(std::string("Tensor.data(): ") + error.what());
    }
    source_.reset();
  }

  void OnOK() override { deferred_.Resolve(copyToArrayBuffer(Env(), result_)); }
  void OnError(const Napi::Error& error) override {
    if (!torchFailure_) return deferred_.Reject(error.Value());
    try {
      std::rethrow_exception(torchFailure_);
    } catch (const c10::Error& failure) {
      deferred_.Reject(torchError(Env(), "Tensor.data", failure).Value());
    }
  }

 private:
  at::Tensor source_;
  at::Tensor result_;
  std::exception_ptr torchFailure_;
  Napi::Promise::Deferred deferred_;
};
}  // namespace

void registerReadback(Napi::Env env, Napi::Object exports) {
  define(env, exports, "toArrayBuffer", {"tensor"},
         [](Napi::Env env, const at::Tensor& tensor) { return Napi::Value(copyToArrayBuffer(env, readable(tensor))); });
  define(env, exports, "readAsync", {"tensor"}, [](Napi::Env env, const at::Tensor& tensor) {
    auto* worker = new ReadWorker(env, tensor);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return Napi::Value(promise);
  });
  define(env, exports, "toBytes", {"tensor"},
         [](Napi::Env env, const at::Tensor& tensor) { return Napi::Value(copyToArrayBuffer(env, contiguousCpu(tensor))); });
  define(env, exports, "item", {"tensor"}, [](const at::Tensor& tensor) { return item(tensor); });
}

}  // namespace unet
