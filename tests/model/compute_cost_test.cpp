// The GEMM shape model (model/src/compute_cost.cpp, docs/models/compute.md): the best of
//   data-parallel  e = e_inf x wave x k / (k + k_half), wave = tiles / (ceil(tiles / units) x units)
//   split-K        1/e = 1/(e_inf x wave(s) x k_s / (k_s + k_half)) + 4 (s - 1) B / k,
//                  s <= ceil(units / tiles) when tiles < units, k_s = ceil(k / s)
//   stream-K       1/e = 1/(e_inf x (tiles k / units) / (W (k + k_half) + r k / units + k_half))
//                        + units x tile_m x tile_n x 8 x B / (2 m n k),
//                  W full waves and r tiles left over,
// with B = peak / usable HBM bandwidth (FLOP-times per byte of the partial FP32 tiles).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "herd/model/compute_cost.hpp"
#include "herd/model/scenario.hpp"

using namespace herd::model;

namespace {
constexpr double B = 989e12 / (3.35e12 * 0.9);

double data_parallel(double tiles, double k, double e_inf, double k_half = 128) {
  return e_inf * tiles / (std::ceil(tiles / 132) * 132) * k / (k + k_half);
}
double split_k(double tiles, double k, double e_inf, int split, double k_half = 128) {
  const double work = tiles * split, ks = std::ceil(k / split);
  return 1.0 / (1.0 / (e_inf * work / (std::ceil(work / 132) * 132) * ks / (ks + k_half)) + 4.0 * (split - 1) * B / k);
}
double stream_k(double m, double n, double tiles, double k, double e_inf, double k_half = 128) {
  const double W = std::floor(tiles / 132), r = tiles - W * 132;
  const double main = e_inf * (tiles * k / 132) / (W * (k + k_half) + r * k / 132 + k_half);
  return 1.0 / (1.0 / main + 132.0 * 128 * 256 * 8 * B / (2 * m * n * k));
}
}  // namespace

TEST_CASE("GEMM shape model: many tiles run in waves, the last wave's rest stream-K", "[compute]") {
  // 8192 x 8192 with 128 x 256 tiles: 2048 tiles, 15 full waves of 132 and 68 left over.
  const double dp = data_parallel(2048, 8192, 0.9), sk = stream_k(8192, 8192, 2048, 8192, 0.9);
  CHECK(sk > dp);
  CHECK(gemm_shape_efficiency({8192, 8192, 8192}, 0.9, 128, 256, 128, 132, B) == Approx(sk).epsilon(1e-12));
  // Without a memory cost for the fix-up (B = 0) only the data-parallel decomposition is modelled.
  CHECK(gemm_shape_efficiency({8192, 8192, 8192}, 0.9, 128, 256, 128, 132, 0) == Approx(dp).epsilon(1e-12));
  // Exactly full waves: nothing to balance.
  CHECK(gemm_shape_efficiency({128 * 12, 256 * 11, 4096}, 0.9, 128, 256, 128, 132, B) ==
        Approx(data_parallel(132, 4096, 0.9)).epsilon(1e-12));
}

TEST_CASE("GEMM shape model: a few output tiles are spread over the GPU", "[compute]") {
  // 512 x 2304 x 16384 (a TP-overlap piece of Llama 3 405B's QKV at TP 8): 4 x 9 = 36 tiles,
  // one wave filling 27% of 132 SMs.
  double best = data_parallel(36, 16384, 0.85);
  for (int split = 2; split <= 4; ++split) best = std::max(best, split_k(36, 16384, 0.85, split));  // ceil(132/36) = 4
  best = std::max(best, stream_k(512, 2304, 36, 16384, 0.85));
  const double e = gemm_shape_efficiency({512, 2304, 16384}, 0.85, 128, 256, 128, 132, B);
  CHECK(e == Approx(best).epsilon(1e-12));
  CHECK(e > 2 * data_parallel(36, 16384, 0.85));
  // Split-K alone, where stream-K's fix-up is dearer (a short k and a small output).
  double split_best = 0;
  for (int split = 1; split <= 4; ++split) split_best = std::max(split_best, split_k(36, 1024, 0.85, split));
  CHECK(gemm_shape_efficiency({512, 2304, 1024}, 0.85, 128, 256, 128, 132, B) ==
        Approx(std::max(split_best, stream_k(512, 2304, 36, 1024, 0.85))).epsilon(1e-12));
}

