// Augmentation kernels on the CPU: resampling through a per-pixel displacement field, and seeded
// Gaussian noise. grid_sample would do the resampling, but it needs normalised coordinates (which
// float32 cannot hold to a thousandth of a pixel) and costs several passes; here the source point
// of each output pixel is computed once in double precision and every channel is sampled from it.
// The arithmetic is grid_sample's (align_corners, reflection padding) so that the CUDA paths agree:
// the fused kernel of remap_kernel.cu where nvcc built it, grid_sample otherwise.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <atomic>
#include <cmath>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "bind.h"
#include "bindings.h"
#include "parallel.h"
#include "remap_kernel.h"
#include "resample_math.h"

#ifdef UNET_WITH_CUDA_KERNELS
#include "augment_cuda.h"
#endif

namespace unet {

namespace {
using T = const at::Tensor&;
using resample::CubicTaps;
using resample::cubicTaps;
using resample::cubicWeights;
using resample::reflect;
using resample::reflectIndex;

// One mode type for the CPU and CUDA remaps (remap_kernel.h has no torch headers).
using Mode = kernels::RemapMode;

Mode parseMode(const std::string& mode) {
  if (mode == "nearest") return Mode::Nearest;
  if (mode == "bilinear") return Mode::Bilinear;
  if (mode == "bicubic") return Mode::Bicubic;
  TORCH_CHECK_VALUE(false, "mode must be 'nearest', 'bilinear' or 'bicubic', got '", mode, "'");
}

// What the CPU and CUDA remaps both ask of their arguments: inputs and modes of one length, a
// field (N, H, W, 2) on `device`, inputs (N, C, H, W) on it too, interpolation only of floating
// inputs. Returns the parsed modes.
std::vector<Mode> checkRemap(const std::vector<at::Tensor>& inputs, T field, const std::vector<std::string>& modes,
                             c10::DeviceType device) {
  TORCH_CHECK_VALUE(!inputs.empty() && modes.size() == inputs.size(), "inputs and modes must be non-empty and of one length, got ",
                    inputs.size(), " and ", modes.size());
  TORCH_CHECK_VALUE(field.device().type() == device && field.dim() == 4 && field.size(3) == 2, "field must be a ",
                    c10::DeviceTypeName(device), " (N, H, W, 2) tensor, got ", field.sizes(), " on ", field.device());
  const int64_t samples = field.size(0), height = field.size(1), width = field.size(2);
  std::vector<Mode> parsed;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const at::Tensor& input = inputs[k];
    const Mode mode = parseMode(modes[k]);
    TORCH_CHECK_VALUE(input.device() == field.device(), "inputs must be on the field's device ", field.device(), ", got ", input.device());
    TORCH_CHECK_VALUE(input.dim() == 4 && input.size(0) == samples && input.size(2) == height && input.size(3) == width,
                      "inputs must be (N, C, H, W) with (N, H, W) = (", samples, ", ", height, ", ", width, ") as the field, got ",
                      input.sizes());
    TORCH_CHECK_VALUE(mode == Mode::Nearest || at::isFloatingType(input.scalar_type()), "only 'nearest' resamples a ", input.scalar_type(),
                      " input; interpolation needs a floating dtype");
    parsed.push_back(mode);
  }
  return parsed;
}

// Float images are interpolated in float (fractions taken from double-precision coordinates), the rest in double.
template <typename Scalar>
using Accumulator = std::conditional_t<std::is_same_v<Scalar, float>, float, double>;

// The 4 × 4 taps from `corner` (row stride `width`): rows weighted and summed first, then the
// columns, (0 + 2) + (1 + 3), the order in which insideBicubic4 sums four pixels at once.
template <typename Scalar>
Accumulator<Scalar> insideBicubic(const Scalar* corner, int64_t width, const Accumulator<Scalar> wy[4], const Accumulator<Scalar> wx[4]) {
  using Acc = Accumulator<Scalar>;
  Acc columns[4];
  for (int j = 0; j < 4; ++j) {
    columns[j] = wy[0] * static_cast<Acc>(corner[j]);
    for (int k = 1; k < 4; ++k) columns[j] += wy[k] * static_cast<Acc>(corner[k * width + j]);
  }
  return (wx[0] * columns[0] + wx[2] * columns[2]) + (wx[1] * columns[1] + wx[3] * columns[3]);
}

#if defined(__SSE2__)
template <int lane>
inline __m128 broadcastLane(__m128 v) {
  return _mm_shuffle_ps(v, v, _MM_SHUFFLE(lane, lane, lane, lane));
}

// Pixel `lane`'s row-weighted sums of its four tap columns.
template <int lane>
inline __m128 weightedRows(const float* corner, int64_t width, const __m128 wy[4]) {
  __m128 sum = _mm_mul_ps(broadcastLane<lane>(wy[0]), _mm_loadu_ps(corner));
  for (int k = 1; k < 4; ++k) sum = _mm_add_ps(sum, _mm_mul_ps(broadcastLane<lane>(wy[k]), _mm_loadu_ps(corner + k * width)));
  return sum;
}

// insideBicubic for four output pixels of a float image (lane p: top-left tap corners[p], weights
// wy[k], wx[k] lane p), with the same operations in the same order, so the results are the same bits.
inline __m128 insideBicubic4(const float* const corners[4], int64_t width, const __m128 wy[4], const __m128 wx[4]) {
  __m128 c0 = weightedRows<0>(corners[0], width, wy), c1 = weightedRows<1>(corners[1], width, wy);
  __m128 c2 = weightedRows<2>(corners[2], width, wy), c3 = weightedRows<3>(corners[3], width, wy);
  _MM_TRANSPOSE4_PS(c0, c1, c2, c3);
  return _mm_add_ps(_mm_add_ps(_mm_mul_ps(wx[0], c0), _mm_mul_ps(wx[2], c2)), _mm_add_ps(_mm_mul_ps(wx[1], c1), _mm_mul_ps(wx[3], c3)));
}

// cubicWeights for four fractions: weights[k] holds tap k of each lane.
inline void cubicWeights4(__m128 t, __m128 weights[4]) {
  const __m128 a = _mm_set1_ps(-0.75f), one = _mm_set1_ps(1), two = _mm_set1_ps(2);
  auto near = [&](__m128 x) {
    const __m128 inner = _mm_sub_ps(_mm_mul_ps(_mm_add_ps(a, two), x), _mm_add_ps(a, _mm_set1_ps(3)));
    return _mm_add_ps(_mm_mul_ps(_mm_mul_ps(inner, x), x), one);
  };
  auto far = [&](__m128 x) {
    const __m128 inner = _mm_sub_ps(_mm_mul_ps(a, x), _mm_mul_ps(_mm_set1_ps(5), a));
    return _mm_sub_ps(_mm_mul_ps(_mm_add_ps(_mm_mul_ps(inner, x), _mm_mul_ps(_mm_set1_ps(8), a)), x), _mm_mul_ps(_mm_set1_ps(4), a));
  };
  weights[0] = far(_mm_add_ps(t, one));
  weights[1] = near(t);
  weights[2] = near(_mm_sub_ps(one, t));
  weights[3] = far(_mm_sub_ps(two, t));
}

// The two floats from each of a and b: (a[0], a[1], b[0], b[1]).
inline __m128 pairs(const float* a, const float* b) {
  return _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), reinterpret_cast<const __m64*>(a)), reinterpret_cast<const __m64*>(b));
}

