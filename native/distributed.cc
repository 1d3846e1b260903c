// torch.distributed's engine (c10d): the rendezvous store, a process group over a Gloo backend
// (or, in builds with NCCL, an NCCL backend for CUDA tensors), the collectives, and
// DistributedDataParallel's Reducer. A group and a reducer live in JS Externals, type-tagged,
// freed when collected or destroyed.
//
// Nothing here blocks the event loop for a peer: the rendezvous runs on a libuv thread, and a
// collective is issued on the main thread (so every rank issues them in program order, as c10d
// requires) and awaited on a libuv thread. The Reducer's all-reduces run inside backward, as in
// PyTorch.
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "bind.h"
#include "bindings.h"
#include "distributed.h"

namespace unet {

namespace {
using c10d::ProcessGroup;

struct GroupHolder {
  c10::intrusive_ptr<ProcessGroup> group;
};
constexpr napi_type_tag kGroupTag = {0x4c1d0e2a7f3b4e91ULL, 0x9a6b5c4d3e2f1a0bULL};

struct ReducerHolder {
  std::unique_ptr<c10d::Reducer> reducer;
};
constexpr napi_type_tag kReducerTag = {0x2b8e6f1c0d9a4b37ULL, 0x85e4d3c2b1a09f8eULL};

const c10::intrusive_ptr<ProcessGroup>& groupOf(Napi::Env env, const Napi::Value& value, const char* binding) {
  GroupHolder& holder = Tagged<GroupHolder>::unwrap(env, value, kGroupTag, binding, "group", "process group");
  if (!holder.group) throw Napi::Error::New(env, std::string(binding) + "(): the process group was destroyed");
  return holder.group;
}

c10d::Reducer& reducerOf(Napi::Env env, const Napi::Value& value, const char* binding) {
  ReducerHolder& holder = Tagged<ReducerHolder>::unwrap(env, value, kReducerTag, binding, "reducer", "Reducer");
  if (!holder.reducer) throw Napi::Error::New(env, std::string(binding) + "(): the reducer was released");
  return *holder.reducer;
}

c10d::ReduceOp reduceOpOf(const std::string& name) {
  if (name == "sum") return c10d::ReduceOp::SUM;
  if (name == "product") return c10d::ReduceOp::PRODUCT;
  if (name == "min") return c10d::ReduceOp::MIN;
  TORCH_CHECK_VALUE(name == "max", "argument 'op' must be 'sum', 'product', 'min' or 'max', got '", name, "'");
  return c10d::ReduceOp::MAX;
}

// Runs `Execute` on a libuv thread and settles a promise: a torch error becomes the JS error every
// binding gives (torchError), with the binding's name.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), name_(name), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  virtual void run() = 0;
  virtual Napi::Value result(Napi::Env env) { return env.Undefined(); }

 private:
  void Execute() override {
    try {
      run();
    } catch (const c10::Error& error) {
      torchFailure_ = std::current_exception();
      SetError(torchMessage(error));
    } catch (const std::exception& error) {
      SetError(std::string(name_) + "(): " + error.what());
    }
  }
  void OnOK() override { deferred_.Resolve(result(Env())); }
  void OnError(const Napi::Error& error) override {
    if (!torchFailure_) return deferred_.Reject(error.Value());
    try {
      std::rethrow_exception(torchFailure_);
    } catch (const c10::Error& failure) {
      deferred_.Reject(torchError(Env(), name_, failure).Value());
    }
  }

