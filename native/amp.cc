// Mixed precision: the autocast state behind lib/amp.ts's autocast() scope, and the two fused
// kernels of PyTorch's GradScaler (unscale with an inf/NaN check, and the scale update).
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
using T = const at::Tensor&;

c10::DeviceType autocastDevice(const std::string& name) {
  if (name == "cpu") return c10::DeviceType::CPU;
  if (name == "cuda") return c10::DeviceType::CUDA;
  TORCH_CHECK_VALUE(false, "autocast device type must be 'cpu' or 'cuda', got '", name, "'");
}
}  // namespace

void registerAmp(Napi::Env env, Napi::Object exports) {
  define(env, exports, "autocastEnabled", {"deviceType"},
         [](const std::string& device) { return at::autocast::is_autocast_enabled(autocastDevice(device)); });
  define(env, exports, "autocastDtype", {"deviceType"},
         [](const std::string& device) { return std::string(dtypeName(at::autocast::get_autocast_dtype(autocastDevice(device)))); });
  define(env, exports, "setAutocast", {"deviceType", "enabled", "dtype"},
         [](const std::string& device, bool enabled, at::ScalarType dtype) {
           at::autocast::set_autocast_enabled(autocastDevice(device), enabled);
           at::autocast::set_autocast_dtype(autocastDevice(device), dtype);
         });
  define(env, exports, "autocastCacheEnabled", {}, [] { return at::autocast::is_autocast_cache_enabled(); });
  define(env, exports, "setAutocastCacheEnabled", {"enabled"}, [](bool enabled) { at::autocast::set_autocast_cache_enabled(enabled); });
  define(env, exports, "autocastIncrementNesting", {}, [] { return static_cast<int64_t>(at::autocast::increment_nesting()); });
  define(env, exports, "autocastDecrementNesting", {}, [] { return static_cast<int64_t>(at::autocast::decrement_nesting()); });
  define(env, exports, "clearAutocastCache", {}, [] { at::autocast::clear_cache(); });
  define(env, exports, "ampUnscale_", {"grads", "foundInf", "invScale"}, [](const std::vector<at::Tensor>& grads, T foundInf, T invScale) {
    at::_amp_foreach_non_finite_check_and_unscale_(grads, const_cast<at::Tensor&>(foundInf), invScale);
  });
  define(env, exports, "ampUpdateScale_", {"scale", "growthTracker", "foundInf", "growthFactor", "backoffFactor", "growthInterval"},
         [](T scale, T growthTracker, T foundInf, double growthFactor, double backoffFactor, int64_t growthInterval) {
           at::_amp_update_scale_(const_cast<at::Tensor&>(scale), const_cast<at::Tensor&>(growthTracker), foundInf, growthFactor,
                                  backoffFactor, growthInterval);
         });
}

}  // namespace unet
