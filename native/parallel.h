// Splitting a loop over libtorch's intra-op thread count. at::parallel_for cannot be used here:
// its OpenMP body is inline in ATen's headers and runs serially unless the addon itself is built
// with -fopenmp, which would load a second OpenMP runtime beside libtorch's.
#pragma once

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace unet {

// Calls body(first, end) on contiguous parts of [0, count), in parallel when there is enough work
// (at least `grain` items per part). `body` must not throw.
template <typename Body>
void parallelFor(int64_t count, int64_t grain, const Body& body) {
  const int64_t parts = std::clamp<int64_t>(count / std::max<int64_t>(grain, 1), 1, at::get_num_threads());
  if (parts <= 1) {
    body(int64_t{0}, count);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(parts - 1);
  const int64_t step = (count + parts - 1) / parts;
  for (int64_t part = 1; part < parts; ++part) {
    const int64_t first = part * step, end = std::min(count, first + step);
    if (first < end) workers.emplace_back([&body, first, end] { body(first, end); });
  }
  body(int64_t{0}, std::min(count, step));
  for (std::thread& worker : workers) worker.join();
}

}  // namespace unet
