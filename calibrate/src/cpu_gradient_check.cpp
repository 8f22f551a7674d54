#include "herd/calibrate/self_test.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "herd/calibrate/cpu_layer.hpp"

namespace herd::calibrate {

namespace {

double loss(cpu::Layer<double>& layer, const std::vector<double>& x, const std::vector<double>& r) {
  std::vector<double> y(x.size());
  layer.forward(x.data(), y.data());
  return std::inner_product(y.begin(), y.end(), r.begin(), 0.0);
}

Check compare(cpu::Layer<double>& layer, std::vector<double>& values, const std::vector<double>& analytic,
              const std::vector<double>& x, const std::vector<double>& r, std::size_t stride, std::string what) {
  constexpr double step = 1e-6;
  Check c{std::move(what), 0, 1e-6};
  for (std::size_t i = 0; i < values.size(); i += stride) {
    const double saved = values[i];
    values[i] = saved + step;
    const double up = loss(layer, x, r);
    values[i] = saved - step;
    const double down = loss(layer, x, r);
    values[i] = saved;
    const double numeric = (up - down) / (2 * step);
    c.error = std::max(c.error, std::fabs(analytic[i] - numeric) / std::max(1.0, std::fabs(numeric)));
  }
  return c;
}

}  // namespace

LayerDims small_check_layer() {
  LayerDims d;
  d.batch = 2;
  d.seq = 5;
  d.hidden = 12;
  d.heads_q = 4;
  d.heads_kv = 2;
  d.head_dim = 4;
  d.ffn = 10;
  d.rope_theta = 10000;  // angles that vary visibly over 5 positions
  return d;
}

std::vector<Check> cpu_gradient_check(const LayerDims& d, std::uint64_t seed, std::size_t stride) {
  const auto n = static_cast<std::size_t>(d.tokens() * d.hidden);
  cpu::Layer<double> layer(d, cpu::random_params<double>(d, seed));
  std::vector<double> x = cpu::random_values<double>(n, seed + 1), r = cpu::random_values<double>(n, seed + 2);
  std::vector<double> y(n), dx(n);
  layer.forward(x.data(), y.data());
  layer.backward(x.data(), r.data(), dx.data());
  cpu::LayerParams<double> grads = layer.gradients();
  std::vector<Check> out{compare(layer, x, dx, x, r, 1, "dx")};
  auto params = layer.params().tensors();
  auto analytic = grads.tensors();
  const char* names[] = {"d attn_norm", "d qkv", "d out", "d mlp_norm", "d fc1", "d fc2"};
  for (std::size_t t = 0; t < params.size(); ++t) out.push_back(compare(layer, *params[t], *analytic[t], x, r, stride, names[t]));
  return out;
}

}  // namespace herd::calibrate