// The row and column fractions of four pixels, stored as (row, column) pairs of doubles, as
// four float lanes each, rounded as static_cast<float> rounds them.
inline void fractionLanes(const double* pairs, __m128& rows, __m128& columns) {
  const __m128 first = _mm_movelh_ps(_mm_cvtpd_ps(_mm_loadu_pd(pairs)), _mm_cvtpd_ps(_mm_loadu_pd(pairs + 2)));
  const __m128 second = _mm_movelh_ps(_mm_cvtpd_ps(_mm_loadu_pd(pairs + 4)), _mm_cvtpd_ps(_mm_loadu_pd(pairs + 6)));
  rows = _mm_shuffle_ps(first, second, _MM_SHUFFLE(2, 0, 2, 0));
  columns = _mm_shuffle_ps(first, second, _MM_SHUFFLE(3, 1, 3, 1));
}
#endif

constexpr int64_t kSpan = 256;

// The source points of up to kSpan consecutive output pixels of one row, mirrored into the image,
// as (row, column) pairs: the whole pixel at or before the point and the fraction beyond it, and
// the nearest pixel (half to even, as std::nearbyint and so grid_sample round).
struct SourceSpan {
  int32_t whole[2 * kSpan];
  int32_t nearest[2 * kSpan];
  double fraction[2 * kSpan];
};

