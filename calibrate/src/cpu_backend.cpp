#include "herd/calibrate/cpu_backend.hpp"

#include <algorithm>
#include <fstream>
#include <string>

#include <tbb/task_arena.h>
#include <tbb/version.h>
#include <unistd.h>

#include "herd/calibrate/cpu_kernels.hpp"
#include "herd/calibrate/cpu_layer.hpp"
#include "herd/calibrate/sweep.hpp"
#include "herd/model/error.hpp"

namespace herd::calibrate {

namespace {

using cpu::random_values;

std::size_t sz(std::int64_t n) { return static_cast<std::size_t>(n); }

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown CPU";
}

std::string host_name() {
  char name[256] = {};
  return gethostname(name, sizeof name - 1) == 0 ? name : "";
}

void measure_attention(Record& r, const TimingPolicy& policy, std::uint64_t seed) {
  const LayerDims d = attention_layer(r.attention);
  const auto qkv = random_values<float>(sz(d.tokens() * d.qkv_width()), seed);
  std::vector<float> o(sz(d.tokens() * d.q_width())), lse(sz(d.batch * d.heads_q * d.seq));
  if (r.pass == "backward") {
    cpu::attention_forward(d, qkv.data(), o.data(), lse.data());
    const auto d_o = random_values<float>(o.size(), seed + 1);
    std::vector<float> dqkv(qkv.size());
    r.set_times(time_on_host(policy, [&] { cpu::attention_backward(d, qkv.data(), o.data(), lse.data(), d_o.data(), dqkv.data()); }));
  } else {
    r.set_times(time_on_host(policy, [&] { cpu::attention_forward(d, qkv.data(), o.data(), lse.data()); }));
  }
}

void measure_elementwise(Record& r, const TimingPolicy& policy, std::uint64_t seed) {
  const std::int64_t rows = r.rows, cols = r.cols, n = rows * cols;
  const std::string& c = r.op;
  const auto x = random_values<float>(sz(c == "swiglu" || c == "swiglu_bwd" ? 2 * n : n), seed);
  const auto g = random_values<float>(sz(std::max(cols, n)), seed + 1);
  std::vector<float> y(x.size()), rstd(sz(rows)), dg(sz(cols));
  std::vector<float> qkv;  // RoPE's operand: it must outlive `run`, which refers to it
  std::function<void()> run;
  if (c == "rmsnorm") {
    run = [&] { cpu::rmsnorm_forward(rows, cols, 1e-5, x.data(), g.data(), y.data(), rstd.data()); };
  } else if (c == "rmsnorm_bwd") {
    cpu::rmsnorm_forward(rows, cols, 1e-5, x.data(), g.data(), y.data(), rstd.data());
    run = [&] { cpu::rmsnorm_backward(rows, cols, x.data(), g.data(), rstd.data(), g.data(), y.data(), dg.data()); };
  } else if (c == "rope" || c == "rope_bwd") {
    const LayerDims& d = r.layer;
    if (d.seq < 1 || rows != d.tokens() || cols != d.q_width() + d.kv_width())
      throw model::ValueError("/layer", "rope needs the layer it belongs to (tokens x (q + kv) columns)");
    qkv = random_values<float>(sz(d.tokens() * d.qkv_width()), seed);
    run = [&] { cpu::rope(d, qkv.data(), c == "rope_bwd"); };
  } else if (c == "swiglu") {
    run = [&] { cpu::swiglu_forward(rows, cols, x.data(), y.data()); };
  } else if (c == "swiglu_bwd") {
    run = [&] { cpu::swiglu_backward(rows, cols, x.data(), g.data(), y.data()); };
  } else if (c == "residual_add" || c == "residual_add_bwd") {
    run = [&] { cpu::add(n, x.data(), g.data(), y.data()); };
  } else if (c == "copy") {
    run = [&] { cpu::copy(n, x.data(), y.data()); };
  } else {
    throw model::ValueError("/op", "the CPU backend has no element-wise kernel \"" + c + "\"");
  }
  r.set_times(time_on_host(policy, run));
}

void measure_layer(Record& r, const TimingPolicy& policy, std::uint64_t seed) {
  const LayerDims& d = r.layer;
  cpu::Layer<float> layer(d, cpu::random_params<float>(d, seed));
  const auto n = sz(d.tokens() * d.hidden);
  const auto x = random_values<float>(n, seed + 1), dy = random_values<float>(n, seed + 2);
  std::vector<float> y(n), dx(n);
  r.pass = "forward_backward";
  r.set_times(time_on_host(policy, [&] {
    layer.forward(x.data(), y.data());
    layer.backward(x.data(), dy.data(), dx.data());
  }));
}

}  // namespace

