// Augmentation kernels on the CPU: resampling through a per-pixel displacement field, and seeded
// Gaussian noise. grid_sample would do the resampling, but it needs normalised coordinates (which
// float32 cannot hold to a thousandth of a pixel) and costs several passes; here the source point
// of each output pixel is computed once in double precision and every channel is sampled from it.
// The arithmetic is grid_sample's (align_corners, reflection padding) so that the CUDA path, which
// uses grid_sample, agrees.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

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
double reflect(double x, int64_t size) {
  if (x >= 0 && x <= static_cast<double>(size - 1)) return x;
  if (size == 1) return 0;
  const double span = static_cast<double>(size - 1);
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

int64_t reflectIndex(int64_t index, int64_t size) {
  return index >= 0 && index < size ? index : static_cast<int64_t>(reflect(static_cast<double>(index), size));
}

// Round half to even, as std::nearbyint (and so grid_sample) does, without a libm call.
int64_t roundIndex(double x) {
  int64_t rounded = floorIndex(x + 0.5);
  if (static_cast<double>(rounded) - x == 0.5 && (rounded & 1) != 0) rounded -= 1;
  return rounded;
}

// Keys' cubic convolution kernel with a = -0.75, as PyTorch's bicubic modes use.
inline void cubicWeights(double t, double weights[4]) {
  constexpr double a = -0.75;
  auto near = [](double x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };
  auto far = [](double x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };
  weights[0] = far(t + 1);
  weights[1] = near(t);
  weights[2] = near(1 - t);
  weights[3] = far(2 - t);
}

// Float images are interpolated in float (weights from double-precision coordinates), the rest in double.
template <typename Scalar>
using Accumulator = std::conditional_t<std::is_same_v<Scalar, float>, float, double>;

template <Mode mode, typename Scalar, typename Displacement>
void remapRows(const Scalar* in, Scalar* out, const Displacement* field, int64_t channels, int64_t height, int64_t width,
               int64_t firstRow, int64_t endRow) {
  using Acc = Accumulator<Scalar>;
  const int64_t plane = height * width;
  for (int64_t row = firstRow; row < endRow; ++row) {
    const int64_t sample = row / height, y = row % height;
    const Scalar* source = in + sample * channels * plane;
    Scalar* target = out + sample * channels * plane + y * width;
    const Displacement* displacement = field + row * width * 2;
    for (int64_t x = 0; x < width; ++x) {
      const double sy = static_cast<double>(y) + displacement[2 * x];
      const double sx = static_cast<double>(x) + displacement[2 * x + 1];
      if constexpr (mode == Mode::Nearest) {
        const int64_t offset = roundIndex(reflect(sy, height)) * width + roundIndex(reflect(sx, width));
        for (int64_t c = 0; c < channels; ++c) target[c * plane + x] = source[c * plane + offset];
      } else if constexpr (mode == Mode::Bilinear) {
        const double ry = reflect(sy, height), rx = reflect(sx, width);
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
        const int64_t fy = floorIndex(sy), fx = floorIndex(sx);
        double weightsY[4], weightsX[4];
        cubicWeights(sy - static_cast<double>(fy), weightsY);
        cubicWeights(sx - static_cast<double>(fx), weightsX);
        Acc wy[4], wx[4];
        for (int k = 0; k < 4; ++k) {
          wy[k] = static_cast<Acc>(weightsY[k]);
          wx[k] = static_cast<Acc>(weightsX[k]);
        }
        auto line = [&](const Scalar* p, const int64_t* columns) {
          return wx[0] * static_cast<Acc>(p[columns[0]]) + wx[1] * static_cast<Acc>(p[columns[1]]) +
                 wx[2] * static_cast<Acc>(p[columns[2]]) + wx[3] * static_cast<Acc>(p[columns[3]]);
        };
        if (fy >= 1 && fy + 2 < height && fx >= 1 && fx + 2 < width) {
          // The 4 × 4 neighbourhood lies inside: contiguous taps, no mirroring.
          static constexpr int64_t kAdjacent[4] = {0, 1, 2, 3};
          for (int64_t c = 0; c < channels; ++c) {
            const Scalar* corner = source + c * plane + (fy - 1) * width + (fx - 1);
            const Acc value = wy[0] * line(corner, kAdjacent) + wy[1] * line(corner + width, kAdjacent) +
                              wy[2] * line(corner + 2 * width, kAdjacent) + wy[3] * line(corner + 3 * width, kAdjacent);
            target[c * plane + x] = static_cast<Scalar>(value);
          }
          continue;
        }
        int64_t rows[4], columns[4];
        for (int k = 0; k < 4; ++k) {
          rows[k] = reflectIndex(fy - 1 + k, height) * width;
          columns[k] = reflectIndex(fx - 1 + k, width);
        }
        for (int64_t c = 0; c < channels; ++c) {
          const Scalar* p = source + c * plane;
          const Acc value = wy[0] * line(p + rows[0], columns) + wy[1] * line(p + rows[1], columns) +
                            wy[2] * line(p + rows[2], columns) + wy[3] * line(p + rows[3], columns);
          target[c * plane + x] = static_cast<Scalar>(value);
        }
      }
    }
  }
}

// out(n, c, y, x) = input(n, c, y + dy, x + dx), (dy, dx) = field(n, y, x), mirrored at the borders.
at::Tensor remap(T input, T field, const std::string& modeName) {
  const Mode mode = parseMode(modeName);
  TORCH_CHECK_VALUE(input.is_cpu() && field.is_cpu(), "remap runs on CPU tensors");
  TORCH_CHECK_VALUE(input.dim() == 4, "input must be (N, C, H, W), got ", input.sizes());
  const int64_t samples = input.size(0), channels = input.size(1), height = input.size(2), width = input.size(3);
  TORCH_CHECK_VALUE(field.dim() == 4 && field.size(0) == samples && field.size(1) == height && field.size(2) == width &&
                        field.size(3) == 2,
                    "field must be (N, H, W, 2) = [", samples, ", ", height, ", ", width, ", 2], got ", field.sizes());
  TORCH_CHECK_VALUE(mode == Mode::Nearest || at::isFloatingType(input.scalar_type()),
                    "only 'nearest' resamples a ", input.scalar_type(), " input; interpolation needs a floating dtype");
  const at::Tensor source = input.contiguous();
  const at::Tensor displacement =
      (field.scalar_type() == at::kDouble ? field : field.to(at::kFloat)).contiguous();
  at::Tensor out = at::empty_like(source);
  AT_DISPATCH_ALL_TYPES_AND(at::kBool, source.scalar_type(), "remap", [&] {
    const scalar_t* in = source.const_data_ptr<scalar_t>();
    scalar_t* result = out.mutable_data_ptr<scalar_t>();
    auto run = [&](const auto* d) {
      parallelFor(samples * height, 64, [&](int64_t first, int64_t end) {
        if (mode == Mode::Nearest) remapRows<Mode::Nearest>(in, result, d, channels, height, width, first, end);
        else if (mode == Mode::Bilinear) remapRows<Mode::Bilinear>(in, result, d, channels, height, width, first, end);
        else remapRows<Mode::Bicubic>(in, result, d, channels, height, width, first, end);
      });
    };
    if (displacement.scalar_type() == at::kDouble) run(displacement.const_data_ptr<double>());
    else run(displacement.const_data_ptr<float>());
  });
  return out;
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
  define(env, exports, "remap", {"input", "field", "mode"},
         [](T input, T field, std::string mode) { return remap(input, field, mode); });

  // Standard normal float32 samples from a generator of their own, so that a sample's noise
  // depends on its seed alone, not on the global generator, the batch or the device.
  define(env, exports, "seededNormal", {"seed", "size"}, [](int64_t seed, std::vector<int64_t> size) {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed));
    return at::randn(size, generator, at::TensorOptions().dtype(at::kFloat));
  });
}

}  // namespace unet