// Fills `points` for output pixels [firstX, firstX + count) of row y, whose (dy, dx) start at
// `d`. Returns false if a displacement was not finite (its point is then taken as 0, 0).
template <typename Displacement>
bool sourcePoints(const Displacement* d, int64_t y, int64_t firstX, int64_t count, int64_t height, int64_t width, SourceSpan& points) {
  bool finite = true;
  auto mirrored = [&](double row, double column, double mirroredPoint[2]) {
    if (!std::isfinite(row) || !std::isfinite(column)) {
      finite = false;
      row = column = 0;
    }
    mirroredPoint[0] = reflect(row, height);
    mirroredPoint[1] = reflect(column, width);
  };
#if defined(__SSE2__)
  const __m128d zero = _mm_setzero_pd(), span = _mm_set_pd(static_cast<double>(width - 1), static_cast<double>(height - 1));
  const __m128d step = _mm_set_pd(1, 0);
  __m128d position = _mm_set_pd(static_cast<double>(firstX), static_cast<double>(y));
  for (int64_t i = 0; i < count; ++i, position = _mm_add_pd(position, step)) {
    __m128d point;
    if constexpr (std::is_same_v<Displacement, float>) {
      point = _mm_add_pd(position, _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(d + 2 * i)))));
    } else {
      point = _mm_add_pd(position, _mm_loadu_pd(d + 2 * i));
    }
    if (_mm_movemask_pd(_mm_and_pd(_mm_cmpge_pd(point, zero), _mm_cmple_pd(point, span))) != 3) {
      double unpacked[2], reflected[2];
      _mm_storeu_pd(unpacked, point);
      mirrored(unpacked[0], unpacked[1], reflected);
      point = _mm_loadu_pd(reflected);
    }
    // Mirrored points are >= 0, where truncation is floor.
    const __m128i whole = _mm_cvttpd_epi32(point);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(points.whole + 2 * i), whole);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(points.nearest + 2 * i), _mm_cvtpd_epi32(point));
    _mm_storeu_pd(points.fraction + 2 * i, _mm_sub_pd(point, _mm_cvtepi32_pd(whole)));
  }
#else
  for (int64_t i = 0; i < count; ++i) {
    double point[2];
    mirrored(static_cast<double>(y) + d[2 * i], static_cast<double>(firstX + i) + d[2 * i + 1], point);
    for (int axis = 0; axis < 2; ++axis) {
      points.whole[2 * i + axis] = static_cast<int32_t>(point[axis]);
      points.nearest[2 * i + axis] = static_cast<int32_t>(std::nearbyint(point[axis]));
      points.fraction[2 * i + axis] = point[axis] - static_cast<double>(points.whole[2 * i + axis]);
    }
  }
#endif
  return finite;
}

#if defined(__SSE2__)
// For pixels i to i + 3 of `points`, the address in plane `p` of the tap `back` pixels above and
// left of each one's whole pixel.
inline void quadCorners(const float* p, const SourceSpan& points, int64_t i, int64_t width, int back, const float* corners[4]) {
  for (int k = 0; k < 4; ++k) {
    corners[k] = p + static_cast<int64_t>(points.whole[2 * (i + k)] - back) * width + points.whole[2 * (i + k) + 1] - back;
  }
}
#endif

// Calls four(i, rowFractions, columnFractions) for each group of four pixels from i that all pass
// `inside`, with their fractions as float lanes, and one(i) for every other pixel. Without SSE2,
// or with `vectorised` false, every pixel goes to one(i).
template <bool vectorised, typename Inside, typename One, typename Four>
void byFours(const SourceSpan& points, int64_t count, const Inside& inside, const One& one, const Four& four) {
  int64_t i = 0;
#if defined(__SSE2__)
  if constexpr (vectorised) {
    for (; i + 4 <= count; i += 4) {
      if (!(inside(i) && inside(i + 1) && inside(i + 2) && inside(i + 3))) {
        for (int64_t k = i; k < i + 4; ++k) one(k);
        continue;
      }
      __m128 rowFractions, columnFractions;
      fractionLanes(points.fraction + 2 * i, rowFractions, columnFractions);
      four(i, rowFractions, columnFractions);
    }
  }
#endif
  for (; i < count; ++i) one(i);
}

