// The CUDA measurement backend: each record's op alone on freshly filled device buffers, timed
// with a pair of CUDA events per repetition on one stream (so the time is the GPU's, not the
// host's; every op is planned before the first event, so a timed call only launches).
#include <algorithm>
#include <functional>

#include "cuda_layer.hpp"
#include "device_info.hpp"
#include "herd/calibrate/cuda_backend.hpp"
#include "herd/calibrate/sweep.hpp"
#include "herd/model/error.hpp"

namespace herd::calibrate::cuda {

namespace {

std::size_t n(std::int64_t v) { return static_cast<std::size_t>(v); }

class Events {
 public:
  explicit Events(int count) : events_(n(2 * count)) {
    for (auto& e : events_) check(cudaEventCreate(&e), "cudaEventCreate");
  }
  Events(const Events&) = delete;
  Events& operator=(const Events&) = delete;
  ~Events() {
    for (auto e : events_) cudaEventDestroy(e);
  }
  cudaEvent_t start(int i) const { return events_[n(2 * i)]; }
  cudaEvent_t stop(int i) const { return events_[n(2 * i + 1)]; }

 private:
  std::vector<cudaEvent_t> events_;
};

// Batches of `repetitions` event-timed runs, until they add up to `min_total_s` (one batch when 0).
std::vector<double> time_on_device(const TimingPolicy& policy, cudaStream_t s, const std::function<void()>& run) {
  for (int i = 0; i < policy.warmup; ++i) run();
  check(cudaStreamSynchronize(s), "warm-up");
  const int batch = std::max(1, policy.repetitions);
  Events events(batch);
  std::vector<double> times;
  double total = 0;
  do {
    for (int i = 0; i < batch; ++i) {
      check(cudaEventRecord(events.start(i), s), "cudaEventRecord");
      run();
      check(cudaEventRecord(events.stop(i), s), "cudaEventRecord");
    }
    check(cudaStreamSynchronize(s), "timed runs");
    for (int i = 0; i < batch; ++i) {
      float ms = 0;
      check(cudaEventElapsedTime(&ms, events.start(i), events.stop(i)), "cudaEventElapsedTime");
      times.push_back(ms * 1e-3);
      total += times.back();
    }
  } while (total < policy.min_total_s);
  return times;
}

DeviceParams random_params(const LayerDims& d, std::uint64_t seed, cudaStream_t s) {
  DeviceParams p{DeviceBuffer<bf16>(n(d.hidden)), DeviceBuffer<bf16>(n(d.hidden * d.qkv_width())),
                 DeviceBuffer<bf16>(n(d.q_width() * d.hidden)), DeviceBuffer<bf16>(n(d.hidden)),
                 DeviceBuffer<bf16>(n(d.hidden * 2 * d.ffn)), DeviceBuffer<bf16>(n(d.ffn * d.hidden))};
  // Scales of N(0, 1/fan_in) weights, uniform so variance matches: a = sqrt(3 / fan_in).
  auto fill = [&](DeviceBuffer<bf16>& b, double fan_in, std::uint64_t k) {
    fill_random(static_cast<std::int64_t>(b.size()), seed + k, static_cast<float>(std::sqrt(3.0 / fan_in)), b.get(), s);
  };
  fill(p.attn_norm, 3, 1);  // gains around 0 rather than 1: timing does not care
  fill(p.qkv, double(d.hidden), 2);
  fill(p.out, double(d.q_width()), 3);
  fill(p.mlp_norm, 3, 4);
  fill(p.fc1, double(d.hidden), 5);
  fill(p.fc2, double(d.ffn), 6);
  return p;
}

DeviceBuffer<bf16> random_buffer(std::int64_t count, std::uint64_t seed, cudaStream_t s) {
  DeviceBuffer<bf16> b(n(count));
  fill_random(count, seed, 1.0f, b.get(), s);
  return b;
}

class CudaBackend : public MeasurementBackend {
 public:
  explicit CudaBackend(const CudaOptions& o) : options_(o) {
    check(cudaSetDevice(o.device), "cudaSetDevice");
    attention_configure();
    gemm_ = std::make_unique<Gemm>();
    stream_ = std::make_unique<Stream>();
  }

  DeviceInfo device() override { return describe_device(options_.device); }

  void measure(Record& r, const TimingPolicy& policy) override {
    check(cudaSetDevice(options_.device), "cudaSetDevice");
    const cudaStream_t s = stream_->get();
    switch (r.kind) {
      case RecordKind::gemm: measure_gemm(r, policy, s); break;
      case RecordKind::attention: measure_attention(r, policy, s); break;
      case RecordKind::elementwise: measure_elementwise(r, policy, s); break;
      case RecordKind::layer: measure_layer(r, policy, s); break;
      case RecordKind::collective: throw model::ValueError("/kind", "collectives are measured by the NCCL sweep");
    }
  }

 private:
  void measure_gemm(Record& r, const TimingPolicy& policy, cudaStream_t s) {
    if (r.gemm.batch > 1) throw model::ValueError("/shape/batch", "the CUDA backend measures single (unbatched) GEMMs");
    const std::int64_t m = r.gemm.m, nn = r.gemm.n, k = r.gemm.k;
    const std::string_view layout = gemm_layout(r.op);
    auto a = random_buffer(m * k, 1, s), b = random_buffer(k * nn, 2, s);
    DeviceBuffer<bf16> c(n(m * nn));
    const bool ta = layout == "tn", tb = layout == "nt";
    gemm_->run(ta, tb, m, nn, k, a.get(), b.get(), c.get(), s);  // plans the shape outside the timing
    r.impl = "cublasLt";
    r.set_times(time_on_device(policy, s, [&] { gemm_->run(ta, tb, m, nn, k, a.get(), b.get(), c.get(), s); }));
  }

