#include "herd/calibrate/cpu_layer.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "herd/calibrate/cpu_kernels.hpp"

namespace herd::calibrate::cpu {

namespace {
std::size_t sz(std::int64_t n) { return static_cast<std::size_t>(n); }
}  // namespace

template <typename Real>
LayerParams<Real> LayerParams<Real>::zeros(const LayerDims& d) {
  LayerParams p;
  p.attn_norm.assign(sz(d.hidden), 0);
  p.qkv.assign(sz(d.hidden * d.qkv_width()), 0);
  p.out.assign(sz(d.q_width() * d.hidden), 0);
  p.mlp_norm.assign(sz(d.hidden), 0);
  p.fc1.assign(sz(d.hidden * 2 * d.ffn), 0);
  p.fc2.assign(sz(d.ffn * d.hidden), 0);
  return p;
}

template <typename Real>
std::vector<std::vector<Real>*> LayerParams<Real>::tensors() {
  return {&attn_norm, &qkv, &out, &mlp_norm, &fc1, &fc2};
}

template <typename Real>
std::vector<Real> random_values(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<Real> v(n);
  for (auto& x : v) x = Real(normal(rng));
  return v;
}

template <typename Real>
LayerParams<Real> random_params(const LayerDims& d, std::uint64_t seed) {
  LayerParams<Real> p = LayerParams<Real>::zeros(d);
  const std::int64_t fan_in[] = {1, d.hidden, d.q_width(), 1, d.hidden, d.ffn};
  auto tensors = p.tensors();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    std::vector<Real>& t = *tensors[i];
    t = random_values<Real>(t.size(), seed + 7919 * (i + 1));
    const bool gain = fan_in[i] == 1;  // the two norm weights
    const Real scale = gain ? Real(0.1) : Real(1 / std::sqrt(double(fan_in[i])));
    for (auto& x : t) x = gain ? Real(1) + scale * x : scale * x;
  }
  return p;
}

template <typename Real>
Layer<Real>::Layer(const LayerDims& d, LayerParams<Real> params)
    : d_(d), w_(std::move(params)), g_(LayerParams<Real>::zeros(d)) {
  validate(d_, "/layer");
  const std::int64_t T = d.tokens(), h = d.hidden;
  for (auto* v : {&n1_, &x1_, &n2_, &a_, &dn_, &dxn_, &dx1_}) v->assign(sz(T * h), 0);
  for (auto* v : {&rstd1_, &rstd2_}) v->assign(sz(T), 0);
  for (auto* v : {&qkv_, &dqkv_}) v->assign(sz(T * d.qkv_width()), 0);
  for (auto* v : {&o_, &do_}) v->assign(sz(T * d.q_width()), 0);
  lse_.assign(sz(d.batch * d.heads_q * d.seq), 0);
  for (auto* v : {&gu_, &dgu_}) v->assign(sz(T * 2 * d.ffn), 0);
  for (auto* v : {&s_, &ds_}) v->assign(sz(T * d.ffn), 0);
}

template <typename Real>
void Layer<Real>::forward(const Real* x, Real* y) {
  const LayerDims& d = d_;
  const std::int64_t T = d.tokens(), h = d.hidden, f = d.ffn;
  rmsnorm_forward(T, h, d.norm_eps, x, w_.attn_norm.data(), n1_.data(), rstd1_.data());  // attn_norm
  gemm(false, false, T, d.qkv_width(), h, n1_.data(), w_.qkv.data(), qkv_.data());         // qkv_proj
  rope(d, qkv_.data(), false);                                                            // rope
  attention_forward(d, qkv_.data(), o_.data(), lse_.data());                              // attention
  gemm(false, false, T, h, d.q_width(), o_.data(), w_.out.data(), a_.data());              // out_proj
  add(T * h, x, a_.data(), x1_.data());                                                   // residual_add
  rmsnorm_forward(T, h, d.norm_eps, x1_.data(), w_.mlp_norm.data(), n2_.data(), rstd2_.data());  // mlp_norm
  gemm(false, false, T, 2 * f, h, n2_.data(), w_.fc1.data(), gu_.data());                 // fc1
  swiglu_forward(T, f, gu_.data(), s_.data());                                            // swiglu
  gemm(false, false, T, h, f, s_.data(), w_.fc2.data(), a_.data());                        // fc2
  add(T * h, x1_.data(), a_.data(), y);                                                   // residual_add
}

template <typename Real>
void Layer<Real>::backward(const Real* x, const Real* dy, Real* dx) {
  const LayerDims& d = d_;
  const std::int64_t T = d.tokens(), h = d.hidden, f = d.ffn, W = d.qkv_width(), q = d.q_width();
  std::fill(g_.attn_norm.begin(), g_.attn_norm.end(), Real(0));
  std::fill(g_.mlp_norm.begin(), g_.mlp_norm.end(), Real(0));
  gemm(false, true, T, f, h, dy, w_.fc2.data(), ds_.data());                  // fc2_dgrad: ds = dy W2^T
  gemm(true, false, f, h, T, s_.data(), dy, g_.fc2.data());                   // fc2_wgrad: dW2 = s^T dy
  swiglu_backward(T, f, gu_.data(), ds_.data(), dgu_.data());                 // swiglu_bwd
  gemm(false, true, T, h, 2 * f, dgu_.data(), w_.fc1.data(), dn_.data());     // fc1_dgrad
  gemm(true, false, h, 2 * f, T, n2_.data(), dgu_.data(), g_.fc1.data());     // fc1_wgrad
  rmsnorm_backward(T, h, x1_.data(), w_.mlp_norm.data(), rstd2_.data(), dn_.data(), dxn_.data(),
                   g_.mlp_norm.data());                                       // mlp_norm_bwd
  add(T * h, dy, dxn_.data(), dx1_.data());                                   // residual_add_bwd
  gemm(false, true, T, q, h, dx1_.data(), w_.out.data(), do_.data());         // out_proj_dgrad
  gemm(true, false, q, h, T, o_.data(), dx1_.data(), g_.out.data());          // out_proj_wgrad
  attention_backward(d, qkv_.data(), o_.data(), lse_.data(), do_.data(), dqkv_.data());  // attention
  rope(d, dqkv_.data(), true);                                                // rope_bwd
  gemm(false, true, T, h, W, dqkv_.data(), w_.qkv.data(), dn_.data());        // qkv_proj_dgrad
  gemm(true, false, h, W, T, n1_.data(), dqkv_.data(), g_.qkv.data());        // qkv_proj_wgrad
  rmsnorm_backward(T, h, x, w_.attn_norm.data(), rstd1_.data(), dn_.data(), dxn_.data(),
                   g_.attn_norm.data());                                      // attn_norm_bwd
  add(T * h, dx1_.data(), dxn_.data(), dx);                                   // residual_add_bwd
}

template struct LayerParams<float>;
template struct LayerParams<double>;
template class Layer<float>;
template class Layer<double>;
template LayerParams<float> random_params<float>(const LayerDims&, std::uint64_t);
template LayerParams<double> random_params<double>(const LayerDims&, std::uint64_t);
template std::vector<float> random_values<float>(std::size_t, std::uint64_t);
template std::vector<double> random_values<double>(std::size_t, std::uint64_t);

}  // namespace herd::calibrate::cpu
