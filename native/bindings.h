// One function per group of bindings; addon.cc calls each for every environment.
#pragma once

#include <napi.h>

namespace unet {

void registerMemory(Napi::Env env, Napi::Object exports);
void registerCreation(Napi::Env env, Napi::Object exports);
void registerReadback(Napi::Env env, Napi::Object exports);
void registerRuntime(Napi::Env env, Napi::Object exports);
void registerMathOps(Napi::Env env, Napi::Object exports);
void registerShapeOps(Napi::Env env, Napi::Object exports);
void registerNnOps(Napi::Env env, Napi::Object exports);
void registerAutograd(Napi::Env env, Napi::Object exports);
void registerSerialization(Napi::Env env, Napi::Object exports);
void registerJit(Napi::Env env, Napi::Object exports);
void registerAmp(Napi::Env env, Napi::Object exports);
void registerWeightMap(Napi::Env env, Napi::Object exports);
void registerAugment(Napi::Env env, Napi::Object exports);
void registerCpuCache(Napi::Env env, Napi::Object exports);
void registerDistributed(Napi::Env env, Napi::Object exports);
void registerCudaGraph(Napi::Env env, Napi::Object exports);

}  // namespace unet
