#include "cuda_layer.hpp"

namespace herd::calibrate::cuda {

namespace {
std::size_t n(std::int64_t v) { return static_cast<std::size_t>(v); }
}  // namespace

CudaLayer::CudaLayer(const LayerDims& d, DeviceParams params, Gemm& gemm)
    : d_qkv(n(d.hidden * d.qkv_width())), d_out(n(d.q_width() * d.hidden)), d_fc1(n(d.hidden * 2 * d.ffn)),
      d_fc2(n(d.ffn * d.hidden)), d_attn_norm(n(d.hidden)), d_mlp_norm(n(d.hidden)), d_(d), w_(std::move(params)),
      gemm_(gemm), n1_(n(d.tokens() * d.hidden)), qkv_(n(d.tokens() * d.qkv_width())), o_(n(d.tokens() * d.q_width())),
      x1_(n(d.tokens() * d.hidden)), n2_(n(d.tokens() * d.hidden)), gu_(n(d.tokens() * 2 * d.ffn)), s_(n(d.tokens() * d.ffn)),
      a_(n(d.tokens() * d.hidden)), rstd1_(n(d.tokens())), rstd2_(n(d.tokens())), lse_(n(d.batch * d.heads_q * d.seq)),
      ds_(n(d.tokens() * d.ffn)), dgu_(n(d.tokens() * 2 * d.ffn)), dn_(n(d.tokens() * d.hidden)), dxn_(n(d.tokens() * d.hidden)),
      dx1_(n(d.tokens() * d.hidden)), do_(n(d.tokens() * d.q_width())), dqkv_(n(d.tokens() * d.qkv_width())), attention_(d) {
  validate(d_, "/layer");
  if (!attention_supports(d.head_dim))
    throw std::runtime_error("the CUDA attention kernels need head_dim 64 or 128, not " + std::to_string(d.head_dim));
}

void CudaLayer::forward(const bf16* x, bf16* y, cudaStream_t s) {
  const LayerDims& d = d_;
  const std::int64_t T = d.tokens(), h = d.hidden, f = d.ffn;
  const float eps = static_cast<float>(d.norm_eps);
  rmsnorm_forward(T, h, eps, x, w_.attn_norm.get(), n1_.get(), rstd1_.get(), s);        // attn_norm
  gemm_.run(false, false, T, d.qkv_width(), h, n1_.get(), w_.qkv.get(), qkv_.get(), s);  // qkv_proj
  rope(d, qkv_.get(), false, s);                                                         // rope
  attention_forward(d, qkv_.get(), o_.get(), lse_.get(), s);                             // attention
  gemm_.run(false, false, T, h, d.q_width(), o_.get(), w_.out.get(), a_.get(), s);       // out_proj
  add(T * h, x, a_.get(), x1_.get(), s);                                                 // residual_add
  rmsnorm_forward(T, h, eps, x1_.get(), w_.mlp_norm.get(), n2_.get(), rstd2_.get(), s);  // mlp_norm
  gemm_.run(false, false, T, 2 * f, h, n2_.get(), w_.fc1.get(), gu_.get(), s);           // fc1
  swiglu_forward(T, f, gu_.get(), s_.get(), s);                                          // swiglu
  gemm_.run(false, false, T, h, f, s_.get(), w_.fc2.get(), a_.get(), s);                 // fc2
  add(T * h, x1_.get(), a_.get(), y, s);                                                 // residual_add
}

void CudaLayer::backward(const bf16* x, const bf16* dy, bf16* dx, cudaStream_t s) {
  const LayerDims& d = d_;
  const std::int64_t T = d.tokens(), h = d.hidden, f = d.ffn, W = d.qkv_width(), q = d.q_width();
  d_attn_norm.zero(s);
  d_mlp_norm.zero(s);
  gemm_.run(false, true, T, f, h, dy, w_.fc2.get(), ds_.get(), s);                 // fc2_dgrad
  gemm_.run(true, false, f, h, T, s_.get(), dy, d_fc2.get(), s);                   // fc2_wgrad
  swiglu_backward(T, f, gu_.get(), ds_.get(), dgu_.get(), s);                      // swiglu_bwd
  gemm_.run(false, true, T, h, 2 * f, dgu_.get(), w_.fc1.get(), dn_.get(), s);     // fc1_dgrad
  gemm_.run(true, false, h, 2 * f, T, n2_.get(), dgu_.get(), d_fc1.get(), s);      // fc1_wgrad
  rmsnorm_backward(T, h, x1_.get(), w_.mlp_norm.get(), rstd2_.get(), dn_.get(), dxn_.get(), d_mlp_norm.get(), s);  // mlp_norm_bwd
  add(T * h, dy, dxn_.get(), dx1_.get(), s);                                       // residual_add_bwd
  gemm_.run(false, true, T, q, h, dx1_.get(), w_.out.get(), do_.get(), s);         // out_proj_dgrad
  gemm_.run(true, false, q, h, T, o_.get(), dx1_.get(), d_out.get(), s);           // out_proj_wgrad
  attention_backward(d, qkv_.get(), o_.get(), lse_.get(), do_.get(), dqkv_.get(), attention_, s);  // attention
  rope(d, dqkv_.get(), true, s);                                                   // rope_bwd
  gemm_.run(false, true, T, h, W, dqkv_.get(), w_.qkv.get(), dn_.get(), s);        // qkv_proj_dgrad
  gemm_.run(true, false, h, W, T, n1_.get(), dqkv_.get(), d_qkv.get(), s);         // qkv_proj_wgrad
  rmsnorm_backward(T, h, x, w_.attn_norm.get(), rstd1_.get(), dn_.get(), dxn_.get(), d_attn_norm.get(), s);  // attn_norm_bwd
  add(T * h, dx1_.get(), dxn_.get(), dx, s);                                       // residual_add_bwd
}

}  // namespace herd::calibrate::cuda
