// The CPU reference layer: its backward is the derivative of its forward (central differences in
// double precision), attention's closed form at position 0, causality, float against double.
#include <catch2/catch.hpp>

#include <cmath>

#include "herd/calibrate/cpu_layer.hpp"
#include "herd/calibrate/self_test.hpp"

using namespace herd::calibrate;
using cpu::Layer;

namespace {
LayerDims tiny() { return small_check_layer(); }
}  // namespace

TEST_CASE("layer backward matches finite differences of the forward", "[calibrate][cpu]") {
  // cpu_gradient_check: L = sum(y * R), dL/dy = R; every element of dx and every 3rd element of
  // each parameter against (L(p + e) - L(p - e)) / 2e with e = 1e-6, to 1e-6 relative.
  for (const Check& c : cpu_gradient_check(tiny(), 11, 3)) {
    INFO(c.what << ": error " << c.error);
    CHECK(c.error <= 1e-6);
  }
}

TEST_CASE("attention at position 0 returns its own value row, later tokens never change earlier outputs",
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
