// CPU kernels against their definitions: the matrix product against a triple loop for every
// transposition, RoPE as a rotation (norm-preserving, undone by its inverse, and giving dot
// products that depend only on the distance between positions), RMSNorm rows of unit RMS.
#include <catch2/catch.hpp>

#include <cmath>

#include "herd/calibrate/cpu_kernels.hpp"
#include "herd/calibrate/cpu_layer.hpp"

using namespace herd::calibrate;

TEST_CASE("gemm equals the triple loop for all transpositions", "[calibrate][cpu]") {
  const std::int64_t m = 37, n = 300, k = 270;  // not multiples of the kernel's blocks
  const auto a = cpu::random_values<double>(static_cast<std::size_t>(m * k), 1);
  const auto b = cpu::random_values<double>(static_cast<std::size_t>(k * n), 2);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::vector<double> c(static_cast<std::size_t>(m * n), 1.0);
      cpu::gemm(ta, tb, m, n, k, a.data(), b.data(), c.data(), /*accumulate=*/true);
      for (std::int64_t i = 0; i < m; i += 5)
        for (std::int64_t j = 0; j < n; j += 7) {
          double expected = 1.0;
          for (std::int64_t p = 0; p < k; ++p)
            expected += (ta ? a[static_cast<std::size_t>(p * m + i)] : a[static_cast<std::size_t>(i * k + p)]) *
                        (tb ? b[static_cast<std::size_t>(j * k + p)] : b[static_cast<std::size_t>(p * n + j)]);
          INFO("trans_a " << ta << " trans_b " << tb << " at " << i << "," << j);
          CHECK(c[static_cast<std::size_t>(i * n + j)] == Approx(expected).epsilon(1e-12));
        }
    }
}

TEST_CASE("RoPE is a position-dependent rotation", "[calibrate][cpu]") {
  LayerDims d;
  d.batch = 1;
  d.seq = 9;
  d.hidden = 8;
  d.heads_q = 2;
  d.heads_kv = 1;
  d.head_dim = 8;
  d.ffn = 4;
  d.rope_theta = 100;
  const auto width = d.qkv_width();
  // The same q and k vector at every position.
  auto base = cpu::random_values<double>(static_cast<std::size_t>(width), 5);
  std::vector<double> qkv;
  for (std::int64_t t = 0; t < d.seq; ++t) qkv.insert(qkv.end(), base.begin(), base.end());
  auto rotated = qkv;
  cpu::rope(d, rotated.data(), false);
  auto at = [&](const std::vector<double>& v, std::int64_t t, std::int64_t col) { return v[static_cast<std::size_t>(t * width + col)]; };
  auto dot_qk = [&](std::int64_t tq, std::int64_t tk) {
    double s = 0;
    for (std::int64_t c = 0; c < d.head_dim; ++c) s += at(rotated, tq, c) * at(rotated, tk, d.q_width() + c);
    return s;
  };
  // q_m . k_n depends on m - n only (the defining property of rotary embeddings).
  CHECK(dot_qk(5, 2) == Approx(dot_qk(7, 4)).epsilon(1e-12));
  CHECK(dot_qk(3, 3) == Approx(dot_qk(0, 0)).epsilon(1e-12));
  // Norms are kept, v is untouched, and the inverse rotation restores the input.
  for (std::int64_t t = 0; t < d.seq; ++t) {
    double before = 0, after = 0;
    for (std::int64_t c = 0; c < d.head_dim; ++c) {
      before += at(qkv, t, c) * at(qkv, t, c);
      after += at(rotated, t, c) * at(rotated, t, c);
    }
    CHECK(after == Approx(before).epsilon(1e-12));
    for (std::int64_t c = d.q_width() + d.kv_width(); c < width; ++c) CHECK(at(rotated, t, c) == at(qkv, t, c));
  }
  cpu::rope(d, rotated.data(), true);
  for (std::size_t i = 0; i < qkv.size(); ++i) CHECK(rotated[i] == Approx(qkv[i]).margin(1e-12));
}

TEST_CASE("RMSNorm with unit gains gives rows of unit root mean square", "[calibrate][cpu]") {
  const std::int64_t rows = 3, cols = 50;
  const auto x = cpu::random_values<double>(static_cast<std::size_t>(rows * cols), 9);
  const std::vector<double> g(static_cast<std::size_t>(cols), 1.0);
  std::vector<double> y(x.size()), rstd(static_cast<std::size_t>(rows));
  cpu::rmsnorm_forward(rows, cols, 0.0, x.data(), g.data(), y.data(), rstd.data());
  for (std::int64_t t = 0; t < rows; ++t) {
    double ms = 0;
    for (std::int64_t j = 0; j < cols; ++j) ms += y[static_cast<std::size_t>(t * cols + j)] * y[static_cast<std::size_t>(t * cols + j)];
    CHECK(ms / cols == Approx(1.0).epsilon(1e-12));
  }
}
