// Causal grouped-query attention on the CPU. Query head h reads key/value head h / (Hq / Hkv).
// Forward: s_ij = q_i . k_j / sqrt(d) for j <= i, P = softmax_j(s), o_i = sum_j P_ij v_j, and
// lse_i = log sum_j exp(s_ij). Backward (recomputing P from lse): with D_i = dO_i . o_i,
// dS_ij = P_ij (dO_i . v_j - D_i), dq_i = sum_j dS_ij k_j / sqrt(d), dk_j = sum_i dS_ij q_i / sqrt(d),
// dv_j = sum_i P_ij dO_i (sums over i >= j and over the query heads sharing the K/V head).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "herd/calibrate/cpu_kernels.hpp"

namespace herd::calibrate::cpu {

namespace {

using Range = tbb::blocked_range<std::int64_t>;

template <typename Real>
Real dot(const Real* a, const Real* b, std::int64_t n) {
  Real s = 0;
  for (std::int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Addresses inside the fused q|k|v rows.
struct Layout {
  const LayerDims& d;
  std::int64_t width;
  std::int64_t row(std::int64_t b, std::int64_t pos) const { return (b * d.seq + pos) * width; }
  std::int64_t q(std::int64_t b, std::int64_t pos, int h) const { return row(b, pos) + h * d.head_dim; }
  std::int64_t k(std::int64_t b, std::int64_t pos, int g) const { return row(b, pos) + d.q_width() + g * d.head_dim; }
  std::int64_t v(std::int64_t b, std::int64_t pos, int g) const {
    return row(b, pos) + d.q_width() + d.kv_width() + g * d.head_dim;
  }
  std::int64_t o(std::int64_t b, std::int64_t pos, int h) const { return (b * d.seq + pos) * d.q_width() + h * d.head_dim; }
  int group(int h) const { return h / (d.heads_q / d.heads_kv); }
};

}  // namespace

template <typename Real>
void attention_forward(const LayerDims& d, const Real* qkv, Real* o, Real* lse) {
  const Layout at{d, d.qkv_width()};
  const Real scale = Real(1) / std::sqrt(Real(d.head_dim));
  const std::int64_t rows = d.batch * d.heads_q * d.seq;
  tbb::parallel_for(Range(0, rows, 16), [&](const Range& r) {
    std::vector<Real> scores(static_cast<std::size_t>(d.seq));
    std::vector<Real> acc(static_cast<std::size_t>(d.head_dim));
    for (std::int64_t idx = r.begin(); idx < r.end(); ++idx) {
      const std::int64_t pos = idx % d.seq, b = idx / d.seq / d.heads_q;
      const int h = static_cast<int>(idx / d.seq % d.heads_q), g = at.group(h);
      const Real* q = qkv + at.q(b, pos, h);
      Real max = -std::numeric_limits<Real>::infinity();
      for (std::int64_t j = 0; j <= pos; ++j) {
        scores[static_cast<std::size_t>(j)] = scale * dot(q, qkv + at.k(b, j, g), d.head_dim);
        max = std::max(max, scores[static_cast<std::size_t>(j)]);
      }
      std::fill(acc.begin(), acc.end(), Real(0));
      Real sum = 0;
      for (std::int64_t j = 0; j <= pos; ++j) {
        const Real p = std::exp(scores[static_cast<std::size_t>(j)] - max);
        sum += p;
        const Real* v = qkv + at.v(b, j, g);
        for (std::int64_t c = 0; c < d.head_dim; ++c) acc[static_cast<std::size_t>(c)] += p * v[c];
      }
      Real* out = o + at.o(b, pos, h);
      for (std::int64_t c = 0; c < d.head_dim; ++c) out[c] = acc[static_cast<std::size_t>(c)] / sum;
      lse[idx] = max + std::log(sum);
    }
  });
}

template <typename Real>
void attention_backward(const LayerDims& d, const Real* qkv, const Real* o, const Real* lse, const Real* d_o,
                        Real* dqkv) {
  const Layout at{d, d.qkv_width()};
  const Real scale = Real(1) / std::sqrt(Real(d.head_dim));
  const std::int64_t rows = d.batch * d.heads_q * d.seq;
  std::vector<Real> delta(static_cast<std::size_t>(rows));  // D_i = dO_i . o_i
  tbb::parallel_for(Range(0, rows, 64), [&](const Range& r) {
    for (std::int64_t idx = r.begin(); idx < r.end(); ++idx) {
      const std::int64_t pos = idx % d.seq, b = idx / d.seq / d.heads_q;
      const int h = static_cast<int>(idx / d.seq % d.heads_q);
      delta[static_cast<std::size_t>(idx)] = dot(d_o + at.o(b, pos, h), o + at.o(b, pos, h), d.head_dim);
    }
  });
  // dq: one task per query row.
  tbb::parallel_for(Range(0, rows, 16), [&](const Range& r) {
    for (std::int64_t idx = r.begin(); idx < r.end(); ++idx) {
      const std::int64_t pos = idx % d.seq, b = idx / d.seq / d.heads_q;
      const int h = static_cast<int>(idx / d.seq % d.heads_q), g = at.group(h);
      const Real* q = qkv + at.q(b, pos, h);
      const Real* go = d_o + at.o(b, pos, h);
      Real* dq = dqkv + at.q(b, pos, h);
      std::fill(dq, dq + d.head_dim, Real(0));
      for (std::int64_t j = 0; j <= pos; ++j) {
        const Real* k = qkv + at.k(b, j, g);
        const Real p = std::exp(scale * dot(q, k, d.head_dim) - lse[idx]);
        const Real ds = p * (dot(go, qkv + at.v(b, j, g), d.head_dim) - delta[static_cast<std::size_t>(idx)]);
        for (std::int64_t c = 0; c < d.head_dim; ++c) dq[c] += scale * ds * k[c];
      }
    }
  });
  // dk, dv: one task per key row of a K/V head, summing over the query heads of its group.
  const int group = d.heads_q / d.heads_kv;
  tbb::parallel_for(Range(0, d.batch * d.heads_kv * d.seq, 16), [&](const Range& r) {
    for (std::int64_t idx = r.begin(); idx < r.end(); ++idx) {
      const std::int64_t j = idx % d.seq, b = idx / d.seq / d.heads_kv;
      const int g = static_cast<int>(idx / d.seq % d.heads_kv);
      const Real* k = qkv + at.k(b, j, g);
      const Real* v = qkv + at.v(b, j, g);
      Real* dk = dqkv + at.k(b, j, g);
      Real* dv = dqkv + at.v(b, j, g);
      std::fill(dk, dk + d.head_dim, Real(0));
      std::fill(dv, dv + d.head_dim, Real(0));
      for (int h = g * group; h < (g + 1) * group; ++h)
        for (std::int64_t i = j; i < d.seq; ++i) {
          const std::int64_t row = (b * d.heads_q + h) * d.seq + i;
          const Real* q = qkv + at.q(b, i, h);
          const Real* go = d_o + at.o(b, i, h);
          const Real p = std::exp(scale * dot(q, k, d.head_dim) - lse[row]);
          const Real ds = p * (dot(go, v, d.head_dim) - delta[static_cast<std::size_t>(row)]);
          for (std::int64_t c = 0; c < d.head_dim; ++c) {
            dk[c] += scale * ds * q[c];
            dv[c] += p * go[c];
          }
        }
    }
  });
}

template void attention_forward<float>(const LayerDims&, const float*, float*, float*);
template void attention_forward<double>(const LayerDims&, const double*, double*, double*);
template void attention_backward<float>(const LayerDims&, const float*, const float*, const float*, const float*, float*);
template void attention_backward<double>(const LayerDims&, const double*, const double*, const double*, const double*,
                                         double*);

}  // namespace herd::calibrate::cpu
