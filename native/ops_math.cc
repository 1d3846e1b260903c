// Arithmetic, comparison, reductions and linear algebra. Each binding is one call into ATen, so
// PyTorch's semantics (broadcasting, type promotion, errors) come from ATen itself.
#include <ATen/ATen.h>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
using T = const at::Tensor&;
using Dims = std::optional<std::vector<int64_t>>;

template <at::Tensor (*Op)(T)>
void unary(Napi::Env env, Napi::Object exports, const char* name) {
  define(env, exports, name, {"input"}, [](T input) { return Op(input); });
}

template <at::Tensor (*Op)(T, T)>
void binary(Napi::Env env, Napi::Object exports, const char* name) {
  define(env, exports, name, {"input", "other"}, [](T input, const Operand& other) { return Op(input, other.value); });
}

template <at::Tensor& (at::Tensor::*Op)(T) const>
void binaryInPlace(Napi::Env env, Napi::Object exports, const char* name) {
  define(env, exports, name, {"input", "other"}, [](T input, const Operand& other) { (input.*Op)(other.value); });
}

template <at::Tensor& (at::Tensor::*Op)() const>
void unaryInPlace(Napi::Env env, Napi::Object exports, const char* name) {
  define(env, exports, name, {"input"}, [](T input) { (input.*Op)(); });
}

at::Tensor round(T input) { return at::round(input); }
at::Tensor sign(T input) { return at::sign(input); }
at::Tensor eq(T a, T b) { return at::eq(a, b); }
at::Tensor ne(T a, T b) { return at::ne(a, b); }
at::Tensor lt(T a, T b) { return at::lt(a, b); }
at::Tensor le(T a, T b) { return at::le(a, b); }
at::Tensor gt(T a, T b) { return at::gt(a, b); }
at::Tensor ge(T a, T b) { return at::ge(a, b); }
}  // namespace