// `count` output pixels from `target` on (one row of one sample) from their source points.
template <Mode mode, typename Scalar>
void remapSpan(const void* sourceData, void* targetData, const SourceSpan& points, int64_t count, int64_t channels, int64_t height,
               int64_t width) {
  using Acc = Accumulator<Scalar>;
  const Scalar* source = static_cast<const Scalar*>(sourceData);
  Scalar* target = static_cast<Scalar*>(targetData);
  const int64_t plane = height * width;
  const int32_t* whole = points.whole;
  const double* fraction = points.fraction;
  if constexpr (mode == Mode::Nearest) {
    for (int64_t i = 0; i < count; ++i) {
      const int64_t offset = static_cast<int64_t>(points.nearest[2 * i]) * width + points.nearest[2 * i + 1];
      for (int64_t c = 0; c < channels; ++c) target[c * plane + i] = source[c * plane + offset];
    }
  } else if constexpr (mode == Mode::Bilinear) {
    auto onePixel = [&](int64_t i) {
      const int64_t y0 = whole[2 * i], x0 = whole[2 * i + 1];
      const int64_t y1 = std::min(y0 + 1, height - 1), x1 = std::min(x0 + 1, width - 1);
      const Acc ty = static_cast<Acc>(fraction[2 * i]), tx = static_cast<Acc>(fraction[2 * i + 1]);
      for (int64_t c = 0; c < channels; ++c) {
        const Scalar* p = source + c * plane;
        const Acc top = static_cast<Acc>(p[y0 * width + x0]) * (1 - tx) + static_cast<Acc>(p[y0 * width + x1]) * tx;
        const Acc bottom = static_cast<Acc>(p[y1 * width + x0]) * (1 - tx) + static_cast<Acc>(p[y1 * width + x1]) * tx;
        target[c * plane + i] = static_cast<Scalar>(top * (1 - ty) + bottom * ty);
      }
    };
    auto inside = [&](int64_t i) { return whole[2 * i] + 1 < height && whole[2 * i + 1] + 1 < width; };
    // The groups of four run for float images only (byFours<false> never calls them), hence the casts.
    byFours<std::is_same_v<Scalar, float>>(points, count, inside, onePixel, [&](int64_t i, auto ty, auto tx) {
#if defined(__SSE2__)
      const __m128 one = _mm_set1_ps(1);
      for (int64_t c = 0; c < channels; ++c) {
        const float* p = reinterpret_cast<const float*>(source) + c * plane;
        const float* corners[4];
        quadCorners(p, points, i, width, 0, corners);
        __m128 left[2], right[2];
        for (int line = 0; line < 2; ++line) {
          const __m128 first = pairs(corners[0] + line * width, corners[1] + line * width);
          const __m128 second = pairs(corners[2] + line * width, corners[3] + line * width);
          left[line] = _mm_shuffle_ps(first, second, _MM_SHUFFLE(2, 0, 2, 0));
          right[line] = _mm_shuffle_ps(first, second, _MM_SHUFFLE(3, 1, 3, 1));
        }
        const __m128 top = _mm_add_ps(_mm_mul_ps(left[0], _mm_sub_ps(one, tx)), _mm_mul_ps(right[0], tx));
        const __m128 bottom = _mm_add_ps(_mm_mul_ps(left[1], _mm_sub_ps(one, tx)), _mm_mul_ps(right[1], tx));
        _mm_storeu_ps(reinterpret_cast<float*>(target) + c * plane + i,
                      _mm_add_ps(_mm_mul_ps(top, _mm_sub_ps(one, ty)), _mm_mul_ps(bottom, ty)));
      }
#endif
    });
  } else {
    auto inside = [&](int64_t i) {
      return whole[2 * i] >= 1 && whole[2 * i] + 2 < height && whole[2 * i + 1] >= 1 && whole[2 * i + 1] + 2 < width;
    };
    // Mirroring the point first mirrored its whole 4 × 4 neighbourhood (a reflection about a pixel
    // centre maps pixels onto pixels, and the kernel is symmetric), so only the taps of points
    // within two pixels of an edge need mirroring one by one.
    auto onePixel = [&](int64_t i) {
      const int64_t fy = whole[2 * i], fx = whole[2 * i + 1];
      Acc wy[4], wx[4];
      cubicWeights(static_cast<Acc>(fraction[2 * i]), wy);
      cubicWeights(static_cast<Acc>(fraction[2 * i + 1]), wx);
      if (inside(i)) {
        for (int64_t c = 0; c < channels; ++c) {
          target[c * plane + i] = static_cast<Scalar>(insideBicubic(source + c * plane + (fy - 1) * width + (fx - 1), width, wy, wx));
        }
        return;
      }
      int64_t rows[4], columns[4];
      for (int k = 0; k < 4; ++k) {
        rows[k] = reflectIndex(fy - 1 + k, height) * width;
        columns[k] = reflectIndex(fx - 1 + k, width);
      }
      auto line = [&](const Scalar* p) {
        return wx[0] * static_cast<Acc>(p[columns[0]]) + wx[1] * static_cast<Acc>(p[columns[1]]) + wx[2] * static_cast<Acc>(p[columns[2]]) +
               wx[3] * static_cast<Acc>(p[columns[3]]);
      };
      for (int64_t c = 0; c < channels; ++c) {
        const Scalar* p = source + c * plane;
        const Acc value = wy[0] * line(p + rows[0]) + wy[1] * line(p + rows[1]) + wy[2] * line(p + rows[2]) + wy[3] * line(p + rows[3]);
        target[c * plane + i] = static_cast<Scalar>(value);
      }
    };
    byFours<std::is_same_v<Scalar, float>>(points, count, inside, onePixel, [&](int64_t i, auto ty, auto tx) {
#if defined(__SSE2__)
      __m128 wy[4], wx[4];
      cubicWeights4(ty, wy);
      cubicWeights4(tx, wx);
      for (int64_t c = 0; c < channels; ++c) {
        const float* p = reinterpret_cast<const float*>(source) + c * plane;
        const float* corners[4];
        quadCorners(p, points, i, width, 1, corners);
        _mm_storeu_ps(reinterpret_cast<float*>(target) + c * plane + i, insideBicubic4(corners, width, wy, wx));
      }
#endif
    });
  }
}