  void measure_attention(Record& r, const TimingPolicy& policy, cudaStream_t s) {
    const LayerDims d = attention_layer(r.attention);
    auto qkv = random_buffer(d.tokens() * d.qkv_width(), 3, s);
    DeviceBuffer<bf16> o(n(d.tokens() * d.q_width()));
    DeviceBuffer<float> lse(n(d.batch * d.heads_q * d.seq));
    r.impl = "herd-flash-wmma";
    if (r.pass == "backward") {
      attention_forward(d, qkv.get(), o.get(), lse.get(), s);
      auto d_o = random_buffer(d.tokens() * d.q_width(), 4, s);
      DeviceBuffer<bf16> dqkv(qkv.size());
      AttentionWorkspace w(d);
      r.set_times(time_on_device(policy, s, [&] { attention_backward(d, qkv.get(), o.get(), lse.get(), d_o.get(), dqkv.get(), w, s); }));
    } else {
      r.set_times(time_on_device(policy, s, [&] { attention_forward(d, qkv.get(), o.get(), lse.get(), s); }));
    }
  }

  void measure_elementwise(Record& r, const TimingPolicy& policy, cudaStream_t s) {
    const std::int64_t rows = r.rows, cols = r.cols, count = rows * cols;
    const std::string& c = r.op;
    const bool swiglu = c == "swiglu" || c == "swiglu_bwd";
    auto x = random_buffer(swiglu ? 2 * count : count, 5, s);
    auto g = random_buffer(std::max(cols, count), 6, s);
    DeviceBuffer<bf16> y(x.size());
    DeviceBuffer<float> rstd(n(rows)), dg(n(cols));
    std::function<void()> run;
    r.impl = "herd-cuda";
    if (c == "rmsnorm") {
      run = [&] { rmsnorm_forward(rows, cols, 1e-5f, x.get(), g.get(), y.get(), rstd.get(), s); };
    } else if (c == "rmsnorm_bwd") {
      rmsnorm_forward(rows, cols, 1e-5f, x.get(), g.get(), y.get(), rstd.get(), s);
      run = [&] { rmsnorm_backward(rows, cols, x.get(), g.get(), rstd.get(), g.get(), y.get(), dg.get(), s); };
    } else if (c == "rope" || c == "rope_bwd") {
      const LayerDims& d = r.layer;
      if (d.seq < 1 || rows != d.tokens() || cols != d.q_width() + d.kv_width())
        throw model::ValueError("/layer", "rope needs the layer it belongs to (tokens x (q + kv) columns)");
      x = random_buffer(d.tokens() * d.qkv_width(), 7, s);
      run = [&] { rope(d, x.get(), c == "rope_bwd", s); };
    } else if (c == "swiglu") {
      run = [&] { swiglu_forward(rows, cols, x.get(), y.get(), s); };
    } else if (c == "swiglu_bwd") {
      run = [&] { swiglu_backward(rows, cols, x.get(), g.get(), y.get(), s); };
    } else if (c == "residual_add" || c == "residual_add_bwd") {
      run = [&] { add(count, x.get(), g.get(), y.get(), s); };
    } else if (c == "copy") {
      r.impl = "cudaMemcpyAsync";
      run = [&] { check(cudaMemcpyAsync(y.get(), x.get(), n(count) * sizeof(bf16), cudaMemcpyDeviceToDevice, s), "copy"); };
    } else {
      throw model::ValueError("/op", "the CUDA backend has no element-wise kernel \"" + c + "\"");
    }
    r.set_times(time_on_device(policy, s, run));
  }

  void measure_layer(Record& r, const TimingPolicy& policy, cudaStream_t s) {
    const LayerDims& d = r.layer;
    CudaLayer layer(d, random_params(d, 11, s), *gemm_);
    auto x = random_buffer(d.tokens() * d.hidden, 12, s), dy = random_buffer(d.tokens() * d.hidden, 13, s);
    DeviceBuffer<bf16> y(x.size()), dx(x.size());
    layer.forward(x.get(), y.get(), s);  // plans every GEMM shape outside the timing
    layer.backward(x.get(), dy.get(), dx.get(), s);
    r.pass = "forward_backward";
    r.impl = "cublasLt + herd-flash-wmma + herd-cuda";
    r.set_times(time_on_device(policy, s, [&] {
      layer.forward(x.get(), y.get(), s);
      layer.backward(x.get(), dy.get(), dx.get(), s);
    }));
  }

  CudaOptions options_;
  std::unique_ptr<Gemm> gemm_;
  std::unique_ptr<Stream> stream_;
};

}  // namespace

int device_count() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}

std::unique_ptr<MeasurementBackend> make_backend(const CudaOptions& options) {
  const int count = device_count();
  if (count == 0) throw std::runtime_error("no CUDA device is visible");
  if (options.device >= count)
    throw std::runtime_error("CUDA device " + std::to_string(options.device) + " requested, " + std::to_string(count) + " visible");
  return std::make_unique<CudaBackend>(options);
}

}  // namespace herd::calibrate::cuda
