// TorchScript modules (PyTorch's torch.jit.script or trace, then .save): loaded, run, trained and
// saved. A module lives in a JS External, type-tagged, that frees it when collected or disposed;
// its parameters and buffers come out as tensors that share the module's storage, so that
// gradients and optimizer steps reach the module itself.
#include <torch/script.h>

#include <memory>
#include <string>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {
struct ScriptModuleHolder {
  std::unique_ptr<torch::jit::Module> module;
};

constexpr napi_type_tag kScriptModuleTag = {0x7a3c1e5d9b214f60ULL, 0x8e4d2c1b0a9f8e7dULL};

void check(Napi::Env env, napi_status status) {
  if (status != napi_ok) throw Napi::Error::New(env);
}

torch::jit::Module& moduleOf(Napi::Env env, const Napi::Value& value, const char* name) {
  bool tagged = false;
  if (value.IsExternal()) check(env, napi_check_object_type_tag(env, value, &kScriptModuleTag, &tagged));
  if (!tagged)
    throw Napi::TypeError::New(env, std::string(name) + "(): argument 'module' must be a ScriptModule, got " + describeValue(value));
  auto* holder = value.As<Napi::External<ScriptModuleHolder>>().Data();
  if (!holder->module) throw Napi::Error::New(env, std::string(name) + "(): the ScriptModule was disposed");
  return *holder->module;
}

template <typename List>
Napi::Value namedTensors(Napi::Env env, const List& list) {
  std::vector<std::string> names;
  std::vector<at::Tensor> tensors;
  for (const auto& entry : list) {
    names.push_back(entry.name);
    tensors.push_back(entry.value);
  }
  Napi::Array nameArray = Napi::Array::New(env, names.size());
  for (uint32_t k = 0; k < names.size(); ++k) nameArray[k] = Napi::String::New(env, names[k]);
  Napi::Array result = Napi::Array::New(env, 2);
  result[0u] = nameArray;
  result[1u] = toJs(env, std::move(tensors));
  return result;
}
}  // namespace

void registerJit(Napi::Env env, Napi::Object exports) {
  define(env, exports, "jitLoad", {"file", "device"}, [](Napi::Env env, std::string file, c10::Device device) {
    auto holder = std::make_unique<ScriptModuleHolder>();
    holder->module = std::make_unique<torch::jit::Module>(torch::jit::load(file, device));
    auto external = Napi::External<ScriptModuleHolder>::New(env, holder.release(), [](Napi::Env, ScriptModuleHolder* h) { delete h; });
    check(env, napi_type_tag_object(env, external, &kScriptModuleTag));
    return Napi::Value(external);
  });
  define(env, exports, "jitNamedParameters", {"module"}, [](Napi::Env env, Napi::Value module) {
    return namedTensors(env, moduleOf(env, module, "jitNamedParameters").named_parameters(/*recurse=*/true));
  });
  define(env, exports, "jitNamedBuffers", {"module"}, [](Napi::Env env, Napi::Value module) {
    return namedTensors(env, moduleOf(env, module, "jitNamedBuffers").named_buffers(/*recurse=*/true));
  });
  define(env, exports, "jitForward", {"module", "inputs"}, [](Napi::Env env, Napi::Value module, std::vector<at::Tensor> inputs) {
    std::vector<c10::IValue> arguments(inputs.begin(), inputs.end());
    c10::IValue output = moduleOf(env, module, "jitForward").forward(arguments);
    if (output.isTensor()) return toJs(env, output.toTensor());
    std::vector<at::Tensor> tensors;
    if (output.isTuple()) {
      for (const c10::IValue& element : output.toTupleRef().elements()) {
        TORCH_CHECK_TYPE(element.isTensor(), "forward returned a tuple holding ", element.tagKind(), "; only tensors are supported");
        tensors.push_back(element.toTensor());
      }
    } else if (output.isTensorList()) {
      for (const at::Tensor& tensor : output.toTensorVector()) tensors.push_back(tensor);
    } else {
      TORCH_CHECK_TYPE(false, "forward returned ", output.tagKind(), "; only a tensor or a tuple or list of tensors is supported");
    }
    return toJs(env, std::move(tensors));
  });
  define(env, exports, "jitTrain", {"module", "mode"}, [](Napi::Env env, Napi::Value module, bool mode) {
    moduleOf(env, module, "jitTrain").train(mode);
    return env.Undefined();
  });
  define(env, exports, "jitIsTraining", {"module"},
         [](Napi::Env env, Napi::Value module) { return moduleOf(env, module, "jitIsTraining").is_training(); });
  define(env, exports, "jitSave", {"module", "file"}, [](Napi::Env env, Napi::Value module, std::string file) {
    moduleOf(env, module, "jitSave").save(file);
    return env.Undefined();
  });
  define(env, exports, "jitDispose", {"module"}, [](Napi::Env env, Napi::Value module) {
    moduleOf(env, module, "jitDispose");
    module.As<Napi::External<ScriptModuleHolder>>().Data()->module.reset();
    return env.Undefined();
  });
}

}  // namespace unet
