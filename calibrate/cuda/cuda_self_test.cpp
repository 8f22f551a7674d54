// The GPU layer against the CPU reference in double precision, fed the same BF16-rounded inputs:
// attention alone first (so a kernel fault is named), then the whole layer forward and backward.
#include <cmath>

#include "cuda_layer.hpp"
#include "herd/calibrate/cpu_kernels.hpp"
#include "herd/calibrate/cpu_layer.hpp"
#include "herd/calibrate/cuda_backend.hpp"

namespace herd::calibrate::cuda {

namespace {

constexpr double kOutputTolerance = 3e-2;    // BF16 keeps 8 significant bits; activations are stored in it
constexpr double kGradientTolerance = 5e-2;  // gradients pass through twice as many BF16 roundings

// ||gpu - cpu|| / ||cpu||
double relative_error(const std::vector<float>& gpu, const std::vector<double>& cpu) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < cpu.size() && i < gpu.size(); ++i) {
    diff += (double(gpu[i]) - cpu[i]) * (double(gpu[i]) - cpu[i]);
    norm += cpu[i] * cpu[i];
  }
  return gpu.size() == cpu.size() && norm > 0 ? std::sqrt(diff / norm) : INFINITY;
}

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

std::vector<float> rounded_random(std::size_t count, std::uint64_t seed, float scale = 1.0f) {
  return round_to_bf16(random_floats(count, seed, scale));
}

void check_attention(const LayerDims& d, std::vector<Check>& out, cudaStream_t s) {
  const auto qkv = rounded_random(static_cast<std::size_t>(d.tokens() * d.qkv_width()), 101);
  const auto d_o = rounded_random(static_cast<std::size_t>(d.tokens() * d.q_width()), 102);
  const auto g_qkv = upload_bf16(qkv), g_do = upload_bf16(d_o);
  DeviceBuffer<bf16> g_o(static_cast<std::size_t>(d.tokens() * d.q_width())), g_dqkv(g_qkv.size());
  DeviceBuffer<float> g_lse(static_cast<std::size_t>(d.batch * d.heads_q * d.seq));
  AttentionWorkspace w(d);
  attention_forward(d, g_qkv.get(), g_o.get(), g_lse.get(), s);
  // The backward uses the GPU's own (BF16) output, as in training; the reference gets the same.
  check(cudaStreamSynchronize(s), "attention forward");
  const auto o_gpu = download(g_o);
  attention_backward(d, g_qkv.get(), g_o.get(), g_lse.get(), g_do.get(), g_dqkv.get(), w, s);
  check(cudaStreamSynchronize(s), "attention backward");

  const auto qkv_d = widen(qkv);
  std::vector<double> o(o_gpu.size()), lse(g_lse.size()), dqkv(qkv.size());
  cpu::attention_forward(d, qkv_d.data(), o.data(), lse.data());
  out.push_back({"attention o", relative_error(o_gpu, o), kOutputTolerance});
  out.push_back({"attention lse", relative_error(download(g_lse), lse), kOutputTolerance});
  const auto o_used = widen(o_gpu);
  cpu::attention_backward(d, qkv_d.data(), o_used.data(), lse.data(), widen(d_o).data(), dqkv.data());
  out.push_back({"attention dq|dk|dv", relative_error(download(g_dqkv), dqkv), kGradientTolerance});
}

}  // namespace

std::vector<Check> self_test(int device, const LayerDims& d) {
  check(cudaSetDevice(device), "cudaSetDevice");
  attention_configure();
  Stream stream;
  const cudaStream_t s = stream.get();
  std::vector<Check> out;
  check_attention(d, out, s);

  // The same BF16-rounded parameters and inputs for both.
  cpu::LayerParams<double> params = cpu::random_params<double>(d, 7);
  std::vector<std::vector<float>> rounded;
  for (auto* t : params.tensors()) {
    rounded.push_back(round_to_bf16(std::vector<float>(t->begin(), t->end())));
    t->assign(rounded.back().begin(), rounded.back().end());
  }
  const auto n = static_cast<std::size_t>(d.tokens() * d.hidden);
  const auto x = rounded_random(n, 8), dy = rounded_random(n, 9);

  Gemm gemm;
  CudaLayer layer(d, DeviceParams{upload_bf16(rounded[0]), upload_bf16(rounded[1]), upload_bf16(rounded[2]), upload_bf16(rounded[3]),
                                  upload_bf16(rounded[4]), upload_bf16(rounded[5])},
                  gemm);
  const auto g_x = upload_bf16(x), g_dy = upload_bf16(dy);
  DeviceBuffer<bf16> g_y(n), g_dx(n);
  layer.forward(g_x.get(), g_y.get(), s);
  layer.backward(g_x.get(), g_dy.get(), g_dx.get(), s);
  check(cudaStreamSynchronize(s), "layer");

  cpu::Layer<double> ref(d, params);
  std::vector<double> y(n), dx(n);
  const auto x_d = widen(x), dy_d = widen(dy);
  ref.forward(x_d.data(), y.data());
  ref.backward(x_d.data(), dy_d.data(), dx.data());
  const auto& g = ref.gradients();
  out.push_back({"layer y", relative_error(download(g_y), y), kOutputTolerance});
  out.push_back({"layer dx", relative_error(download(g_dx), dx), kGradientTolerance});
  out.push_back({"layer d attn_norm", relative_error(download(layer.d_attn_norm), g.attn_norm), kGradientTolerance});
  out.push_back({"layer d qkv", relative_error(download(layer.d_qkv), g.qkv), kGradientTolerance});
  out.push_back({"layer d out", relative_error(download(layer.d_out), g.out), kGradientTolerance});
  out.push_back({"layer d mlp_norm", relative_error(download(layer.d_mlp_norm), g.mlp_norm), kGradientTolerance});
  out.push_back({"layer d fc1", relative_error(download(layer.d_fc1), g.fc1), kGradientTolerance});
  out.push_back({"layer d fc2", relative_error(download(layer.d_fc2), g.fc2), kGradientTolerance});
  return out;
}

}  // namespace herd::calibrate::cuda