using SpanKernel = void (*)(const void*, void*, const SourceSpan&, int64_t, int64_t, int64_t, int64_t);

// Chosen before the parallel loop, where an unsupported dtype can still throw.
SpanKernel spanKernelFor(Mode mode, at::ScalarType type) {
  SpanKernel kernel = nullptr;
  AT_DISPATCH_ALL_TYPES_AND(at::kBool, type, "remap", [&] {
    if (mode == Mode::Nearest)
      kernel = &remapSpan<Mode::Nearest, scalar_t>;
    else if (mode == Mode::Bilinear)
      kernel = &remapSpan<Mode::Bilinear, scalar_t>;
    else
      kernel = &remapSpan<Mode::Bicubic, scalar_t>;
  });
  return kernel;
}

// One input's share of a remap; the raw pointers are taken before the threads start.
struct RemapJob {
  at::Tensor source, result;
  SpanKernel kernel;
  const char* sourceBytes;
  char* resultBytes;
  int64_t channels, sampleBytes, rowBytes, itemSize;
};

// out_k(n, c, y, x) = inputs_k(n, c, y + dy, x + dx), (dy, dx) = field(n, y, x), mirrored at the
// borders. The inputs share the field, so each pixel's source point is computed once for them all.
std::vector<at::Tensor> remap(const std::vector<at::Tensor>& inputs, T field, const std::vector<std::string>& modes) {
  const std::vector<Mode> parsed = checkRemap(inputs, field, modes, c10::DeviceType::CPU);
  const int64_t samples = field.size(0), height = field.size(1), width = field.size(2);
  TORCH_CHECK_VALUE(height < (int64_t{1} << 31) && width < (int64_t{1} << 31), "remap takes images of under 2^31 pixels a side, got ",
                    height, " x ", width);
  std::vector<RemapJob> jobs;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Mode mode = parsed[k];
    const at::Tensor source = inputs[k].contiguous();
    at::Tensor result = at::empty_like(source);
    const int64_t itemSize = source.element_size(), channels = source.size(1);
    jobs.push_back({source, result, spanKernelFor(mode, source.scalar_type()), static_cast<const char*>(source.const_data_ptr()),
                    static_cast<char*>(result.mutable_data_ptr()), channels, channels * height * width * itemSize, width * itemSize,
                    itemSize});
  }
  const at::Tensor displacement = (field.scalar_type() == at::kDouble ? field : field.to(at::kFloat)).contiguous();
  std::atomic<bool> finite{true};
  auto run = [&](const auto* d) {
    parallelFor(samples * height, rowsPerChunk(width), [&](int64_t firstRow, int64_t endRow) {
      SourceSpan points;
      for (int64_t row = firstRow; row < endRow; ++row) {
        const int64_t sample = row / height, y = row % height;
        for (int64_t firstX = 0; firstX < width; firstX += kSpan) {
          const int64_t count = std::min(width - firstX, kSpan);
          if (!sourcePoints(d + (row * width + firstX) * 2, y, firstX, count, height, width, points)) finite = false;
          for (const RemapJob& job : jobs) {
            job.kernel(job.sourceBytes + sample * job.sampleBytes,
                       job.resultBytes + sample * job.sampleBytes + y * job.rowBytes + firstX * job.itemSize, points, count, job.channels,
                       height, width);
          }
        }
      }
    });
  };
  if (displacement.scalar_type() == at::kDouble)
    run(displacement.const_data_ptr<double>());
  else
    run(displacement.const_data_ptr<float>());
  TORCH_CHECK_VALUE(finite, "field must hold finite displacements, found NaN or infinity");
  std::vector<at::Tensor> results;
  for (RemapJob& job : jobs) results.push_back(std::move(job.result));
  return results;
}

