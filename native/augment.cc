// Augmentation kernels on the CPU: resampling through a per-pixel displacement field, and seeded
// Gaussian noise. grid_sample would do the resampling, but it needs normalised coordinates (which
// float32 cannot hold to a thousandth of a pixel) and costs several passes; here the source point
// of each output pixel is computed once in double precision and every channel is sampled from it.
// The arithmetic is grid_sample's (align_corners, reflection padding) so that the CUDA path, which
// uses grid_sample, agrees.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cmath>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bind.h"
#include "bindings.h"
#include "parallel.h"

namespace unet {

namespace {
using T = const at::Tensor&;

enum class Mode { Nearest, Bilinear, Bicubic };

Mode parseMode(const std::string& mode) {
  if (mode == "nearest") return Mode::Nearest;
  if (mode == "bilinear") return Mode::Bilinear;
  if (mode == "bicubic") return Mode::Bicubic;
  TORCH_CHECK_VALUE(false, "mode must be 'nearest', 'bilinear' or 'bicubic', got '", mode, "'");
}

// A coordinate mirrored about the outer pixel centres 0 and size - 1 as often as needed
// (grid_sample's reflection with align_corners), then clipped to the image.
inline double reflect(double x, int64_t size) {
  const double span = static_cast<double>(size - 1);
  if (x >= 0 && x <= span) return x;
  if (size == 1) return 0;
  // One reflection covers every point within a span of the image, which is nearly all of them.
  const double once = x < 0 ? -x : 2 * span - x;
  if (once >= 0 && once <= span) return once;
  const double distance = std::fabs(x);
  const double extra = std::fmod(distance, span);
  const double mirrored = static_cast<int64_t>(std::floor(distance / span)) % 2 == 0 ? extra : span - extra;
  return std::min(std::max(mirrored, 0.0), span);
}

// floor() without a libm call (the x86-64 baseline has no rounding instruction).
int64_t floorIndex(double x) {
  const int64_t truncated = static_cast<int64_t>(x);
  return truncated - (x < static_cast<double>(truncated) ? 1 : 0);
}

// reflect() for whole pixel positions, in integers: the mirror image repeats every 2 (size - 1).
int64_t reflectIndex(int64_t index, int64_t size) {
  if (index >= 0 && index < size) return index;
  if (size == 1) return 0;
  const int64_t period = 2 * (size - 1);
  const int64_t folded = ((index % period) + period) % period;
  return folded < size ? folded : period - folded;
}

// Round half to even, as std::nearbyint (and so grid_sample) does, without a libm call.
int64_t roundIndex(double x) {
  int64_t rounded = floorIndex(x + 0.5);
  if (static_cast<double>(rounded) - x == 0.5 && (rounded & 1) != 0) rounded -= 1;
  return rounded;
}

// Keys' cubic convolution kernel with a = -0.75, as PyTorch's bicubic modes use.
template <typename Real>
inline void cubicWeights(Real t, Real weights[4]) {
  constexpr Real a = -0.75;
  auto near = [](Real x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };
  auto far = [](Real x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };
  weights[0] = far(t + 1);
  weights[1] = near(t);
  weights[2] = near(1 - t);
  weights[3] = far(2 - t);
}

#if defined(__SSE2__)
// The same four weights for a float fraction, computed side by side in one register.
template <>
inline void cubicWeights<float>(float t, float weights[4]) {
  constexpr float a = -0.75f;
  const __m128 x = _mm_add_ps(_mm_set_ps(2, 1, 0, 1), _mm_mul_ps(_mm_set_ps(-1, -1, 1, 1), _mm_set1_ps(t)));
  const __m128 near = _mm_add_ps(
      _mm_mul_ps(_mm_mul_ps(_mm_sub_ps(_mm_mul_ps(_mm_set1_ps(a + 2), x), _mm_set1_ps(a + 3)), x), x), _mm_set1_ps(1));
  const __m128 far = _mm_sub_ps(
      _mm_mul_ps(_mm_add_ps(_mm_mul_ps(_mm_sub_ps(_mm_mul_ps(_mm_set1_ps(a), x), _mm_set1_ps(5 * a)), x), _mm_set1_ps(8 * a)), x),
      _mm_set1_ps(4 * a));
  const __m128 inner = _mm_castsi128_ps(_mm_set_epi32(0, -1, -1, 0));
  _mm_storeu_ps(weights, _mm_or_ps(_mm_and_ps(inner, near), _mm_andnot_ps(inner, far)));
}
#endif

// Float images are interpolated in float (fractions taken from double-precision coordinates), the rest in double.
template <typename Scalar>
using Accumulator = std::conditional_t<std::is_same_v<Scalar, float>, float, double>;

// The 4 × 4 taps from `corner` (row stride `width`), rows first. Float images take four lanes at a
// time where SSE2 is there; the sums then associate differently, within float rounding.
template <typename Scalar>
Accumulator<Scalar> insideBicubic(const Scalar* corner, int64_t width, const Accumulator<Scalar> wy[4],
                                  const Accumulator<Scalar> wx[4]) {
#if defined(__SSE2__)
  if constexpr (std::is_same_v<Scalar, float>) {
    __m128 columns = _mm_mul_ps(_mm_set1_ps(wy[0]), _mm_loadu_ps(corner));
    for (int k = 1; k < 4; ++k) columns = _mm_add_ps(columns, _mm_mul_ps(_mm_set1_ps(wy[k]), _mm_loadu_ps(corner + k * width)));
    const __m128 products = _mm_mul_ps(columns, _mm_loadu_ps(wx));
    const __m128 pairs = _mm_add_ps(products, _mm_movehl_ps(products, products));
    return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
  }
#endif
  Accumulator<Scalar> value = 0;
  for (int k = 0; k < 4; ++k) {
    const Scalar* line = corner + k * width;
    value += wy[k] * (wx[0] * static_cast<Accumulator<Scalar>>(line[0]) + wx[1] * static_cast<Accumulator<Scalar>>(line[1]) +
                      wx[2] * static_cast<Accumulator<Scalar>>(line[2]) + wx[3] * static_cast<Accumulator<Scalar>>(line[3]));
  }
  return value;
}

// Pixels [firstX, endX) of one output row (`target` points at the row's start) of one sample, from
// their mirrored source points sourceY[x - firstX], sourceX[x - firstX].
template <Mode mode, typename Scalar>
void remapSpan(const void* sourceData, void* targetData, const double* sourceY, const double* sourceX, int64_t firstX, int64_t endX,
               int64_t channels, int64_t height, int64_t width) {
  using Acc = Accumulator<Scalar>;
  const Scalar* source = static_cast<const Scalar*>(sourceData);
  Scalar* target = static_cast<Scalar*>(targetData);
  const int64_t plane = height * width;
  for (int64_t x = firstX; x < endX; ++x) {
    const double ry = sourceY[x - firstX], rx = sourceX[x - firstX];
    if constexpr (mode == Mode::Nearest) {
      const int64_t offset = roundIndex(ry) * width + roundIndex(rx);
      for (int64_t c = 0; c < channels; ++c) target[c * plane + x] = source[c * plane + offset];
    } else if constexpr (mode == Mode::Bilinear) {
      const int64_t y0 = static_cast<int64_t>(ry), x0 = static_cast<int64_t>(rx);
      const int64_t y1 = std::min(y0 + 1, height - 1), x1 = std::min(x0 + 1, width - 1);
      const Acc ty = static_cast<Acc>(ry - static_cast<double>(y0)), tx = static_cast<Acc>(rx - static_cast<double>(x0));
      for (int64_t c = 0; c < channels; ++c) {
        const Scalar* p = source + c * plane;
        const Acc top = static_cast<Acc>(p[y0 * width + x0]) * (1 - tx) + static_cast<Acc>(p[y0 * width + x1]) * tx;
        const Acc bottom = static_cast<Acc>(p[y1 * width + x0]) * (1 - tx) + static_cast<Acc>(p[y1 * width + x1]) * tx;
        target[c * plane + x] = static_cast<Scalar>(top * (1 - ty) + bottom * ty);
      }
    } else {
      // Mirroring the point first mirrors its whole 4 × 4 neighbourhood (a reflection about a pixel
      // centre maps pixels onto pixels, and the kernel is symmetric), so only the taps of points
      // within two pixels of an edge need mirroring one by one.
      const int64_t fy = floorIndex(ry), fx = floorIndex(rx);
      Acc wy[4], wx[4];
      cubicWeights(static_cast<Acc>(ry - static_cast<double>(fy)), wy);
      cubicWeights(static_cast<Acc>(rx - static_cast<double>(fx)), wx);
      if (fy >= 1 && fy + 2 < height && fx >= 1 && fx + 2 < width) {
        for (int64_t c = 0; c < channels; ++c) {
          const Scalar* corner = source + c * plane + (fy - 1) * width + (fx - 1);
          target[c * plane + x] = static_cast<Scalar>(insideBicubic(corner, width, wy, wx));
        }
        continue;
      }
      int64_t rows[4], columns[4];
      for (int k = 0; k < 4; ++k) {
        rows[k] = reflectIndex(fy - 1 + k, height) * width;
        columns[k] = reflectIndex(fx - 1 + k, width);
      }
      auto line = [&](const Scalar* p) {
        return wx[0] * static_cast<Acc>(p[columns[0]]) + wx[1] * static_cast<Acc>(p[columns[1]]) +
               wx[2] * static_cast<Acc>(p[columns[2]]) + wx[3] * static_cast<Acc>(p[columns[3]]);
      };
      for (int64_t c = 0; c < channels; ++c) {
        const Scalar* p = source + c * plane;
        const Acc value = wy[0] * line(p + rows[0]) + wy[1] * line(p + rows[1]) + wy[2] * line(p + rows[2]) + wy[3] * line(p + rows[3]);
        target[c * plane + x] = static_cast<Scalar>(value);
      }
    }
  }
}

using SpanKernel = void (*)(const void*, void*, const double*, const double*, int64_t, int64_t, int64_t, int64_t, int64_t);

// Chosen before the parallel loop, where an unsupported dtype can still throw.
SpanKernel spanKernelFor(Mode mode, at::ScalarType type) {
  SpanKernel kernel = nullptr;
  AT_DISPATCH_ALL_TYPES_AND(at::kBool, type, "remap", [&] {
    if (mode == Mode::Nearest) kernel = &remapSpan<Mode::Nearest, scalar_t>;
    else if (mode == Mode::Bilinear) kernel = &remapSpan<Mode::Bilinear, scalar_t>;
    else kernel = &remapSpan<Mode::Bicubic, scalar_t>;
  });
  return kernel;
}

// One input's share of a remap; the raw pointers are taken before the threads start.
struct RemapJob {
  at::Tensor source, result;
  SpanKernel kernel;
  const char* sourceBytes;
  char* resultBytes;
  int64_t channels, sampleBytes, rowBytes;
};

// out_k(n, c, y, x) = inputs_k(n, c, y + dy, x + dx), (dy, dx) = field(n, y, x), mirrored at the
// borders. The inputs share the field, so each pixel's source point is computed once for them all.
std::vector<at::Tensor> remap(const std::vector<at::Tensor>& inputs, T field, const std::vector<std::string>& modes) {
  TORCH_CHECK_VALUE(!inputs.empty() && modes.size() == inputs.size(), "inputs and modes must be non-empty and of one length, got ",
                    inputs.size(), " and ", modes.size());
  TORCH_CHECK_VALUE(field.is_cpu() && field.dim() == 4 && field.size(3) == 2, "field must be a CPU (N, H, W, 2) tensor, got ",
                    field.sizes());
  const int64_t samples = field.size(0), height = field.size(1), width = field.size(2);
  std::vector<RemapJob> jobs;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const at::Tensor& input = inputs[k];
    const Mode mode = parseMode(modes[k]);
    TORCH_CHECK_VALUE(input.is_cpu(), "remap runs on CPU tensors");
    TORCH_CHECK_VALUE(input.dim() == 4 && input.size(0) == samples && input.size(2) == height && input.size(3) == width,
                      "inputs must be (N, C, H, W) with (N, H, W) = (", samples, ", ", height, ", ", width, ") as the field, got ",
                      input.sizes());
    TORCH_CHECK_VALUE(mode == Mode::Nearest || at::isFloatingType(input.scalar_type()), "only 'nearest' resamples a ",
                      input.scalar_type(), " input; interpolation needs a floating dtype");
    const at::Tensor source = input.contiguous();
    at::Tensor result = at::empty_like(source);
    const int64_t itemSize = source.element_size(), channels = source.size(1);
    jobs.push_back({source, result, spanKernelFor(mode, source.scalar_type()), static_cast<const char*>(source.const_data_ptr()),
                    static_cast<char*>(result.mutable_data_ptr()), channels, channels * height * width * itemSize, width * itemSize});
  }
  const at::Tensor displacement = (field.scalar_type() == at::kDouble ? field : field.to(at::kFloat)).contiguous();
  auto run = [&](const auto* d) {
    parallelFor(samples * height, 64, [&](int64_t firstRow, int64_t endRow) {
      constexpr int64_t kSpan = 256;
      double sourceY[kSpan], sourceX[kSpan];
      for (int64_t row = firstRow; row < endRow; ++row) {
        const int64_t sample = row / height, y = row % height;
        for (int64_t firstX = 0; firstX < width; firstX += kSpan) {
          const int64_t endX = std::min(width, firstX + kSpan);
          for (int64_t x = firstX; x < endX; ++x) {
            sourceY[x - firstX] = reflect(static_cast<double>(y) + d[(row * width + x) * 2], height);
            sourceX[x - firstX] = reflect(static_cast<double>(x) + d[(row * width + x) * 2 + 1], width);
          }
          for (const RemapJob& job : jobs) {
            job.kernel(job.sourceBytes + sample * job.sampleBytes, job.resultBytes + sample * job.sampleBytes + y * job.rowBytes,
                       sourceY, sourceX, firstX, endX, job.channels, height, width);
          }
        }
      }
    });
  };
  if (displacement.scalar_type() == at::kDouble) run(displacement.const_data_ptr<double>());
  else run(displacement.const_data_ptr<float>());
  std::vector<at::Tensor> results;
  for (RemapJob& job : jobs) results.push_back(std::move(job.result));
  return results;
}

// Where output pixel x samples the coarse grid in PyTorch's align_corners bicubic upsampling: the
// four taps (clamped to the grid) and their weights.
struct CubicTaps {
  int64_t index[4];
  double weight[4];
};

std::vector<CubicTaps> upsampleTaps(int64_t gridSize, int64_t outputSize) {
  const double scale = outputSize > 1 ? static_cast<double>(gridSize - 1) / static_cast<double>(outputSize - 1) : 0;
  std::vector<CubicTaps> taps(outputSize);
  for (int64_t x = 0; x < outputSize; ++x) {
    const double real = scale * static_cast<double>(x);
    const int64_t first = floorIndex(real);
    cubicWeights(real - static_cast<double>(first), taps[x].weight);
    for (int k = 0; k < 4; ++k) taps[x].index[k] = std::min(std::max(first - 1 + k, int64_t{0}), gridSize - 1);
  }
  return taps;
}

// The displacement fields (N, H, W, 2), float32 (computed in double), of control points (N, 2, gy, gx) upsampled bicubically
// (the elastic part, in the output's frame) followed by the affine maps (N, 6) = (m00, m01, m10,
// m11, ty, tx) about the centre c: source = c + M (p + elastic(p) - c) + t; field = source - p.
at::Tensor composeField(std::optional<at::Tensor> controlPoints, T affine, int64_t height, int64_t width) {
  TORCH_CHECK_VALUE(height >= 1 && width >= 1, "height and width must be positive, got ", height, " x ", width);
  TORCH_CHECK_VALUE(affine.dim() == 2 && affine.size(1) == 6, "affine must be (N, 6), got ", affine.sizes());
  const int64_t samples = affine.size(0);
  const at::Tensor maps = affine.to(at::kDouble).cpu().contiguous();
  at::Tensor points;
  int64_t gridY = 0, gridX = 0;
  if (controlPoints) {
    points = controlPoints->to(at::kDouble).cpu().contiguous();
    TORCH_CHECK_VALUE(points.dim() == 4 && points.size(0) == samples && points.size(1) == 2 && points.size(2) >= 2 &&
                          points.size(3) >= 2,
                      "controlPoints must be (N, 2, gy, gx) with N = ", samples, " and at least 2 x 2 points, got ", points.sizes());
    gridY = points.size(2);
    gridX = points.size(3);
  }
  at::Tensor out = at::empty({samples, height, width, 2}, at::kFloat);
  float* result = out.mutable_data_ptr<float>();
  const double centreY = static_cast<double>(height - 1) / 2, centreX = static_cast<double>(width - 1) / 2;
  const std::vector<CubicTaps> rowTaps = controlPoints ? upsampleTaps(gridY, height) : std::vector<CubicTaps>{};
  const std::vector<CubicTaps> columnTaps = controlPoints ? upsampleTaps(gridX, width) : std::vector<CubicTaps>{};
  for (int64_t n = 0; n < samples; ++n) {
    const double* m = maps.const_data_ptr<double>() + n * 6;
    // Each component interpolated along x on every grid row first, as upsample_bicubic2d does.
    std::vector<double> alongX(2 * gridY * width);
    if (controlPoints) {
      const double* c = points.const_data_ptr<double>() + n * 2 * gridY * gridX;
      for (int64_t row = 0; row < 2 * gridY; ++row) {
        for (int64_t x = 0; x < width; ++x) {
          const CubicTaps& tap = columnTaps[x];
          const double* line = c + row * gridX;
          alongX[row * width + x] = line[tap.index[0]] * tap.weight[0] + line[tap.index[1]] * tap.weight[1] +
                                    line[tap.index[2]] * tap.weight[2] + line[tap.index[3]] * tap.weight[3];
        }
      }
    }
    parallelFor(height, 64, [&](int64_t firstRow, int64_t endRow) {
      for (int64_t y = firstRow; y < endRow; ++y) {
        float* target = result + (n * height + y) * width * 2;
        for (int64_t x = 0; x < width; ++x) {
          double elastic[2] = {0, 0};
          if (controlPoints) {
            const CubicTaps& tap = rowTaps[y];
            for (int component = 0; component < 2; ++component) {
              const double* column = alongX.data() + component * gridY * width + x;
              elastic[component] = column[tap.index[0] * width] * tap.weight[0] + column[tap.index[1] * width] * tap.weight[1] +
                                   column[tap.index[2] * width] * tap.weight[2] + column[tap.index[3] * width] * tap.weight[3];
            }
          }
          const double qy = static_cast<double>(y) + elastic[0] - centreY;
          const double qx = static_cast<double>(x) + elastic[1] - centreX;
          target[2 * x] = static_cast<float>((m[0] * qy + m[1] * qx + (centreY + m[4])) - static_cast<double>(y));
          target[2 * x + 1] = static_cast<float>((m[2] * qy + m[3] * qx + (centreX + m[5])) - static_cast<double>(x));
        }
      }
    });
  }
  return out;
}
}  // namespace

void registerAugment(Napi::Env env, Napi::Object exports) {
  define(env, exports, "composeField", {"controlPoints", "affine", "height", "width"},
         [](std::optional<at::Tensor> controlPoints, T affine, int64_t height, int64_t width) {
           return composeField(std::move(controlPoints), affine, height, width);
         });
  define(env, exports, "remap", {"inputs", "field", "modes"},
         [](std::vector<at::Tensor> inputs, T field, std::vector<std::string> modes) { return remap(inputs, field, modes); });

  // Standard normal float32 samples from a generator of their own, so that a sample's noise
  // depends on its seed alone, not on the global generator, the batch or the device.
  define(env, exports, "seededNormal", {"seed", "size"}, [](int64_t seed, std::vector<int64_t> size) {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed));
    return at::randn(size, generator, at::TensorOptions().dtype(at::kFloat));
  });
}

}  // namespace unet
