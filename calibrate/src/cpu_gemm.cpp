// The CPU backend's matrix product: a cache-blocked kernel, four output rows at a time so the
// inner loop over columns vectorises, parallel over output tiles. Transposed operands are first
// copied into row-major order (O(MK) or O(KN) next to the O(MNK) product).
#include <algorithm>
#include <vector>

#include <tbb/blocked_range2d.h>
#include <tbb/parallel_for.h>

#include "herd/calibrate/cpu_kernels.hpp"

namespace herd::calibrate::cpu {

namespace {

constexpr std::int64_t kRowBlock = 32;    // rows of C per task
constexpr std::int64_t kColBlock = 256;   // columns of C per task (1 KiB of floats per row)
constexpr std::int64_t kDepthBlock = 256; // rows of B kept hot in cache

template <typename Real>
std::vector<Real> transposed(std::int64_t rows, std::int64_t cols, const Real* src) {
  std::vector<Real> out(static_cast<std::size_t>(rows * cols));
  tbb::parallel_for(tbb::blocked_range2d<std::int64_t>(0, rows, 64, 0, cols, 64), [&](const auto& r) {
    for (std::int64_t i = r.rows().begin(); i < r.rows().end(); ++i)
      for (std::int64_t j = r.cols().begin(); j < r.cols().end(); ++j) out[static_cast<std::size_t>(j * rows + i)] = src[i * cols + j];
  });
  return out;
}

// C[i0:i1, j0:j0+width] += A[i0:i1, p0:p1] B[p0:p1, j0:j0+width]
template <typename Real>
void tile(std::int64_t i0, std::int64_t i1, std::int64_t j0, std::int64_t width, std::int64_t p0, std::int64_t p1,
          std::int64_t n, std::int64_t k, const Real* a, const Real* b, Real* c) {
  std::int64_t i = i0;
  for (; i + 4 <= i1; i += 4) {
    Real* __restrict c0 = c + i * n + j0;
    Real* __restrict c1 = c0 + n;
    Real* __restrict c2 = c1 + n;
    Real* __restrict c3 = c2 + n;
    for (std::int64_t p = p0; p < p1; ++p) {
      const Real a0 = a[i * k + p], a1 = a[(i + 1) * k + p], a2 = a[(i + 2) * k + p], a3 = a[(i + 3) * k + p];
      const Real* __restrict bp = b + p * n + j0;
      for (std::int64_t j = 0; j < width; ++j) {
        const Real bv = bp[j];
        c0[j] += a0 * bv;
        c1[j] += a1 * bv;
        c2[j] += a2 * bv;
        c3[j] += a3 * bv;
      }
    }
  }
  for (; i < i1; ++i) {
    Real* __restrict c0 = c + i * n + j0;
    for (std::int64_t p = p0; p < p1; ++p) {
      const Real a0 = a[i * k + p];
      const Real* __restrict bp = b + p * n + j0;
      for (std::int64_t j = 0; j < width; ++j) c0[j] += a0 * bp[j];
    }
  }
}

}  // namespace

template <typename Real>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const Real* a, const Real* b,
          Real* c, bool accumulate) {
  std::vector<Real> a_rows, b_rows;
  if (trans_a) a = (a_rows = transposed(k, m, a)).data();
  if (trans_b) b = (b_rows = transposed(n, k, b)).data();
  tbb::parallel_for(tbb::blocked_range2d<std::int64_t>(0, m, kRowBlock, 0, n, kColBlock), [&](const auto& r) {
    const std::int64_t i0 = r.rows().begin(), i1 = r.rows().end(), j0 = r.cols().begin();
    const std::int64_t width = r.cols().end() - j0;
    if (!accumulate)
      for (std::int64_t i = i0; i < i1; ++i) std::fill(c + i * n + j0, c + i * n + j0 + width, Real(0));
    for (std::int64_t p0 = 0; p0 < k; p0 += kDepthBlock) tile(i0, i1, j0, width, p0, std::min(k, p0 + kDepthBlock), n, k, a, b, c);
  });
}

template void gemm<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, const float*, const float*, float*, bool);
template void gemm<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, const double*, const double*, double*,
                           bool);

}  // namespace herd::calibrate::cpu