  const char* name_;
  std::exception_ptr torchFailure_;
  Napi::Promise::Deferred deferred_;
};

struct Rendezvous {
  std::string backend;
  std::string host;
  int64_t port;
  int64_t rank;
  int64_t worldSize;
  std::chrono::milliseconds timeout;
  bool agentStore;
};

// The backends this build constructs: NCCL only where it was built against a CUDA libtorch with
// NCCL's headers.
std::vector<std::string> builtBackends() {
#ifdef UNET_WITH_NCCL
  return {"gloo", "nccl"};
#else
  return {"gloo"};
#endif
}

// The default group exactly as torch.distributed.init_process_group builds it, so that PyTorch
// ranks and these ranks form one group: the TCPStore (hosted by rank 0, or by torchrun's agent),
// then the prefixes "default_pg" and "0/" for the group, and under them "cpu/" for a Gloo backend,
// which serves CPU and CUDA tensors, or "cuda/" for an NCCL backend, which serves CUDA tensors.
class InitWorker : public PromiseWorker {
 public:
  InitWorker(Napi::Env env, Rendezvous rendezvous) : PromiseWorker(env, "distInitProcessGroup"), rendezvous_(std::move(rendezvous)) {}

 private:
  void run() override {
    const Rendezvous& r = rendezvous_;
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(r.port);
    options.isServer = !r.agentStore && r.rank == 0;
    options.numWorkers = static_cast<std::size_t>(r.worldSize);
    options.timeout = r.timeout;
    options.multiTenant = !r.agentStore;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(r.host, options);
    tcp->setTimeout(r.timeout);
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::PrefixStore>("default_pg", tcp);
    const std::string groupName = "0";
    auto groupStore = c10::make_intrusive<c10d::PrefixStore>(groupName + "/", store);
    const int rank = static_cast<int>(r.rank);
    const int size = static_cast<int>(r.worldSize);
    auto group = c10::make_intrusive<ProcessGroup>(groupStore, rank, size);
#ifdef UNET_WITH_NCCL
    if (r.backend == "nccl") {
      group->setDefaultBackend(ProcessGroup::BackendType::NCCL);
      auto backend = createNcclBackend(c10::make_intrusive<c10d::PrefixStore>("cuda/", groupStore), rank, size, r.timeout, groupName);
      backend->setSequenceNumberForGroup();
      group->setBackend(c10::DeviceType::CUDA, ProcessGroup::BackendType::NCCL, backend);
    }
#endif
    if (r.backend == "gloo") {
      group->setDefaultBackend(ProcessGroup::BackendType::GLOO);
      auto backend = createGlooBackend(c10::make_intrusive<c10d::PrefixStore>("cpu/", groupStore), rank, size, r.timeout, groupName);
      backend->setSequenceNumberForGroup();
      group->setBackend(c10::DeviceType::CPU, ProcessGroup::BackendType::GLOO, backend);
      group->setBackend(c10::DeviceType::CUDA, ProcessGroup::BackendType::GLOO, backend);
    }
    group->setGroupName(groupName);
    group->setGroupDesc("default_pg");
    group_ = group;
  }
  Napi::Value result(Napi::Env env) override { return Tagged<GroupHolder>::wrap(env, new GroupHolder{group_}, kGroupTag); }

  Rendezvous rendezvous_;
  c10::intrusive_ptr<ProcessGroup> group_;
};

// Waits for a collective already issued on the main thread.
class WaitWorker : public PromiseWorker {
 public:
  WaitWorker(Napi::Env env, const char* name, c10::intrusive_ptr<c10d::Work> work) : PromiseWorker(env, name), work_(std::move(work)) {}

