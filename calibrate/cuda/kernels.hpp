#pragma once
// Launchers of the CUDA backend's own kernels (elementwise.cu, attention.cu). BF16 tensors,
// FP32 arithmetic; the math of each is that of the CPU reference (herd/calibrate/cpu_kernels.hpp).
#include <cstdint>

#include "cuda_common.hpp"
#include "herd/calibrate/layer_dims.hpp"

namespace herd::calibrate::cuda {

void rmsnorm_forward(std::int64_t rows, std::int64_t cols, float eps, const bf16* x, const bf16* g, bf16* y, float* rstd,
                     cudaStream_t s);
/// dx from dy; dg (FP32, cols) is accumulated into.
void rmsnorm_backward(std::int64_t rows, std::int64_t cols, const bf16* x, const bf16* g, const float* rstd, const bf16* dy,
                      bf16* dx, float* dg, cudaStream_t s);
/// In place on the q and k heads of fused q|k|v rows; `inverse` for the backward.
void rope(const LayerDims& d, bf16* qkv, bool inverse, cudaStream_t s);
void swiglu_forward(std::int64_t rows, std::int64_t ffn, const bf16* gu, bf16* out, cudaStream_t s);
void swiglu_backward(std::int64_t rows, std::int64_t ffn, const bf16* gu, const bf16* ds, bf16* dgu, cudaStream_t s);
void add(std::int64_t n, const bf16* a, const bf16* b, bf16* c, cudaStream_t s);
/// n values uniform in [-scale, scale), a deterministic function of seed and index.
void fill_random(std::int64_t n, std::uint64_t seed, float scale, bf16* out, cudaStream_t s);

/// Scratch the attention backward needs (FP32): dQ accumulated by atomics, per-query-head
/// dK and dV (summed over each GQA group afterwards), and D = rowsum(dO * O).
struct AttentionWorkspace {
  explicit AttentionWorkspace(const LayerDims& d);
  DeviceBuffer<float> dq, dk_heads, dv_heads, delta;
};

/// Raises the kernels' dynamic shared memory limits; call once per device before launching.
void attention_configure();
/// Head sizes the attention kernels are built for.
bool attention_supports(std::int64_t head_dim);
/// Causal GQA flash attention: o (tokens x q_width) and lse (batch x heads_q x seq, natural log).
void attention_forward(const LayerDims& d, const bf16* qkv, bf16* o, float* lse, cudaStream_t s);
/// dq, dk, dv into dqkv (same layout as qkv).
void attention_backward(const LayerDims& d, const bf16* qkv, const bf16* o, const float* lse, const bf16* d_o, bf16* dqkv,
                        AttentionWorkspace& w, cudaStream_t s);

}  // namespace herd::calibrate::cuda
