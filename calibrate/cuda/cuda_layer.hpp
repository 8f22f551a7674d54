#pragma once
// The layer shard on the GPU, op for op as the CPU reference (herd/calibrate/cpu_layer.hpp) and
// model::layer_program: BF16 activations and weights, FP32 RMSNorm statistics, attention LSE and
// norm-weight gradients.
#include <vector>

#include "cuda_common.hpp"
#include "gemm.hpp"
#include "kernels.hpp"

namespace herd::calibrate::cuda {

/// Weights as the CPU's LayerParams (attn_norm, qkv, out, mlp_norm, fc1, fc2), from host floats.
struct DeviceParams {
  DeviceBuffer<bf16> attn_norm, qkv, out, mlp_norm, fc1, fc2;
};

class CudaLayer {
 public:
  CudaLayer(const LayerDims& d, DeviceParams params, Gemm& gemm);
  void forward(const bf16* x, bf16* y, cudaStream_t s);
  void backward(const bf16* x, const bf16* dy, bf16* dx, cudaStream_t s);

  const LayerDims& dims() const { return d_; }
  /// Gradients of the last backward: the four weight matrices in BF16, the norm weights in FP32.
  DeviceBuffer<bf16> d_qkv, d_out, d_fc1, d_fc2;
  DeviceBuffer<float> d_attn_norm, d_mlp_norm;

 private:
  LayerDims d_;
  DeviceParams w_;
  Gemm& gemm_;
  DeviceBuffer<bf16> n1_, qkv_, o_, x1_, n2_, gu_, s_, a_;
  DeviceBuffer<float> rstd1_, rstd2_, lse_;
  DeviceBuffer<bf16> ds_, dgu_, dn_, dxn_, dx1_, do_, dqkv_;
  AttentionWorkspace attention_;
};

}  // namespace herd::calibrate::cuda