 private:
  void run() override {
    work_->wait();
    work_.reset();
  }
  c10::intrusive_ptr<c10d::Work> work_;
};

Napi::Value awaitWork(Napi::Env env, const char* name, c10::intrusive_ptr<c10d::Work> work) {
  auto* worker = new WaitWorker(env, name, std::move(work));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// The gradient of a sum over ranks: every rank's output depends on every rank's input, so the
// gradient of an input is the sum of the output gradients of all ranks (what SyncBatchNorm's
// backward all-reduces in PyTorch).
struct AllReduceSumBackward : torch::autograd::Node {
  c10::intrusive_ptr<ProcessGroup> group;
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    std::vector<at::Tensor> summed{grads[0].contiguous().clone()};
    group->allreduce(summed)->wait();
    return {summed[0]};
  }
  std::string name() const override { return "AllReduceSumBackward"; }
};

// A new autograd node, held as this libtorch holds them: by c10::intrusive_ptr from 2.13, by
// std::shared_ptr before (2.11 on the GPU machines); Edge::function names the one in use.
template <typename NodeType>
auto makeNode() {
  if constexpr (std::is_same_v<decltype(torch::autograd::Edge::function), std::shared_ptr<torch::autograd::Node>>) {
    return std::make_shared<NodeType>();
  } else {
    return c10::make_intrusive<NodeType>();
  }
}

// Sums `input` over the ranks (blocking, inside the forward pass it is part of), recording the
// backward above when `input` requires a gradient.
at::Tensor allReduceSumWithGrad(const c10::intrusive_ptr<ProcessGroup>& group, const at::Tensor& input) {
  std::vector<at::Tensor> summed{input.detach().contiguous().clone()};
  group->allreduce(summed)->wait();
  if (torch::autograd::compute_requires_grad(input)) {
    auto node = makeNode<AllReduceSumBackward>();
    node->group = group;
    node->set_next_edges(torch::autograd::collect_next_edges(input));
    torch::autograd::set_history(summed[0], node);
  }
  return summed[0];
}

void checkRank(int64_t rank, const ProcessGroup& group, const char* argument) {
  TORCH_CHECK_VALUE(rank >= 0 && rank < group.getSize(), "argument '", argument, "' must be a rank from 0 to ", group.getSize() - 1,
                    ", got ", rank);
}
}  // namespace