// The checks composeField makes on the CPU and CUDA alike; returns the grid (gy, gx), (0, 0)
// without control points.
std::pair<int64_t, int64_t> checkCompose(const std::optional<at::Tensor>& controlPoints, T affine, int64_t height, int64_t width) {
  TORCH_CHECK_VALUE(height >= 1 && width >= 1, "height and width must be positive, got ", height, " x ", width);
  TORCH_CHECK_VALUE(affine.dim() == 2 && affine.size(1) == 6, "affine must be (N, 6), got ", affine.sizes());
  if (!controlPoints) return {0, 0};
  const at::Tensor& points = *controlPoints;
  TORCH_CHECK_VALUE(
      points.dim() == 4 && points.size(0) == affine.size(0) && points.size(1) == 2 && points.size(2) >= 2 && points.size(3) >= 2,
      "controlPoints must be (N, 2, gy, gx) with N = ", affine.size(0), " and at least 2 x 2 points, got ", points.sizes());
  TORCH_CHECK_VALUE(points.device() == affine.device(), "controlPoints must be on the device of affine (", affine.device(), "), got ",
                    points.device());
  return {points.size(2), points.size(3)};
}

// The displacement fields (N, H, W, 2), float32 (computed in double), of control points (N, 2, gy, gx) upsampled bicubically
// (the elastic part, in the output's frame) followed by the affine maps (N, 6) = (m00, m01, m10,
// m11, ty, tx) about the centre c: source = c + M (p + elastic(p) - c) + t; field = source - p.
// On the CPU here; field_kernel.cu computes the same bits on CUDA.
at::Tensor composeField(const std::optional<at::Tensor>& controlPoints, T affine, int64_t height, int64_t width) {
  const auto [gridY, gridX] = checkCompose(controlPoints, affine, height, width);
  const int64_t samples = affine.size(0);
  const at::Tensor maps = affine.to(at::kDouble).contiguous();
  const at::Tensor points = controlPoints ? controlPoints->to(at::kDouble).contiguous() : at::Tensor();
  at::Tensor out = at::empty({samples, height, width, 2}, at::kFloat);
  float* result = out.mutable_data_ptr<float>();
  const double centreY = static_cast<double>(height - 1) / 2, centreX = static_cast<double>(width - 1) / 2;
  std::vector<CubicTaps> rowTaps, columnTaps;
  for (int64_t y = 0; controlPoints && y < height; ++y) rowTaps.push_back(cubicTaps(gridY, height, y));
  for (int64_t x = 0; controlPoints && x < width; ++x) columnTaps.push_back(cubicTaps(gridX, width, x));
  std::vector<double> columns(width);
  for (int64_t x = 0; x < width; ++x) columns[x] = static_cast<double>(x);
  for (int64_t n = 0; n < samples; ++n) {
    const double* m = maps.const_data_ptr<double>() + n * 6;
    // Each component interpolated along x on every grid row first, as upsample_bicubic2d does.
    std::vector<double> alongX(2 * gridY * width);
    if (controlPoints) {
      const double* c = points.const_data_ptr<double>() + n * 2 * gridY * gridX;
      for (int64_t row = 0; row < 2 * gridY; ++row)
        for (int64_t x = 0; x < width; ++x) alongX[row * width + x] = resample::sumTaps(columnTaps[x], c + row * gridX, 1);
    }
    const double offsetY = centreY + m[4], offsetX = centreX + m[5];
    parallelFor(height, rowsPerChunk(width), [&](int64_t firstRow, int64_t endRow) {
      // Plain loops over whole rows, which the compiler vectorises; the sum in sumTaps' order.
      std::vector<double> elasticY(width, 0.0), elasticX(width, 0.0);
      for (int64_t y = firstRow; y < endRow; ++y) {
        if (controlPoints) {
          const CubicTaps& tap = rowTaps[y];
          for (int component = 0; component < 2; ++component) {
            const double* rows[4];
            for (int k = 0; k < 4; ++k) rows[k] = alongX.data() + (component * gridY + tap.index[k]) * width;
            double* elastic = component == 0 ? elasticY.data() : elasticX.data();
            for (int64_t x = 0; x < width; ++x) {
              elastic[x] =
                  rows[0][x] * tap.weight[0] + rows[1][x] * tap.weight[1] + rows[2][x] * tap.weight[2] + rows[3][x] * tap.weight[3];
            }
          }
        }
        float* target = result + (n * height + y) * width * 2;
        const double row = static_cast<double>(y);
        for (int64_t x = 0; x < width; ++x) {
          const double qy = row + elasticY[x] - centreY, qx = columns[x] + elasticX[x] - centreX;
          target[2 * x] = resample::displacement(m[0], m[1], qy, qx, offsetY, row);
          target[2 * x + 1] = resample::displacement(m[2], m[3], qy, qx, offsetX, columns[x]);
        }
      }
    });
  }
  return out;
}
}  // namespace

