#pragma once
// The reference math of a Llama-style layer, one function per op, in plain C++ parallelised with
// oneTBB (instantiated for float, which the CPU backend times, and double, which the gradient
// check uses). All matrices are row-major; a token's row is batch_index * seq + position.
// Every function is deterministic: each output element is computed by one task in a fixed order.
#include <cstdint>

#include "herd/calibrate/layer_dims.hpp"

namespace herd::calibrate::cpu {

/// C[M,N] = op(A)[M,K] op(B)[K,N] (+ C when `accumulate`); op transposes when the flag is set.
/// A is stored M x K (K x M when trans_a), B is K x N (N x K when trans_b), all densely.
template <typename Real>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const Real* a, const Real* b,
          Real* c, bool accumulate = false);

/// y = x / sqrt(mean(x^2) + eps) * g over each row of `cols`; rstd[row] keeps 1/sqrt(...).
template <typename Real>
void rmsnorm_forward(std::int64_t rows, std::int64_t cols, double eps, const Real* x, const Real* g, Real* y, Real* rstd);
/// dx from dy; dg (cols) is accumulated into.
template <typename Real>
void rmsnorm_backward(std::int64_t rows, std::int64_t cols, const Real* x, const Real* g, const Real* rstd,
                      const Real* dy, Real* dx, Real* dg);

/// Rotates, in place, the query and key heads of a fused q|k|v buffer (rows of qkv_width()):
/// pair (i, i + d/2) of each head turns by position * theta^(-2i/d) (rotate-half RoPE).
/// `inverse` turns the other way, which is the backward of the rotation.
template <typename Real>
void rope(const LayerDims& d, Real* qkv, bool inverse);

/// Causal GQA attention over the fused q|k|v rows: o (tokens x q_width) and the log-sum-exp of
/// each query's scaled scores, lse[(batch * heads_q + head) * seq + position].
template <typename Real>
void attention_forward(const LayerDims& d, const Real* qkv, Real* o, Real* lse);
/// dq, dk, dv written into dqkv (same layout as qkv) from dO, recomputing the probabilities.
template <typename Real>
void attention_backward(const LayerDims& d, const Real* qkv, const Real* o, const Real* lse, const Real* d_o,
                        Real* dqkv);

/// s[t, j] = silu(gate[t, j]) * up[t, j] where gu rows are gate (ffn) | up (ffn).
template <typename Real>
void swiglu_forward(std::int64_t rows, std::int64_t ffn, const Real* gu, Real* s);
template <typename Real>
void swiglu_backward(std::int64_t rows, std::int64_t ffn, const Real* gu, const Real* ds, Real* dgu);

/// c = a + b over n elements.
template <typename Real>
void add(std::int64_t n, const Real* a, const Real* b, Real* c);
/// dst = src over n elements (the memory-bandwidth probe).
template <typename Real>
void copy(std::int64_t n, const Real* src, Real* dst);

}  // namespace herd::calibrate::cpu
