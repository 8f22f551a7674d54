// The CPU reference layer: its backward is the derivative of its forward. With the loss
// L = sum(y * R) for a fixed random R (so dL/dy = R), every gradient the backward returns must
// equal the central difference (L(p + e) - L(p - e)) / 2e, computed here in double precision.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

#include "herd/calibrate/cpu_layer.hpp"

using namespace herd::calibrate;
using cpu::Layer;

namespace {

LayerDims tiny() {
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

double loss(Layer<double>& layer, const std::vector<double>& x, const std::vector<double>& r) {
  std::vector<double> y(x.size());
  layer.forward(x.data(), y.data());
  return std::inner_product(y.begin(), y.end(), r.begin(), 0.0);
}

// Checks every `stride`-th element of `values` against central differences of the loss.
void check_gradient(Layer<double>& layer, std::vector<double>& values, const std::vector<double>& analytic,
                    const std::vector<double>& x, const std::vector<double>& r, std::size_t stride, const char* what) {
  constexpr double step = 1e-6;
  for (std::size_t i = 0; i < values.size(); i += stride) {
    const double saved = values[i];
    values[i] = saved + step;
    const double up = loss(layer, x, r);
    values[i] = saved - step;
    const double down = loss(layer, x, r);
    values[i] = saved;
    const double numeric = (up - down) / (2 * step);
    INFO(what << "[" << i << "]: analytic " << analytic[i] << ", numeric " << numeric);
    CHECK(std::fabs(analytic[i] - numeric) <= 1e-6 * std::max(1.0, std::fabs(numeric)));
  }
}

}  // namespace

TEST_CASE("layer backward matches finite differences of the forward", "[calibrate][cpu]") {
  const LayerDims d = tiny();
  const auto n = static_cast<std::size_t>(d.tokens() * d.hidden);
  Layer<double> layer(d, cpu::random_params<double>(d, 11));
  std::vector<double> x = cpu::random_values<double>(n, 12), r = cpu::random_values<double>(n, 13);
  std::vector<double> y(n), dx(n);
  layer.forward(x.data(), y.data());
  layer.backward(x.data(), r.data(), dx.data());
  const cpu::LayerParams<double> grads = layer.gradients();

  check_gradient(layer, x, dx, x, r, 1, "dx");
  auto params = layer.params().tensors();
  auto analytic = const_cast<cpu::LayerParams<double>&>(grads).tensors();
  const char* names[] = {"attn_norm", "qkv", "out", "mlp_norm", "fc1", "fc2"};
  for (std::size_t t = 0; t < params.size(); ++t) check_gradient(layer, *params[t], *analytic[t], x, r, 7, names[t]);
}

TEST_CASE("attention at position 0 returns its own value row; later tokens never change earlier outputs",
          "[calibrate][cpu]") {
  const LayerDims d = tiny();
  const auto n = static_cast<std::size_t>(d.tokens() * d.hidden);
  Layer<double> layer(d, cpu::random_params<double>(d, 21));
  std::vector<double> x = cpu::random_values<double>(n, 22), y(n), y2(n);
  layer.forward(x.data(), y.data());
  // Closed form: a query that sees one key has softmax weight 1, so o = v of that key.
  const auto& qkv = layer.rotated_qkv();
  const auto& o = layer.attention_output();
  const int group = d.heads_q / d.heads_kv;
  for (std::int64_t b = 0; b < d.batch; ++b)
    for (int h = 0; h < d.heads_q; ++h)
      for (std::int64_t c = 0; c < d.head_dim; ++c) {
        const std::int64_t row = b * d.seq;
        const double v = qkv[static_cast<std::size_t>(row * d.qkv_width() + d.q_width() + d.kv_width() +
                                                      (h / group) * d.head_dim + c)];
        CHECK(o[static_cast<std::size_t>(row * d.q_width() + h * d.head_dim + c)] == Approx(v).epsilon(1e-12));
      }
  // Causality: perturbing the last position of sequence 0 leaves its earlier positions unchanged.
  const std::int64_t last = d.seq - 1;
  for (std::int64_t c = 0; c < d.hidden; ++c) x[static_cast<std::size_t>(last * d.hidden + c)] += 0.5;
  layer.forward(x.data(), y2.data());
  for (std::size_t i = 0; i < static_cast<std::size_t>(last * d.hidden); ++i) CHECK(y2[i] == y[i]);
  CHECK(y2[static_cast<std::size_t>(last * d.hidden)] != y[static_cast<std::size_t>(last * d.hidden)]);
}

TEST_CASE("float and double layers agree", "[calibrate][cpu]") {
  const LayerDims d = tiny();
  const auto n = static_cast<std::size_t>(d.tokens() * d.hidden);
  Layer<double> ld(d, cpu::random_params<double>(d, 31));
  Layer<float> lf(d, cpu::random_params<float>(d, 31));
  const auto xd = cpu::random_values<double>(n, 32);
  const auto xf = cpu::random_values<float>(n, 32);
  std::vector<double> yd(n), dxd(n);
  std::vector<float> yf(n), dxf(n);
  ld.forward(xd.data(), yd.data());
  lf.forward(xf.data(), yf.data());
  ld.backward(xd.data(), xd.data(), dxd.data());
  lf.backward(xf.data(), xf.data(), dxf.data());
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(yf[i] == Approx(yd[i]).margin(1e-4));
    CHECK(dxf[i] == Approx(dxd[i]).margin(1e-4));
  }
}