void registerAugment(Napi::Env env, Napi::Object exports) {
  // The field lies where affine (and the control points) lie: on CUDA, our kernel composes it
  // there (the torch-ops path of transformField composes it on the CPU and copies it instead).
  define(env, exports, "composeField", {"controlPoints", "affine", "height", "width"},
         [](std::optional<at::Tensor> controlPoints, T affine, int64_t height, int64_t width) {
           if (affine.device().is_cpu()) return composeField(controlPoints, affine, height, width);
#ifdef UNET_WITH_CUDA_KERNELS
           TORCH_CHECK_VALUE(affine.is_cuda(), "affine must be a CPU or CUDA tensor, got one on ", affine.device());
           const auto [gridY, gridX] = checkCompose(controlPoints, affine, height, width);
           return composeFieldCuda(controlPoints, affine, gridY, gridX, height, width);
#else
           TORCH_CHECK(false, "this addon was built without its CUDA kernels (no nvcc, or no CUDA libtorch, at install): compose on the CPU");
#endif
         });
  define(env, exports, "remap", {"inputs", "field", "modes"},
         [](std::vector<at::Tensor> inputs, T field, std::vector<std::string> modes) { return remap(inputs, field, modes); });
  // The fused CUDA kernel where nvcc built it (augment_cuda.cc); elsewhere lib/augment/resample.ts
  // takes the torch-ops path and never calls it.
  define(env, exports, "cudaKernelsBuilt", {}, [] {
#ifdef UNET_WITH_CUDA_KERNELS
    return true;
#else
    return false;
#endif
  });
  define(env, exports, "remapCuda", {"inputs", "field", "modes"},
         [](std::vector<at::Tensor> inputs, T field, std::vector<std::string> modes) -> std::vector<at::Tensor> {
#ifdef UNET_WITH_CUDA_KERNELS
           return remapCuda(inputs, field, checkRemap(inputs, field, modes, c10::DeviceType::CUDA));
#else
           TORCH_CHECK(false, "this addon was built without its CUDA kernels (no nvcc, or no CUDA libtorch, at install)");
#endif
         });

  // Standard normal float32 samples from a generator of their own, so that a sample's noise
  // depends on its seed alone, not on the global generator, the batch or the device.
  define(env, exports, "seededNormal", {"seed", "size"}, [](int64_t seed, std::vector<int64_t> size) {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed));
    return at::randn(size, generator, at::TensorOptions().dtype(at::kFloat));
  });
}

}  // namespace unet