CpuBackend::CpuBackend(const CpuBackendOptions& options) : options_(options) {
  const TimingPolicy probe{1, std::max(1, options.probe_runs)};
  const std::int64_t s = options.peak_gemm_size;
  const auto a = random_values<float>(sz(s * s), options.seed), b = random_values<float>(sz(s * s), options.seed + 1);
  std::vector<float> c(sz(s * s));
  const auto gemm = time_on_host(probe, [&] { cpu::gemm(false, false, s, s, s, a.data(), b.data(), c.data()); });
  peak_flops_ = 2.0 * double(s) * double(s) * double(s) / *std::min_element(gemm.begin(), gemm.end());
  const auto n = static_cast<std::int64_t>(options.bandwidth_probe_bytes / 8);  // floats read and written
  const auto src = random_values<float>(sz(n), options.seed + 2);
  std::vector<float> dst(sz(n));
  const auto copy = time_on_host(probe, [&] { cpu::copy(n, src.data(), dst.data()); });
  bandwidth_ = 8.0 * double(n) / *std::min_element(copy.begin(), copy.end());
}

DeviceInfo CpuBackend::device() {
  DeviceInfo d;
  d.backend = "cpu";
  const int threads = tbb::this_task_arena::max_concurrency();
  d.name = cpu_model() + " (" + std::to_string(threads) + " threads)";
  d.peak_flops = peak_flops_;
  d.peak_source = "best FP32 GEMM throughput of the backend's own kernel in this run: " +
                  std::to_string(options_.probe_runs) + " " + std::to_string(options_.peak_gemm_size) +
                  "^3 products at start-up and every GEMM measured";
  d.memory_bandwidth = bandwidth_;
  d.bandwidth_source = "best copy throughput (bytes read + written) in this run: " + std::to_string(options_.probe_runs) +
                       " copies of " + std::to_string(static_cast<long long>(options_.bandwidth_probe_bytes)) +
                       " bytes at start-up and every copy measured";
  d.parallel_units = threads;
  d.details = {{"date", utc_now()},
               {"host", host_name()},
               {"cpu_model", cpu_model()},
               {"threads", threads},
               {"compiler", __VERSION__},
               {"tbb", TBB_VERSION_STRING}};
  return d;
}

void CpuBackend::measure(Record& r, const TimingPolicy& policy) {
  r.impl = "herd-cpu-fp32";
  const std::uint64_t seed = options_.seed;
  switch (r.kind) {
    case RecordKind::gemm: {
      if (r.gemm.batch > 1) throw model::ValueError("/shape/batch", "the CPU backend measures single (unbatched) GEMMs");
      const std::int64_t m = r.gemm.m, n = r.gemm.n, k = r.gemm.k;
      const std::string_view layout = gemm_layout(r.op);
      const auto a = random_values<float>(sz(m * k), seed), b = random_values<float>(sz(k * n), seed + 1);
      std::vector<float> c(sz(m * n));
      r.set_times(time_on_host(policy, [&] {
        cpu::gemm(layout == "tn", layout == "nt", m, n, k, a.data(), b.data(), c.data());
      }));
      // The peak is the best this kernel reaches, so no efficiency exceeds 1.
      peak_flops_ = std::max(peak_flops_, r.flops / *std::min_element(r.times_s.begin(), r.times_s.end()));
      break;
    }
    case RecordKind::attention: measure_attention(r, policy, seed); break;
    case RecordKind::elementwise:
      measure_elementwise(r, policy, seed);
      if (r.op == "copy") bandwidth_ = std::max(bandwidth_, r.bytes / *std::min_element(r.times_s.begin(), r.times_s.end()));
      break;
    case RecordKind::layer: measure_layer(r, policy, seed); break;
    case RecordKind::collective: throw model::ValueError("/kind", "the CPU backend does not measure collectives");
  }
}

}  // namespace herd::calibrate
