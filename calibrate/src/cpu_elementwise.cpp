// Element-wise ops of the layer on the CPU: RMSNorm, RoPE, SwiGLU, residual add, copy.
#include <cmath>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "herd/calibrate/cpu_kernels.hpp"

namespace herd::calibrate::cpu {

namespace {
using Range = tbb::blocked_range<std::int64_t>;
constexpr std::int64_t kColumnBlock = 64;
}  // namespace

template <typename Real>
void rmsnorm_forward(std::int64_t rows, std::int64_t cols, double eps, const Real* x, const Real* g, Real* y, Real* rstd) {
  tbb::parallel_for(Range(0, rows, 8), [&](const Range& r) {
    for (std::int64_t t = r.begin(); t < r.end(); ++t) {
      const Real* xr = x + t * cols;
      Real sum = 0;
      for (std::int64_t j = 0; j < cols; ++j) sum += xr[j] * xr[j];
      const Real inv = Real(1) / std::sqrt(sum / Real(cols) + Real(eps));
      rstd[t] = inv;
      for (std::int64_t j = 0; j < cols; ++j) y[t * cols + j] = xr[j] * inv * g[j];
    }
  });
}

// With xhat = x * rstd and dxhat = dy * g: dx = rstd * (dxhat - xhat * mean(dxhat * xhat)),
// dg = sum over rows of dy * xhat.
template <typename Real>
void rmsnorm_backward(std::int64_t rows, std::int64_t cols, const Real* x, const Real* g, const Real* rstd,
                      const Real* dy, Real* dx, Real* dg) {
  tbb::parallel_for(Range(0, rows, 8), [&](const Range& r) {
    for (std::int64_t t = r.begin(); t < r.end(); ++t) {
      const Real* xr = x + t * cols;
      const Real* dyr = dy + t * cols;
      Real dot = 0;
      for (std::int64_t j = 0; j < cols; ++j) dot += dyr[j] * g[j] * xr[j] * rstd[t];
      const Real mean = dot / Real(cols);
      for (std::int64_t j = 0; j < cols; ++j)
        dx[t * cols + j] = rstd[t] * (dyr[j] * g[j] - xr[j] * rstd[t] * mean);
    }
  });
  // Column blocks walk every row in order, so the sum does not depend on the thread count.
  tbb::parallel_for(Range(0, cols, kColumnBlock), [&](const Range& r) {
    for (std::int64_t t = 0; t < rows; ++t)
      for (std::int64_t j = r.begin(); j < r.end(); ++j) dg[j] += dy[t * cols + j] * x[t * cols + j] * rstd[t];
  });
}

template <typename Real>
void rope(const LayerDims& d, Real* qkv, bool inverse) {
  const std::int64_t half = d.head_dim / 2, width = d.qkv_width();
  std::vector<double> inv_freq(static_cast<std::size_t>(half));
  for (std::int64_t i = 0; i < half; ++i)
    inv_freq[static_cast<std::size_t>(i)] = std::pow(d.rope_theta, -2.0 * double(i) / double(d.head_dim));
  const int rotated_heads = d.heads_q + d.heads_kv;  // q heads then k heads; v is not rotated
  tbb::parallel_for(Range(0, d.tokens(), 4), [&](const Range& r) {
    std::vector<Real> cosines(static_cast<std::size_t>(half)), sines(static_cast<std::size_t>(half));
    for (std::int64_t t = r.begin(); t < r.end(); ++t) {
      const double pos = double(t % d.seq);
      for (std::int64_t i = 0; i < half; ++i) {
        const double angle = pos * inv_freq[static_cast<std::size_t>(i)];
        cosines[static_cast<std::size_t>(i)] = Real(std::cos(angle));
        sines[static_cast<std::size_t>(i)] = Real(inverse ? -std::sin(angle) : std::sin(angle));
      }
      for (int h = 0; h < rotated_heads; ++h) {
        Real* v = qkv + t * width + h * d.head_dim;
        for (std::int64_t i = 0; i < half; ++i) {
          const Real c = cosines[static_cast<std::size_t>(i)], s = sines[static_cast<std::size_t>(i)];
          const Real x1 = v[i], x2 = v[i + half];
          v[i] = x1 * c - x2 * s;
          v[i + half] = x1 * s + x2 * c;
        }
      }
    }
  });
}

template <typename Real>
void swiglu_forward(std::int64_t rows, std::int64_t ffn, const Real* gu, Real* s) {
  tbb::parallel_for(Range(0, rows, 8), [&](const Range& r) {
    for (std::int64_t t = r.begin(); t < r.end(); ++t)
      for (std::int64_t j = 0; j < ffn; ++j) {
        const Real z = gu[t * 2 * ffn + j], up = gu[t * 2 * ffn + ffn + j];
        s[t * ffn + j] = z / (Real(1) + std::exp(-z)) * up;
      }
  });
}

// d silu(z) / dz = sigma(z) * (1 + z * (1 - sigma(z))).
template <typename Real>
void swiglu_backward(std::int64_t rows, std::int64_t ffn, const Real* gu, const Real* ds, Real* dgu) {
  tbb::parallel_for(Range(0, rows, 8), [&](const Range& r) {
    for (std::int64_t t = r.begin(); t < r.end(); ++t)
      for (std::int64_t j = 0; j < ffn; ++j) {
        const Real z = gu[t * 2 * ffn + j], up = gu[t * 2 * ffn + ffn + j], g = ds[t * ffn + j];
        const Real sigma = Real(1) / (Real(1) + std::exp(-z));
        dgu[t * 2 * ffn + j] = g * up * sigma * (Real(1) + z * (Real(1) - sigma));
        dgu[t * 2 * ffn + ffn + j] = g * z * sigma;
      }
  });
}

template <typename Real>
void add(std::int64_t n, const Real* a, const Real* b, Real* c) {
  tbb::parallel_for(Range(0, n, 4096), [&](const Range& r) {
    for (std::int64_t i = r.begin(); i < r.end(); ++i) c[i] = a[i] + b[i];
  });
}

template <typename Real>
void copy(std::int64_t n, const Real* src, Real* dst) {
  tbb::parallel_for(Range(0, n, 4096), [&](const Range& r) {
    for (std::int64_t i = r.begin(); i < r.end(); ++i) dst[i] = src[i];
  });
}

#define HERD_INSTANTIATE(Real)                                                                                          \
  template void rmsnorm_forward<Real>(std::int64_t, std::int64_t, double, const Real*, const Real*, Real*, Real*);     \
  template void rmsnorm_backward<Real>(std::int64_t, std::int64_t, const Real*, const Real*, const Real*, const Real*, \
                                       Real*, Real*);                                                                   \
  template void rope<Real>(const LayerDims&, Real*, bool);                                                             \
  template void swiglu_forward<Real>(std::int64_t, std::int64_t, const Real*, Real*);                                  \
  template void swiglu_backward<Real>(std::int64_t, std::int64_t, const Real*, const Real*, Real*);                    \
  template void add<Real>(std::int64_t, const Real*, const Real*, Real*);                                              \
  template void copy<Real>(std::int64_t, const Real*, Real*);
HERD_INSTANTIATE(float)
HERD_INSTANTIATE(double)
#undef HERD_INSTANTIATE

}  // namespace herd::calibrate::cpu
