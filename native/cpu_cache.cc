// Large CPU storages come from a cache of freed blocks. Under glibc a freed block of megabytes
// either goes back to the system (above the mmap threshold, 32 MB at most), so that the next one
// costs a page fault per 4 KiB on first touch (14 µs each on the VM the benchmarks ran on), or
// stays in the heap until a small allocation splits it and the next large one grows the heap
// again. Tensors freed by dispose() while their small JS handles wait for the garbage collector
// make the second pattern on every step. So blocks of 1 MiB and more are kept by size and handed
// out again for requests of two thirds of their size or more, up to a quarter of the physical
// memory. (A tighter fit kept more blocks idle: a training step of the paper's U-Net peaked at
// 1.94 GB with an eighth, 1.72 GB with a half, against 1.50 GB under glibc with a raised mmap
// threshold and 1.34 GB, at four times the time per step, under its defaults. Freeing cached
// blocks to make room for a new one undid the cache: each step's new sizes flushed the next's.)
// Smaller blocks are allocated and freed as libtorch's default allocator does.
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>
#include <unistd.h>

#include <limits>
#include <map>
#include <mutex>
#include <vector>

#include "bind.h"
#include "bindings.h"

namespace unet {

namespace {

constexpr size_t kSmallest = size_t{1} << 20;
// The block's size is kept in front of the data, far enough to keep libtorch's 64-byte alignment.
constexpr size_t kHeader = 64;
constexpr size_t kPage = 4096;

class CachingCpuAllocator final : public c10::Allocator {
 public:
  CachingCpuAllocator() : limit_(static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE)) / 4) {}

  // Every block, small or large, carries its size in front of the data and has the data pointer
  // as its context: libtorch also allocates through raw_allocate(), which needs both.
  c10::DataPtr allocate(size_t bytes) override {
    if (bytes == 0) return {nullptr, nullptr, &giveBack, c10::Device(c10::DeviceType::CPU)};
    TORCH_CHECK_WITH(OutOfMemoryError, bytes <= std::numeric_limits<size_t>::max() / 2,
                     "CPU: can't allocate memory: you tried to allocate ", bytes, " bytes");
    char* block = nullptr;
    size_t size = bytes + kHeader;
    if (size >= kSmallest) {
      size = (size + kPage - 1) / kPage * kPage;
      block = take(size);
    }
    if (block == nullptr) block = fresh(bytes, size);
    return {block + kHeader, block + kHeader, &giveBack, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &giveBack; }

  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }

  // Frees every cached block.
  void empty() {
    std::multimap<size_t, char*> blocks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      blocks.swap(free_);
      cachedBytes_ = 0;
    }
    for (const auto& [size, block] : blocks) c10::free_cpu(block);
  }

  struct Stats {
    size_t cachedBytes, cachedBlocks, limitBytes;
  };
  Stats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {cachedBytes_, free_.size(), limit_};
  }

  static CachingCpuAllocator& instance() {
    // Never destroyed: storages may still be freed while the process exits.
    static CachingCpuAllocator* allocator = new CachingCpuAllocator();
    return *allocator;
  }

 private:
  static void giveBack(void* data) {
    if (data != nullptr) instance().put(static_cast<char*>(data) - kHeader);
  }

  char* take(size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto fit = free_.lower_bound(size);  // the smallest block that holds `size`
    if (fit == free_.end() || fit->first > size + size / 2) return nullptr;
    char* block = fit->second;
    cachedBytes_ -= fit->first;
    free_.erase(fit);
    return block;
  }

  // A new block of `size` for a request of `bytes`. When memory is short the cached blocks are
  // freed and the allocation tried once more, so that the cache never causes an out-of-memory
  // error of its own.
  char* fresh(size_t bytes, size_t size) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        char* block = static_cast<char*>(c10::alloc_cpu(size));
        *reinterpret_cast<size_t*>(block) = size;
        return block;
      } catch (const c10::Error&) {
        empty();
      }
    }
    TORCH_CHECK_WITH(OutOfMemoryError, false, "CPU: can't allocate memory: you tried to allocate ", bytes, " bytes");
  }

  void put(char* block) {
    const size_t size = *reinterpret_cast<const size_t*>(block);
    if (size >= kSmallest) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cachedBytes_ + size <= limit_) {
        free_.emplace(size, block);
        cachedBytes_ += size;
        return;
      }
    }
    c10::free_cpu(block);
  }

  const size_t limit_;
  std::mutex mutex_;
  std::multimap<size_t, char*> free_;
  size_t cachedBytes_ = 0;
};

}  // namespace

void registerCpuCache(Napi::Env env, Napi::Object exports) {
  // Once per process, whichever thread loads the addon first; priority 1 outranks the default.
  static std::once_flag installed;
  std::call_once(installed, [] { c10::SetCPUAllocator(&CachingCpuAllocator::instance(), 1); });
  define(env, exports, "cpuCacheStats", {}, [](Napi::Env env) {
    const CachingCpuAllocator::Stats stats = CachingCpuAllocator::instance().stats();
    Napi::Object result = Napi::Object::New(env);
    result.Set("bytes", static_cast<double>(stats.cachedBytes));
    result.Set("blocks", static_cast<double>(stats.cachedBlocks));
    result.Set("limit", static_cast<double>(stats.limitBytes));
    return result;
  });
  define(env, exports, "cpuEmptyCache", {}, [] { CachingCpuAllocator::instance().empty(); });
}

}  // namespace unet
