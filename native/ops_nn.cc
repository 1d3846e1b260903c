// The functional neural-network operations (torch.nn.functional). Option strings and enums are
// validated in TypeScript (lib/functional.ts); here they arrive as ATen's own integers.
#include <ATen/ATen.h>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
using T = const at::Tensor&;
using OptT = std::optional<at::Tensor>;
using Ints = const std::vector<int64_t>&;
}  // namespace

void registerNnOps(Napi::Env env, Napi::Object exports) {
  define(env, exports, "linear", {"input", "weight", "bias"}, [](T input, T weight, OptT bias) { return at::linear(input, weight, bias); });
  define(env, exports, "conv2d", {"input", "weight", "bias", "stride", "padding", "dilation", "groups"},
         [](T input, T weight, OptT bias, Ints stride, Ints padding, Ints dilation, int64_t groups) {
           return at::conv2d(input, weight, bias, stride, padding, dilation, groups);
         });
  define(env, exports, "conv2dPadMode", {"input", "weight", "bias", "stride", "padding", "dilation", "groups"},
         [](T input, T weight, OptT bias, Ints stride, const std::string& padding, Ints dilation, int64_t groups) {
           return at::conv2d(input, weight, bias, stride, padding, dilation, groups);
         });
  define(env, exports, "convTranspose2d", {"input", "weight", "bias", "stride", "padding", "outputPadding", "groups", "dilation"},
         [](T input, T weight, OptT bias, Ints stride, Ints padding, Ints outputPadding, int64_t groups, Ints dilation) {
           return at::conv_transpose2d(input, weight, bias, stride, padding, outputPadding, groups, dilation);
         });
  define(env, exports, "maxPool2d", {"input", "kernelSize", "stride", "padding", "dilation", "ceilMode"},
         [](T input, Ints kernel, Ints stride, Ints padding, Ints dilation, bool ceilMode) {
           return at::max_pool2d(input, kernel, stride, padding, dilation, ceilMode);
         });
  define(env, exports, "maxPool2dWithIndices", {"input", "kernelSize", "stride", "padding", "dilation", "ceilMode"},
         [](T input, Ints kernel, Ints stride, Ints padding, Ints dilation, bool ceilMode) {
           return at::max_pool2d_with_indices(input, kernel, stride, padding, dilation, ceilMode);
         });
  define(env, exports, "avgPool2d", {"input", "kernelSize", "stride", "padding", "ceilMode", "countIncludePad", "divisorOverride"},
         [](T input, Ints kernel, Ints stride, Ints padding, bool ceilMode, bool countIncludePad, std::optional<int64_t> divisor) {
           return at::avg_pool2d(input, kernel, stride, padding, ceilMode, countIncludePad, divisor);
         });
  define(env, exports, "adaptiveAvgPool2d", {"input", "outputSize"},
         [](T input, Ints outputSize) { return at::adaptive_avg_pool2d(input, outputSize); });

  define(env, exports, "relu", {"input"}, [](T input) { return at::relu(input); });
  define(env, exports, "relu_", {"input"}, [](T input) { at::relu_(const_cast<at::Tensor&>(input)); });
  define(env, exports, "leakyRelu", {"input", "negativeSlope"},
         [](T input, double slope) { return at::leaky_relu(input, c10::Scalar(slope)); });
  define(env, exports, "elu", {"input", "alpha"}, [](T input, double alpha) { return at::elu(input, c10::Scalar(alpha)); });
  define(env, exports, "gelu", {"input", "approximate"},
         [](T input, const std::string& approximate) { return at::gelu(input, approximate); });
  define(env, exports, "sigmoid", {"input"}, [](T input) { return at::sigmoid(input); });
  define(env, exports, "tanh", {"input"}, [](T input) { return at::tanh(input); });
  define(env, exports, "softmax", {"input", "dim", "dtype"},
         [](T input, int64_t dim, std::optional<at::ScalarType> dtype) { return at::softmax(input, dim, dtype); });
  define(env, exports, "logSoftmax", {"input", "dim", "dtype"},
         [](T input, int64_t dim, std::optional<at::ScalarType> dtype) { return at::log_softmax(input, dim, dtype); });
  define(env, exports, "dropout", {"input", "p", "training"},
         [](T input, double p, bool training) { return at::dropout(input, p, training); });
  define(env, exports, "dropout2d", {"input", "p", "training"},
         [](T input, double p, bool training) { return at::feature_dropout(input, p, training); });

  define(env, exports, "batchNorm", {"input", "runningMean", "runningVar", "weight", "bias", "training", "momentum", "eps"},
         [](T input, OptT runningMean, OptT runningVar, OptT weight, OptT bias, bool training, double momentum, double eps) {
           return at::batch_norm(input, weight, bias, runningMean, runningVar, training, momentum, eps, true);
         });
  define(env, exports, "instanceNorm", {"input", "runningMean", "runningVar", "weight", "bias", "useInputStats", "momentum", "eps"},
         [](T input, OptT runningMean, OptT runningVar, OptT weight, OptT bias, bool useInputStats, double momentum, double eps) {
           return at::instance_norm(input, weight, bias, runningMean, runningVar, useInputStats, momentum, eps, true);
         });
  define(env, exports, "groupNorm", {"input", "numGroups", "weight", "bias", "eps"},
         [](T input, int64_t groups, OptT weight, OptT bias, double eps) { return at::group_norm(input, groups, weight, bias, eps); });
  define(env, exports, "layerNorm", {"input", "normalizedShape", "weight", "bias", "eps"},
         [](T input, Ints shape, OptT weight, OptT bias, double eps) { return at::layer_norm(input, shape, weight, bias, eps); });

  define(env, exports, "upsample", {"input", "mode", "outputSize", "scaleFactors", "alignCorners"},
         [](T input, const std::string& mode, std::optional<std::vector<int64_t>> size, std::optional<std::vector<double>> scales,
            bool alignCorners) {
           at::OptionalIntArrayRef outputSize(size);
           std::optional<at::ArrayRef<double>> scaleFactors;
           if (scales) scaleFactors = at::ArrayRef<double>(*scales);
           if (mode == "nearest") return at::upsample_nearest2d(input, outputSize, scaleFactors);
           if (mode == "bilinear") return at::upsample_bilinear2d(input, outputSize, alignCorners, scaleFactors);
           if (mode == "bicubic") return at::upsample_bicubic2d(input, outputSize, alignCorners, scaleFactors);
           TORCH_CHECK_VALUE(false, "unknown interpolation mode '", mode, "'");
         });
  define(env, exports, "gridSample", {"input", "grid", "mode", "paddingMode", "alignCorners"},
         [](T input, T grid, int64_t mode, int64_t padding, bool alignCorners) {
           return at::grid_sampler(input, grid, mode, padding, alignCorners);
         });
  define(env, exports, "affineGrid", {"theta", "size", "alignCorners"},
         [](T theta, Ints size, bool alignCorners) { return at::affine_grid_generator(theta, size, alignCorners); });
  define(env, exports, "oneHot", {"input", "numClasses"}, [](T input, int64_t classes) { return at::one_hot(input, classes); });

  define(env, exports, "crossEntropy", {"input", "target", "weight", "reduction", "ignoreIndex", "labelSmoothing"},
         [](T input, T target, OptT weight, int64_t reduction, int64_t ignoreIndex, double smoothing) {
           return at::cross_entropy_loss(input, target, weight, reduction, ignoreIndex, smoothing);
         });
  define(env, exports, "nllLoss", {"input", "target", "weight", "reduction", "ignoreIndex"},
         [](T input, T target, OptT weight, int64_t reduction, int64_t ignoreIndex) {
           return at::nll_loss_nd(input, target, weight, reduction, ignoreIndex);
         });
  define(env, exports, "binaryCrossEntropyWithLogits", {"input", "target", "weight", "posWeight", "reduction"},
         [](T input, T target, OptT weight, OptT posWeight, int64_t reduction) {
           return at::binary_cross_entropy_with_logits(input, target, weight, posWeight, reduction);
         });
  define(env, exports, "mseLoss", {"input", "target", "reduction"},
         [](T input, T target, int64_t reduction) { return at::mse_loss(input, target, reduction); });
  define(env, exports, "l1Loss", {"input", "target", "reduction"},
         [](T input, T target, int64_t reduction) { return at::l1_loss(input, target, reduction); });
}

}  // namespace unet
