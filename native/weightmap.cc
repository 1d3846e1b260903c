// The U-Net paper's border weight map, exactly as README "Weight map" defines it, in time that
// grows with the pixels rather than with pixels × cells: each cell's Euclidean distance transform
// is computed only inside its bounding box grown by the radius beyond which the border and
// balance terms stay below the tolerance the caller gives.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <vector>

#include "bind.h"
#include "bindings.h"
#include "parallel.h"

namespace unet {

namespace {
using T = const at::Tensor&;
constexpr float kInfinity = std::numeric_limits<float>::infinity();

// Felzenszwalb & Huttenlocher's exact 1-d squared distance transform of f (0 at sources, +inf
// elsewhere): the lower envelope of the parabolas rooted at the finite samples.
void distance1d(const std::vector<float>& f, std::vector<float>& out, std::vector<int>& v, std::vector<float>& z) {
  const int n = static_cast<int>(f.size());
  int k = -1;
  for (int q = 0; q < n; ++q) {
    if (f[q] == kInfinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -kInfinity;
      z[1] = kInfinity;
      continue;
    }
    auto intersection = [&](int p) {
      return ((f[q] + static_cast<float>(q) * q) - (f[p] + static_cast<float>(p) * p)) / (2.0f * static_cast<float>(q - p));
    };
    float s = intersection(v[k]);
    while (s <= z[k]) {  // z[0] is -inf, so this stops at k = 0
      --k;
      s = intersection(v[k]);
    }
    ++k;
    v[k] = q;
    z[k] = s;
    z[k + 1] = kInfinity;
  }
  if (k < 0) {
    std::fill(out.begin(), out.end(), kInfinity);
    return;
  }
  k = 0;
  for (int q = 0; q < n; ++q) {
    while (z[k + 1] < static_cast<float>(q)) ++k;
    const float d = static_cast<float>(q - v[k]);
    out[q] = d * d + f[v[k]];
  }
}

// Exact squared Euclidean distances, within a window (row-major, `height` × `width`), to its zeros.
void distanceTransform(float* grid, int height, int width) {
  const int longest = std::max(height, width);
  std::vector<float> f(longest), out(longest), z(longest + 1);
  std::vector<int> v(longest);
  f.resize(height);
  out.resize(height);
  for (int x = 0; x < width; ++x) {
    for (int y = 0; y < height; ++y) f[y] = grid[y * width + x];
    distance1d(f, out, v, z);
    for (int y = 0; y < height; ++y) grid[y * width + x] = out[y];
  }
  f.resize(width);
  out.resize(width);
  for (int y = 0; y < height; ++y) {
    std::copy(grid + y * width, grid + (y + 1) * width, f.begin());
    distance1d(f, out, v, z);
    std::copy(out.begin(), out.end(), grid + y * width);
  }
}

struct Box {
  int top = std::numeric_limits<int>::max();
  int left = std::numeric_limits<int>::max();
  int bottom = -1;
  int right = -1;
};

// The two smallest squared distances from each pixel to any cell (d1, d2: height × width), exact
// wherever both are within `radius` (squared: the square roots are taken once per pixel at the
// end, not once per window pixel). The windows' transforms run in parallel, a batch at a time,
// then each row takes the two smallest of the batch's values: the two smallest of a set do not
// depend on the order they are taken in, so the result is the same on any number of threads.
void nearestTwo(const int32_t* labels, int height, int width, double radius, float* d1, float* d2) {
  // Each chunk of rows finds its cells' boxes, looking a cell up only where the id changes along
  // a row; the chunks' boxes are then joined.
  const int64_t rows = rowsPerChunk(width);
  std::vector<std::unordered_map<int32_t, Box>> chunkBoxes((height + rows - 1) / rows);
  parallelFor(height, rows, [&](int64_t firstRow, int64_t endRow) {
    auto& boxes = chunkBoxes[firstRow / rows];
    for (int64_t y = firstRow; y < endRow; ++y) {
      const int32_t* row = labels + y * width;
      for (int x = 0; x < width;) {
        const int32_t id = row[x];
        const int start = x;
        while (x < width && row[x] == id) ++x;
        if (id == 0) continue;
        Box& box = boxes[id];
        box.top = std::min<int>(box.top, static_cast<int>(y));
        box.bottom = std::max<int>(box.bottom, static_cast<int>(y));
        box.left = std::min(box.left, start);
        box.right = std::max(box.right, x - 1);
      }
    }
  });
  std::unordered_map<int32_t, Box> boxes;
  for (const auto& chunk : chunkBoxes) {
    for (const auto& [id, part] : chunk) {
      Box& box = boxes[id];
      box.top = std::min(box.top, part.top);
      box.left = std::min(box.left, part.left);
      box.bottom = std::max(box.bottom, part.bottom);
      box.right = std::max(box.right, part.right);
    }
  }
  const int64_t total = static_cast<int64_t>(height) * width;
  std::fill(d1, d1 + total, kInfinity);
  std::fill(d2, d2 + total, kInfinity);
  const int grow = static_cast<int>(std::ceil(radius));
  struct Window {
    int32_t id;
    Box box;
    int top, left, h, w;
    int64_t offset;  // into the batch's buffer
  };
  std::vector<Window> windows;
  windows.reserve(boxes.size());
  for (const auto& [id, box] : boxes) {
    const int top = std::max(0, box.top - grow), bottom = std::min(height - 1, box.bottom + grow);
    const int left = std::max(0, box.left - grow), right = std::min(width - 1, box.right + grow);
    windows.push_back({id, box, top, left, bottom - top + 1, right - left + 1, 0});
  }
  // A batch holds windows up to twice the image's pixels (or one window, if larger), which bounds
  // the buffer. It is a tensor so that it comes from the CPU block cache (cpu_cache.cc), not fresh
  // pages: under glibc's defaults a first touch cost more than the work.
  const int64_t budget = 2 * total;
  size_t first = 0;
  while (first < windows.size()) {
    size_t end = first;
    int64_t area = 0;
    while (end < windows.size() && (end == first || area + int64_t{windows[end].h} * windows[end].w <= budget)) {
      windows[end].offset = area;
      area += int64_t{windows[end].h} * windows[end].w;
      ++end;
    }
    at::Tensor buffer = at::empty({area}, at::kFloat);
    float* grids = buffer.mutable_data_ptr<float>();
    parallelFor(static_cast<int64_t>(end - first), 1, [&](int64_t begin, int64_t stop) {
      for (int64_t k = begin; k < stop; ++k) {
        const Window& window = windows[first + k];
        float* grid = grids + window.offset;
        std::fill(grid, grid + int64_t{window.h} * window.w, kInfinity);
        for (int y = window.box.top; y <= window.box.bottom; ++y) {
          for (int x = window.box.left; x <= window.box.right; ++x) {
            if (labels[y * width + x] == window.id) grid[(y - window.top) * window.w + (x - window.left)] = 0.0f;
          }
        }
        distanceTransform(grid, window.h, window.w);
      }
    });
    parallelFor(height, rowsPerChunk(width), [&](int64_t firstRow, int64_t endRow) {
      for (size_t k = first; k < end; ++k) {
        const Window& window = windows[k];
        const int64_t top = std::max<int64_t>(firstRow, window.top), bottom = std::min<int64_t>(endRow, window.top + window.h);
        for (int64_t y = top; y < bottom; ++y) {
          const float* row = grids + window.offset + (y - window.top) * window.w;
          float* near = d1 + y * width + window.left;
          float* second = d2 + y * width + window.left;
          for (int x = 0; x < window.w; ++x) {
            const float d = row[x];
            if (d < near[x]) {
              second[x] = near[x];
              near[x] = d;
            } else if (d < second[x]) {
              second[x] = d;
            }
          }
        }
      }
    });
    first = end;
  }
}
}  // namespace

// README "Weight map": w(x) = w_c(x) + w0·exp(−(d1 + d2)²/(2σ²)) on background, w_c(x) on cells;
// classWeights [background, cell], or balance (N / (C·n_c)) when empty; falk: the 2019 release's
// background term 0.1 + 0.9·exp(−d1²/(2·10²)) and 1 on cells.
at::Tensor weightMapOf(const at::Tensor& labels, double w0, double sigma, double radius, const std::vector<double>& classWeights,
                       bool falk) {
  TORCH_CHECK_VALUE(labels.dim() == 2 && labels.scalar_type() == at::kInt && labels.is_cpu(), "labels must be a 2-d int32 CPU tensor");
  TORCH_CHECK_VALUE(classWeights.empty() || classWeights.size() == 2, "classWeights must be empty (balance) or [background, cell]");
  at::Tensor contiguous = labels.contiguous();
  const int32_t* ids = contiguous.const_data_ptr<int32_t>();
  const int height = static_cast<int>(labels.size(0)), width = static_cast<int>(labels.size(1));
  const int64_t total = static_cast<int64_t>(height) * width;
  at::Tensor nearest = at::empty({2, height, width}, at::kFloat);
  float* d1 = nearest.mutable_data_ptr<float>();
  float* d2 = d1 + total;
  nearestTwo(ids, height, width, radius, d1, d2);
  double background = 1.0, cell = 1.0;
  if (!classWeights.empty()) {
    background = classWeights[0];
    cell = classWeights[1];
  } else {
    int64_t cells = 0;
    for (int64_t k = 0; k < total; ++k) cells += ids[k] != 0;
    const int64_t counts[2] = {total - cells, cells};
    const int present = (counts[0] > 0) + (counts[1] > 0);
    background = static_cast<double>(total) / (present * std::max<int64_t>(counts[0], 1));
    cell = static_cast<double>(total) / (present * std::max<int64_t>(counts[1], 1));
  }
  at::Tensor map = at::empty({height, width}, at::kFloat);
  float* out = map.mutable_data_ptr<float>();
  const double twoSigmaSquared = 2 * sigma * sigma;
  parallelFor(total, 16384, [&](int64_t first, int64_t end) {
    for (int64_t k = first; k < end; ++k) {
      if (ids[k] != 0) {
        out[k] = static_cast<float>(falk ? 1.0 : cell);
        continue;
      }
      const double near = std::sqrt(static_cast<double>(d1[k])), second = std::sqrt(static_cast<double>(d2[k]));
      const double base = falk ? 0.1 + 0.9 * std::exp(-(near * near) / (2 * 10.0 * 10.0)) : background;
      const double sum = near + second;
      // Beyond every second cell's window (d2 infinite) the border term is exactly 0: no exp to take.
      const double border = std::isinf(sum) ? 0.0 : w0 * std::exp(-(sum * sum) / twoSigmaSquared);
      out[k] = static_cast<float>(base + border);
    }
  });
  return map;
}

void registerWeightMap(Napi::Env env, Napi::Object exports) {
  define(env, exports, "weightMap", {"labels", "w0", "sigma", "radius", "classWeights", "falk"},
         [](T labels, double w0, double sigma, double radius, const std::vector<double>& classWeights, bool falk) {
           return weightMapOf(labels, w0, sigma, radius, classWeights, falk);
         });
  // Foreground (H, W) bool → int32 connected-component ids 1..K (0 background), in raster order.
  define(env, exports, "connectedComponents", {"mask", "connectivity"}, [](T mask, int64_t connectivity) {
    TORCH_CHECK_VALUE(mask.dim() == 2 && mask.scalar_type() == at::kBool && mask.is_cpu(), "mask must be a 2-d bool CPU tensor");
    TORCH_CHECK_VALUE(connectivity == 4 || connectivity == 8, "connectivity must be 4 or 8, got ", connectivity);
    at::Tensor contiguous = mask.contiguous();
    const bool* in = contiguous.const_data_ptr<bool>();
    const int64_t height = mask.size(0), width = mask.size(1);
    at::Tensor labels = at::zeros({height, width}, at::kInt);
    int32_t* out = labels.mutable_data_ptr<int32_t>();
    std::vector<int64_t> stack;
    int32_t next = 0;
    for (int64_t start = 0; start < height * width; ++start) {
      if (!in[start] || out[start] != 0) continue;
      out[start] = ++next;
      stack.push_back(start);
      while (!stack.empty()) {
        const int64_t at = stack.back();
        stack.pop_back();
        const int64_t y = at / width, x = at % width;
        for (int64_t dy = -1; dy <= 1; ++dy) {
          for (int64_t dx = -1; dx <= 1; ++dx) {
            if ((dy == 0 && dx == 0) || (connectivity == 4 && dy != 0 && dx != 0)) continue;
            const int64_t ny = y + dy, nx = x + dx;
            if (ny < 0 || nx < 0 || ny >= height || nx >= width) continue;
            const int64_t neighbour = ny * width + nx;
            if (in[neighbour] && out[neighbour] == 0) {
              out[neighbour] = next;
              stack.push_back(neighbour);
            }
          }
        }
      }
    }
    return labels;
  });
}

}  // namespace unet
