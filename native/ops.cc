// Tensor operations. Each is one line over ATen: PyTorch's own semantics (broadcasting, type
// promotion, errors) come from ATen itself.
#include <ATen/ATen.h>

#include "bind.h"
#include "bindings.h"

namespace unet {

void registerOps(Napi::Env env, Napi::Object exports) {
  // conversions
  define(env, exports, "toDtype", {"input", "dtype"},
         [](const at::Tensor& input, at::ScalarType dtype) { return input.to(dtype); });
  define(env, exports, "toDevice", {"input", "device"},
         [](const at::Tensor& input, c10::Device device) { return input.to(device); });
  define(env, exports, "clone", {"input"}, [](const at::Tensor& input) { return input.clone(); });
  define(env, exports, "detach", {"input"}, [](const at::Tensor& input) { return input.detach(); });

  // arithmetic
  define(env, exports, "add", {"input", "other", "alpha"},
         [](const at::Tensor& input, const Operand& other, const c10::Scalar& alpha) { return at::add(input, other.value, alpha); });
  define(env, exports, "add_", {"input", "other", "alpha"},
         [](const at::Tensor& input, const Operand& other, const c10::Scalar& alpha) { input.add_(other.value, alpha); });
  define(env, exports, "sub", {"input", "other", "alpha"},
         [](const at::Tensor& input, const Operand& other, const c10::Scalar& alpha) { return at::sub(input, other.value, alpha); });
  define(env, exports, "mul", {"input", "other"},
         [](const at::Tensor& input, const Operand& other) { return at::mul(input, other.value); });
  define(env, exports, "mul_", {"input", "other"},
         [](const at::Tensor& input, const Operand& other) { input.mul_(other.value); });
  define(env, exports, "div", {"input", "other"},
         [](const at::Tensor& input, const Operand& other) { return at::div(input, other.value); });
  define(env, exports, "neg", {"input"}, [](const at::Tensor& input) { return at::neg(input); });
  define(env, exports, "matmul", {"input", "other"},
         [](const at::Tensor& input, const at::Tensor& other) { return at::matmul(input, other); });

  // reductions
  define(env, exports, "sum", {"input"}, [](const at::Tensor& input) { return at::sum(input); });
  define(env, exports, "mean", {"input"}, [](const at::Tensor& input) { return at::mean(input); });

  // shape
  define(env, exports, "reshape", {"input", "shape"},
         [](const at::Tensor& input, const std::vector<int64_t>& shape) { return at::reshape(input, shape); });

  // autograd
  define(env, exports, "backward", {"input", "gradient", "retainGraph"},
         [](const at::Tensor& input, std::optional<at::Tensor> gradient, bool retainGraph) {
           input.backward(gradient.value_or(at::Tensor()), retainGraph);
         });
  define(env, exports, "grad", {"input"}, [](const at::Tensor& input) { return input.grad(); });
}

}  // namespace unet
