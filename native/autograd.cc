// Autograd: backward, torch.autograd.grad, and the grad-mode scopes.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <memory>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
using T = const at::Tensor&;

// Inference-mode guards opened from JS; JS closes them in LIFO order (try/finally). Guards are
// thread-local in libtorch, as is each JS environment's thread.
thread_local std::vector<std::unique_ptr<c10::InferenceMode>> inferenceGuards;
}  // namespace

void registerAutograd(Napi::Env env, Napi::Object exports) {
  define(env, exports, "backward", {"input", "gradient", "retainGraph", "createGraph"},
         [](T input, std::optional<at::Tensor> gradient, bool retainGraph, bool createGraph) {
           input.backward(gradient.value_or(at::Tensor()), retainGraph, createGraph);
         });
  define(env, exports, "grad", {"input"}, [](T input) { return input.grad(); });
  define(env, exports, "setGrad", {"input", "grad"},
         [](T input, std::optional<at::Tensor> grad) { const_cast<at::Tensor&>(input).mutable_grad() = grad.value_or(at::Tensor()); });
  // PyTorch's `param.data = data`: the same tensor (and JS handle, and autograd identity) now
  // holds `data`, which may have another dtype or device. Module.to() moves parameters this way.
  define(env, exports, "setData", {"input", "data"}, [](T input, T data) { const_cast<at::Tensor&>(input).set_data(data); });
  define(env, exports, "isLeaf", {"input"}, [](T input) { return input.is_leaf(); });
  define(env, exports, "retainGrad", {"input"}, [](T input) { input.retain_grad(); });
  define(env, exports, "autogradGrad", {"outputs", "inputs", "gradOutputs", "retainGraph", "createGraph", "allowUnused"},
         [](const std::vector<at::Tensor>& outputs, const std::vector<at::Tensor>& inputs,
            std::optional<std::vector<at::Tensor>> gradOutputs, std::optional<bool> retainGraph, bool createGraph, bool allowUnused) {
           return torch::autograd::grad(outputs, inputs, gradOutputs.value_or(std::vector<at::Tensor>{}), retainGraph, createGraph,
                                        allowUnused);
         });
  define(env, exports, "isGradEnabled", {}, [] { return at::GradMode::is_enabled(); });
  define(env, exports, "setGradEnabled", {"enabled"}, [](bool enabled) { at::GradMode::set_enabled(enabled); });
  define(env, exports, "enterInferenceMode", {}, [] { inferenceGuards.push_back(std::make_unique<c10::InferenceMode>()); });
  define(env, exports, "exitInferenceMode", {}, [] {
    TORCH_CHECK(!inferenceGuards.empty(), "no inference mode scope is open");
    inferenceGuards.pop_back();
  });
  define(env, exports, "isInferenceMode", {}, [] { return c10::InferenceMode::is_enabled(); });
}

}  // namespace unet
