#pragma once
// One Llama-style layer shard, forward and backward, on the CPU: the reference the CUDA backend
// is checked against and the layer the CPU backend times end to end. The op sequence is exactly
// model::layer_program's for the single-rank shard (docs/calibration.md lists it):
//   forward:  attn_norm, qkv_proj, rope, attention, out_proj, residual_add,
//             mlp_norm, fc1, swiglu, fc2, residual_add
//   backward: fc2 dgrad/wgrad, swiglu_bwd, fc1 dgrad/wgrad, mlp_norm_bwd, residual_add_bwd,
//             out_proj dgrad/wgrad, attention backward, rope_bwd, qkv_proj dgrad/wgrad,
//             attn_norm_bwd, residual_add_bwd
#include <cstdint>
#include <vector>

#include "herd/calibrate/layer_dims.hpp"

namespace herd::calibrate::cpu {

/// Parameters of one layer shard (or their gradients), row-major:
/// attn_norm, mlp_norm: hidden; qkv: hidden x qkv_width; out: q_width x hidden;
/// fc1: hidden x 2 ffn (gate | up); fc2: ffn x hidden.
template <typename Real>
struct LayerParams {
  std::vector<Real> attn_norm, qkv, out, mlp_norm, fc1, fc2;
  /// Zero-filled parameters of the right sizes.
  static LayerParams zeros(const LayerDims& d);
  /// Each tensor in a fixed order, for checks that walk all of them.
  std::vector<std::vector<Real>*> tensors();
};

/// Fills weights with N(0, 1/fan_in) and norm gains with 1 + N(0, 0.1^2), from `seed`.
template <typename Real>
LayerParams<Real> random_params(const LayerDims& d, std::uint64_t seed);
/// `n` values drawn from N(0, 1) with `seed`.
template <typename Real>
std::vector<Real> random_values(std::size_t n, std::uint64_t seed);

template <typename Real>
class Layer {
 public:
  Layer(const LayerDims& d, LayerParams<Real> params);

  /// y = layer(x); x and y are tokens x hidden. Keeps what backward needs.
  void forward(const Real* x, Real* y);
  /// dx from dy for the last forward's x; the parameter gradients go to gradients().
  void backward(const Real* x, const Real* dy, Real* dx);

  const LayerDims& dims() const { return d_; }
  LayerParams<Real>& params() { return w_; }
  const LayerParams<Real>& gradients() const { return g_; }
  /// Activations kept from forward, for comparisons: the attention output and the rotated q|k|v.
  const std::vector<Real>& attention_output() const { return o_; }
  const std::vector<Real>& rotated_qkv() const { return qkv_; }

 private:
  LayerDims d_;
  LayerParams<Real> w_, g_;
  // Kept from forward.
  std::vector<Real> n1_, rstd1_, qkv_, o_, lse_, x1_, n2_, rstd2_, gu_, s_;
  // Scratch.
  std::vector<Real> a_, ds_, dgu_, dn_, dxn_, dx1_, do_, dqkv_;
};

}  // namespace herd::calibrate::cpu