void registerMathOps(Napi::Env env, Napi::Object exports) {
  // elementwise
  define(env, exports, "add", {"input", "other", "alpha"},
         [](T input, const Operand& other, const c10::Scalar& alpha) { return at::add(input, other.value, alpha); });
  define(env, exports, "sub", {"input", "other", "alpha"},
         [](T input, const Operand& other, const c10::Scalar& alpha) { return at::sub(input, other.value, alpha); });
  define(env, exports, "add_", {"input", "other", "alpha"},
         [](T input, const Operand& other, const c10::Scalar& alpha) { input.add_(other.value, alpha); });
  define(env, exports, "sub_", {"input", "other", "alpha"},
         [](T input, const Operand& other, const c10::Scalar& alpha) { input.sub_(other.value, alpha); });
  binary<&at::mul>(env, exports, "mul");
  binaryInPlace<&at::Tensor::mul_>(env, exports, "mul_");
  define(env, exports, "div", {"input", "other", "roundingMode"},
         [](T input, const Operand& other, std::optional<std::string> mode) { return at::div(input, other.value, mode); });
  define(env, exports, "div_", {"input", "other", "roundingMode"},
         [](T input, const Operand& other, std::optional<std::string> mode) { input.div_(other.value, mode); });
  define(env, exports, "pow", {"input", "exponent"}, [](T input, const Operand& exponent) {
    return exponent.scalar ? at::pow(input, *exponent.scalar) : at::pow(input, exponent.value);
  });
  define(env, exports, "powScalarBase", {"base", "exponent"}, [](const c10::Scalar& base, T exponent) { return at::pow(base, exponent); });
  binary<&at::minimum>(env, exports, "minimum");
  binary<&at::maximum>(env, exports, "maximum");
  unary<&at::neg>(env, exports, "neg");
  unary<&at::sqrt>(env, exports, "sqrt");
  unary<&at::rsqrt>(env, exports, "rsqrt");
  unary<&at::exp>(env, exports, "exp");
  unary<&at::log>(env, exports, "log");
  unary<&at::log1p>(env, exports, "log1p");
  unary<&at::abs>(env, exports, "abs");
  unary<&sign>(env, exports, "sign");
  unary<&at::floor>(env, exports, "floor");
  unary<&at::ceil>(env, exports, "ceil");
  unary<&round>(env, exports, "round");
  unaryInPlace<&at::Tensor::neg_>(env, exports, "neg_");
  unaryInPlace<&at::Tensor::sqrt_>(env, exports, "sqrt_");
  unaryInPlace<&at::Tensor::exp_>(env, exports, "exp_");
  unaryInPlace<&at::Tensor::zero_>(env, exports, "zero_");
  unaryInPlace<&at::Tensor::erfinv_>(env, exports, "erfinv_");
  unary<&at::erf>(env, exports, "erf");
  unary<&at::reciprocal>(env, exports, "reciprocal");
  define(env, exports, "uniform_", {"input", "from", "to"}, [](T input, double from, double to) { input.uniform_(from, to); });
  define(env, exports, "normal_", {"input", "mean", "std"}, [](T input, double mean, double std) { input.normal_(mean, std); });
  define(env, exports, "lerp_", {"input", "end", "weight"}, [](T input, T end, const Operand& weight) {
    if (weight.scalar) {
      input.lerp_(end, *weight.scalar);
    } else {
      input.lerp_(end, weight.value);
    }
  });
  define(env, exports, "addcmul", {"input", "tensor1", "tensor2", "value"},
         [](T input, T a, T b, const c10::Scalar& value) { return at::addcmul(input, a, b, value); });
  define(env, exports, "addcmul_", {"input", "tensor1", "tensor2", "value"},
         [](T input, T a, T b, const c10::Scalar& value) { input.addcmul_(a, b, value); });
  define(env, exports, "addcdiv_", {"input", "tensor1", "tensor2", "value"},
         [](T input, T a, T b, const c10::Scalar& value) { input.addcdiv_(a, b, value); });
  define(env, exports, "clamp", {"input", "min", "max"},
         [](T input, std::optional<c10::Scalar> min, std::optional<c10::Scalar> max) { return at::clamp(input, min, max); });
  define(env, exports, "clamp_", {"input", "min", "max"},
         [](T input, std::optional<c10::Scalar> min, std::optional<c10::Scalar> max) { input.clamp_(min, max); });
  define(env, exports, "fill_", {"input", "value"}, [](T input, const c10::Scalar& value) { input.fill_(value); });
  define(env, exports, "copy_", {"input", "source"}, [](T input, T source) { input.copy_(source); });
  define(env, exports, "lerp", {"input", "end", "weight"}, [](T input, T end, const Operand& weight) {
    return weight.scalar ? at::lerp(input, end, *weight.scalar) : at::lerp(input, end, weight.value);
  });

  // comparison and logic
  binary<&eq>(env, exports, "eq");
  binary<&ne>(env, exports, "ne");
  binary<&lt>(env, exports, "lt");
  binary<&le>(env, exports, "le");
  binary<&gt>(env, exports, "gt");
  binary<&ge>(env, exports, "ge");
  binary<&at::logical_and>(env, exports, "logicalAnd");
  binary<&at::logical_or>(env, exports, "logicalOr");
  unary<&at::logical_not>(env, exports, "logicalNot");
  unary<&at::isnan>(env, exports, "isnan");
  unary<&at::isfinite>(env, exports, "isfinite");
  define(env, exports, "where", {"condition", "input", "other"},
         [](T condition, const Operand& input, const Operand& other) { return at::where(condition, input.value, other.value); });
  define(env, exports, "equal", {"input", "other"}, [](T input, T other) { return at::equal(input, other); });
  define(env, exports, "allclose", {"input", "other", "rtol", "atol", "equalNan"},
         [](T input, T other, double rtol, double atol, bool equalNan) { return at::allclose(input, other, rtol, atol, equalNan); });

  // reductions
  define(env, exports, "sum", {"input", "dim", "keepdim", "dtype"},
         [](T input, Dims dim, bool keepdim, std::optional<at::ScalarType> dtype) {
           return dim ? at::sum(input, *dim, keepdim, dtype) : at::sum(input, dtype);
         });
  define(env, exports, "mean", {"input", "dim", "keepdim", "dtype"},
         [](T input, Dims dim, bool keepdim, std::optional<at::ScalarType> dtype) {
           return dim ? at::mean(input, *dim, keepdim, dtype) : at::mean(input, dtype);
         });
  define(env, exports, "prod", {"input", "dim", "keepdim"},
         [](T input, std::optional<int64_t> dim, bool keepdim) { return dim ? at::prod(input, *dim, keepdim) : at::prod(input); });
  define(env, exports, "maxAll", {"input"}, [](T input) { return at::max(input); });
  define(env, exports, "minAll", {"input"}, [](T input) { return at::min(input); });
  define(env, exports, "maxDim", {"input", "dim", "keepdim"},
         [](T input, int64_t dim, bool keepdim) { return at::max(input, dim, keepdim); });
  define(env, exports, "minDim", {"input", "dim", "keepdim"},
         [](T input, int64_t dim, bool keepdim) { return at::min(input, dim, keepdim); });
  define(env, exports, "argmax", {"input", "dim", "keepdim"},
         [](T input, std::optional<int64_t> dim, bool keepdim) { return at::argmax(input, dim, keepdim); });
  define(env, exports, "argmin", {"input", "dim", "keepdim"},
         [](T input, std::optional<int64_t> dim, bool keepdim) { return at::argmin(input, dim, keepdim); });
  define(env, exports, "std", {"input", "dim", "correction", "keepdim"}, [](T input, Dims dim, double correction, bool keepdim) {
    return at::std(input, at::OptionalIntArrayRef(dim), c10::Scalar(correction), keepdim);
  });
  define(env, exports, "var", {"input", "dim", "correction", "keepdim"}, [](T input, Dims dim, double correction, bool keepdim) {
    return at::var(input, at::OptionalIntArrayRef(dim), c10::Scalar(correction), keepdim);
  });
  define(env, exports, "norm", {"input", "p", "dim", "keepdim"}, [](T input, double p, Dims dim, bool keepdim) {
    return dim ? at::norm(input, c10::Scalar(p), *dim, keepdim) : at::norm(input, c10::Scalar(p));
  });
  define(env, exports, "all", {"input", "dim", "keepdim"},
         [](T input, std::optional<int64_t> dim, bool keepdim) { return dim ? at::all(input, *dim, keepdim) : at::all(input); });
  define(env, exports, "any", {"input", "dim", "keepdim"},
         [](T input, std::optional<int64_t> dim, bool keepdim) { return dim ? at::any(input, *dim, keepdim) : at::any(input); });
  define(env, exports, "cumsum", {"input", "dim"}, [](T input, int64_t dim) { return at::cumsum(input, dim); });

  // linear algebra
  define(env, exports, "vectorNorm", {"input", "ord"}, [](T input, double ord) { return at::linalg_vector_norm(input, c10::Scalar(ord)); });
  define(env, exports, "linalgQr", {"input"}, [](T input) { return at::linalg_qr(input); });
  define(env, exports, "diag", {"input", "diagonal"}, [](T input, int64_t diagonal) { return at::diag(input, diagonal); });
  define(env, exports, "matmul", {"input", "other"}, [](T input, T other) { return at::matmul(input, other); });
  define(env, exports, "mm", {"input", "mat2"}, [](T input, T other) { return at::mm(input, other); });
  define(env, exports, "bmm", {"input", "mat2"}, [](T input, T other) { return at::bmm(input, other); });
  define(env, exports, "outer", {"input", "vec2"}, [](T input, T other) { return at::outer(input, other); });
}

}  // namespace unet
