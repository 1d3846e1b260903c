// Splitting a loop over libtorch's intra-op thread count. at::parallel_for cannot be used here:
// its OpenMP body is inline in ATen's headers and runs serially unless the addon itself is built
// with -fopenmp, which would load a second OpenMP runtime beside libtorch's. The helpers run on
// libtorch's inter-op pool, whose threads outlive the call: starting a thread per call cost about
// 70 µs here.
#pragma once

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace unet {

// Rows of about 8,000 pixels to a chunk of a parallel loop over an image's rows: enough work to be
// worth a wake-up (about 0.1 ms), small enough that the threads end together.
inline int64_t rowsPerChunk(int64_t width) { return std::max<int64_t>(1, 8192 / std::max<int64_t>(width, 1)); }

// Calls body(first, end) on consecutive chunks of `grain` items covering [0, count), on up to
// at::get_num_threads() threads. Each thread takes the next chunk when it is done with one, so a
// helper that starts late, or a core that is busy elsewhere, only takes fewer. `body` must not
// throw. The calling thread works too and then waits for the helpers, which never wait on
// anything, so calls from several threads at once share the pool without deadlock.
template <typename Body>
void parallelFor(int64_t count, int64_t grain, const Body& body) {
  grain = std::max<int64_t>(grain, 1);
  const int64_t chunks = (count + grain - 1) / grain;
  const int64_t helpers = std::min<int64_t>(chunks, at::get_num_threads()) - 1;
  if (helpers <= 0) {
    body(int64_t{0}, count);
    return;
  }
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t chunk = next++; chunk < chunks; chunk = next++) body(chunk * grain, std::min(count, (chunk + 1) * grain));
  };
  std::mutex mutex;
  std::condition_variable finished;
  int64_t pending = helpers;
  for (int64_t helper = 0; helper < helpers; ++helper) {
    at::launch([&] {
      work();
      std::lock_guard<std::mutex> lock(mutex);
      if (--pending == 0) finished.notify_one();
    });
  }
  work();
  std::unique_lock<std::mutex> lock(mutex);
  finished.wait(lock, [&] { return pending == 0; });
}

}  // namespace unet