void registerDistributed(Napi::Env env, Napi::Object exports) {
  define(env, exports, "distInitProcessGroup", {"backend", "host", "port", "rank", "worldSize", "timeoutMs", "agentStore"},
         [](Napi::Env env, std::string backend, std::string host, int64_t port, int64_t rank, int64_t worldSize, int64_t timeoutMs,
            bool agentStore) {
           const std::vector<std::string> built = builtBackends();
           TORCH_CHECK_VALUE(std::find(built.begin(), built.end(), backend) != built.end(), "argument 'backend' must be ",
                             built.size() == 1 ? "'gloo' in this build" : "'gloo' or 'nccl'", ", got '", backend, "'");
           TORCH_CHECK_VALUE(port >= 0 && port <= 65535, "argument 'port' must be from 0 to 65535, got ", port);
           TORCH_CHECK_VALUE(worldSize >= 1 && worldSize <= std::numeric_limits<int>::max(),
                             "argument 'worldSize' must be a positive integer, got ", worldSize);
           TORCH_CHECK_VALUE(rank >= 0 && rank < worldSize, "argument 'rank' must be from 0 to worldSize - 1 (", worldSize - 1, "), got ",
                             rank);
           TORCH_CHECK_VALUE(timeoutMs > 0, "argument 'timeoutMs' must be positive, got ", timeoutMs);
           auto* worker = new InitWorker(env, {backend, host, port, rank, worldSize, std::chrono::milliseconds(timeoutMs), agentStore});
           Napi::Promise promise = worker->promise();
           worker->Queue();
           return Napi::Value(promise);
         });
  define(env, exports, "distRank", {"group"},
         [](Napi::Env env, Napi::Value group) { return static_cast<int64_t>(groupOf(env, group, "distRank")->getRank()); });
  define(env, exports, "distWorldSize", {"group"},
         [](Napi::Env env, Napi::Value group) { return static_cast<int64_t>(groupOf(env, group, "distWorldSize")->getSize()); });
  define(env, exports, "distBackends", {}, [] { return builtBackends(); });
  define(env, exports, "distDestroy", {"group"}, [](Napi::Env env, Napi::Value group) {
    GroupHolder& holder = Tagged<GroupHolder>::unwrap(env, group, kGroupTag, "distDestroy", "group", "process group");
    // As destroy_process_group: NCCL's backend stops its watchdog and frees its communicators here
    // (Gloo's shutdown does nothing).
    if (holder.group) holder.group->shutdown();
    holder.group.reset();
    return env.Undefined();
  });
  define(env, exports, "distBarrier", {"group"},
         [](Napi::Env env, Napi::Value group) { return awaitWork(env, "distBarrier", groupOf(env, group, "distBarrier")->barrier()); });
  define(env, exports, "distAllReduce", {"group", "tensors", "op"},
         [](Napi::Env env, Napi::Value group, std::vector<at::Tensor> tensors, std::string op) {
           c10d::AllreduceOptions options;
           options.reduceOp = reduceOpOf(op);
           return awaitWork(env, "distAllReduce", groupOf(env, group, "distAllReduce")->allreduce(tensors, options));
         });
  define(env, exports, "distBroadcast", {"group", "tensors", "src"},
         [](Napi::Env env, Napi::Value group, std::vector<at::Tensor> tensors, int64_t src) {
           const c10::intrusive_ptr<ProcessGroup>& pg = groupOf(env, group, "distBroadcast");
           checkRank(src, *pg, "src");
           c10d::BroadcastOptions options;
           options.rootRank = src;
           return awaitWork(env, "distBroadcast", pg->broadcast(tensors, options));
         });
  define(env, exports, "distAllGather", {"group", "outputs", "input"},
         [](Napi::Env env, Napi::Value group, std::vector<at::Tensor> outputs, const at::Tensor& input) {
           const c10::intrusive_ptr<ProcessGroup>& pg = groupOf(env, group, "distAllGather");
           TORCH_CHECK_VALUE(static_cast<int64_t>(outputs.size()) == pg->getSize(), "argument 'outputs' must hold one tensor per rank (",
                             pg->getSize(), "), got ", outputs.size());
           std::vector<std::vector<at::Tensor>> outputLists{outputs};
           std::vector<at::Tensor> inputs{input};
           return awaitWork(env, "distAllGather", pg->allgather(outputLists, inputs));
         });
  define(env, exports, "distReduceScatter", {"group", "output", "inputs", "op"},
         [](Napi::Env env, Napi::Value group, const at::Tensor& output, std::vector<at::Tensor> inputs, std::string op) {
           const c10::intrusive_ptr<ProcessGroup>& pg = groupOf(env, group, "distReduceScatter");
           TORCH_CHECK_VALUE(static_cast<int64_t>(inputs.size()) == pg->getSize(), "argument 'inputs' must hold one tensor per rank (",
                             pg->getSize(), "), got ", inputs.size());
           c10d::ReduceScatterOptions options;
           options.reduceOp = reduceOpOf(op);
           std::vector<at::Tensor> outputs{output};
           std::vector<std::vector<at::Tensor>> inputLists{inputs};
           return awaitWork(env, "distReduceScatter", pg->reduce_scatter(outputs, inputLists, options));
         });
  // Blocking, as a layer of the forward pass: SyncBatchNorm's statistics.
  define(env, exports, "distAllReduceSumWithGrad", {"group", "tensor"}, [](Napi::Env env, Napi::Value group, const at::Tensor& tensor) {
    return allReduceSumWithGrad(groupOf(env, group, "distAllReduceSumWithGrad"), tensor);
  });
  // Blocking, as in PyTorch's DDP: at wrapping, and before a forward pass that syncs buffers.
  define(env, exports, "distBroadcastCoalesced", {"group", "tensors", "bufferBytes", "src"},
         [](Napi::Env env, Napi::Value group, std::vector<at::Tensor> tensors, int64_t bufferBytes, int64_t src) {
           const c10::intrusive_ptr<ProcessGroup>& pg = groupOf(env, group, "distBroadcastCoalesced");
           checkRank(src, *pg, "src");
           TORCH_CHECK_VALUE(bufferBytes > 0, "argument 'bufferBytes' must be positive, got ", bufferBytes);
           at::NoGradGuard noGrad;  // parameters are overwritten in place, as PyTorch's DDP does under no_grad
           c10d::broadcast_coalesced(pg, tensors, static_cast<size_t>(bufferBytes), static_cast<int>(src));
           return env.Undefined();
         });

  // DistributedDataParallel's engine. The parameters start in one bucket; after the first
  // iteration the Reducer rebuilds buckets in the order gradients arrived (1 MiB first, then
  // `bucketBytes`), as PyTorch's DDP does without find_unused_parameters.
  define(env, exports, "ddpReducer", {"group", "parameters", "bucketBytes", "firstBucketBytes", "findUnusedParameters"},
         [](Napi::Env env, Napi::Value group, std::vector<at::Tensor> parameters, int64_t bucketBytes, int64_t firstBucketBytes,
            bool findUnusedParameters) {
           const c10::intrusive_ptr<ProcessGroup>& pg = groupOf(env, group, "ddpReducer");
           TORCH_CHECK_VALUE(bucketBytes > 0 && firstBucketBytes > 0, "bucket sizes must be positive, got ", bucketBytes, " and ",
                             firstBucketBytes);
           std::vector<size_t> limits{std::numeric_limits<size_t>::max()};
           if (findUnusedParameters) limits = {static_cast<size_t>(firstBucketBytes), static_cast<size_t>(bucketBytes)};
           auto [buckets, perBucketLimits] = c10d::compute_bucket_assignment_by_size(parameters, limits);
           std::reverse(buckets.begin(), buckets.end());
           auto holder = std::make_unique<ReducerHolder>();
           holder->reducer = std::make_unique<c10d::Reducer>(
               parameters, buckets, pg, std::vector<bool>(parameters.size(), false), bucketBytes, findUnusedParameters,
               /*gradient_as_bucket_view=*/false, std::unordered_map<size_t, std::string>{}, firstBucketBytes,
               /*skip_all_reduce_unused_params=*/false, /*use_python_reducer=*/false, std::vector<int64_t>{});
           return Tagged<ReducerHolder>::wrap(env, holder.release(), kReducerTag);
         });
  // Every rank's parameters have the same count, shapes and types (an all-gather), before anything
  // is copied: PyTorch's DDP checks this first, with the same message.
  define(env, exports, "ddpVerifyParameters", {"group", "parameters"},
         [](Napi::Env env, Napi::Value group, std::vector<at::Tensor> parameters) {
           c10d::verify_params_across_processes(groupOf(env, group, "ddpVerifyParameters"), parameters, std::nullopt);
           return env.Undefined();
         });
  define(env, exports, "ddpPrepareForForward", {"reducer"}, [](Napi::Env env, Napi::Value reducer) {
    reducerOf(env, reducer, "ddpPrepareForForward").prepare_for_forward();
    return env.Undefined();
  });
  define(env, exports, "ddpRebuildBuckets", {"reducer"},
         [](Napi::Env env, Napi::Value reducer) { return reducerOf(env, reducer, "ddpRebuildBuckets").rebuild_buckets(); });
  define(env, exports, "ddpPrepareForBackward", {"reducer", "outputs"},
         [](Napi::Env env, Napi::Value reducer, std::vector<at::Tensor> outputs) {
           reducerOf(env, reducer, "ddpPrepareForBackward").prepare_for_backward(outputs);
           return env.Undefined();
         });
  define(env, exports, "ddpRelease", {"reducer"}, [](Napi::Env env, Napi::Value reducer) {
    ReducerHolder& holder = Tagged<ReducerHolder>::unwrap(env, reducer, kReducerTag, "ddpRelease", "reducer", "Reducer");
    holder.reducer.reset();
    return env.Undefined();
  });
}

}  // namespace unet