TEST_CASE("the cost model anchors the 8192^3 reference at the preset's efficiency", "[compute]") {
  // e(8192^3) = e.gemm x e.sustained: the burst figure at the preset's compute level.
  const Scenario s = default_scenario();
  const ComputeCostModel cost(s.cluster.gpu);
  const auto& e = s.cluster.gpu.efficiency;
  CHECK(cost.gemm_efficiency({8192, 8192, 8192}) == Approx(e.gemm * e.sustained).epsilon(1e-9));
  // A small-output GEMM is slower than the reference, but the decompositions keep it within reach.
  const double piece = cost.gemm_efficiency({512, 2304, 16384});
  CHECK(piece < e.gemm * e.sustained);
  CHECK(piece > 0.6 * e.gemm * e.sustained);
}

TEST_CASE("the sustained fraction scales GEMM and attention, not memory-bound ops", "[compute]") {
  // e.gemm x sustained at the reference shape; element-wise ops keep bytes / (B_hbm x eta_hbm).
  std::vector<Override> o{parse_override("cluster.gpu.efficiency.sustained=0.8")};
  std::vector<Override> burst{parse_override("cluster.gpu.efficiency.sustained=1")};
  const Scenario slow = default_scenario(o), base = default_scenario(burst);
  const ComputeCostModel a(base.cluster.gpu), b(slow.cluster.gpu);
  CHECK(b.gemm_efficiency({8192, 8192, 8192}) == Approx(0.8 * 0.8).epsilon(1e-9));
  const AttentionShape att{1, 16, 1, 8192, 8192, 128, 8192.0 * 8193 / 2};
  CHECK(b.attention_efficiency(att, true) == Approx(0.8 * a.attention_efficiency(att, true)));
  Op copy;
  copy.name = "residual_add";
  copy.kind = OpKind::elementwise;
  copy.bytes = 1e9;
  CHECK(b.op_seconds(copy) == Approx(a.op_seconds(copy)));
}

TEST_CASE("FlashAttention-2 runs at the preset's flash2 efficiencies, and keeps their ratio under a profile",
          "[compute][stack]") {
  // At the 8K anchor: e_flash2 = efficiency.flash2_{fwd,bwd} x sustained; for H100 0.62 x 333/602 and
  // 0.50 x 318/559 (FlashAttention-3 paper, FlashAttention-2 over FlashAttention-3 at 8K).
  const Scenario s = default_scenario();
  const auto& e = s.cluster.gpu.efficiency;
  CHECK(e.flash2_fwd == Approx(0.62 * 333 / 602).epsilon(2e-3));
  CHECK(e.flash2_bwd == Approx(0.50 * 318 / 559).epsilon(2e-3));
  const ComputeCostModel cost(s.cluster.gpu);
  AttentionShape att{1, 16, 1, 8192, 8192, 128, 8192.0 * 8193 / 2};
  const double fused_fwd = cost.attention_efficiency(att, false), fused_bwd = cost.attention_efficiency(att, true);
  CHECK(fused_fwd == Approx(e.attention_fwd * e.sustained).epsilon(1e-9));
  att.kernel = AttentionKernel::flash2;
  CHECK(cost.attention_efficiency(att, false) == Approx(e.flash2_fwd * e.sustained).epsilon(1e-9));
  CHECK(cost.attention_efficiency(att, true) == Approx(e.flash2_bwd * e.sustained).epsilon(1e-9));
  // Away from the anchor both follow the same s_kv / (s_kv + s_half) curve.
  att.seq_kv = 2048;
  const double f2 = cost.attention_efficiency(att, false);
  att.kernel = AttentionKernel::cudnn;
  CHECK(f2 == Approx(cost.attention_efficiency(att, false) * e.flash2_fwd / e.attention_fwd).epsilon(1e-12));

  // A profile's attention fit measures the fused kernel; FlashAttention-2 keeps the preset's ratio.
  CalibrationProfile profile;
  profile.attention_fwd_efficiency = 0.5;
  profile.attention_bwd_efficiency = 0.4;
  profile.sustained_fraction = 1.0;
  const ComputeCostModel fitted(s.cluster.gpu, &profile);
  att.seq_kv = 8192;
  att.kernel = AttentionKernel::flash2;
  CHECK(fitted.attention_efficiency(att, false) == Approx(0.5 * e.flash2_fwd / e.attention_fwd).epsilon(1e-9));
  CHECK(fitted.attention_efficiency(att, true) == Approx(0.4 * e.flash2_bwd / e.attention_bwd).epsilon(1e-9));
}
