// Fitting real figures: the published H100 measurements (hardware.md: an 8192^3 BF16 cuBLAS
// product at 790-800 TFLOP/s, a large copy at 3.0 TB/s) give the efficiencies the H100 preset
// quotes: 795 / 989 = 0.804 of peak and 3.0 / 3.35 = 0.896 of HBM bandwidth.
#include <catch2/catch.hpp>

#include <cmath>

#include "herd/calibrate/fit.hpp"

using namespace herd;
using namespace herd::calibrate;

TEST_CASE("published H100 figures reproduce the H100 preset's efficiencies", "[calibrate][fit]") {
  const MeasurementSet s =
      load_measurements(std::string(HERD_SOURCE_DIR) + "/tests/data/calibration/h100-published.json");
  const FitResult r = fit({s});
  const auto& p = r.profile;
  // One GEMM shape: the preset's tiles and k_half are kept and the point itself is the reference.
  CHECK(*p.gemm_efficiency == Approx(795.0 / 989.0).epsilon(1e-6));
  CHECK(*p.hbm_efficiency == Approx(3.0 / 3.35).epsilon(1e-6));
  const auto preset = matching_gpu_preset(s.device.name);
  REQUIRE(preset);
  CHECK(preset->name == "H100 SXM5 80GB");
  CHECK(*p.gemm_efficiency == Approx(preset->efficiency.gemm).epsilon(0.01));
  CHECK(*p.hbm_efficiency == Approx(preset->efficiency.hbm).epsilon(0.01));
  CHECK(*p.gemm_tile_m == preset->efficiency.gemm_tile_m);
  CHECK(*p.gemm_k_half == preset->efficiency.gemm_k_half);
}

TEST_CASE("device names find their GPU preset", "[calibrate][fit]") {
  CHECK(matching_gpu_preset("NVIDIA A100-SXM4-40GB")->name == "A100 SXM4 40GB");
  CHECK(matching_gpu_preset("NVIDIA A100-SXM4-80GB")->name == "A100 SXM4 80GB");
  CHECK(matching_gpu_preset("NVIDIA H200")->name == "H200 SXM 141GB");
  CHECK_FALSE(matching_gpu_preset("Intel(R) Xeon(R) Processor (2 threads)"));
}

TEST_CASE("a recorded CPU run: the profile predicts its whole layers", "[calibrate][fit]") {
  // Measured on this project's 2-thread CI-class VM (herd-calibrate measure --backend cpu, default
  // layer; other jobs were running). The layer times are end-to-end runs of the reference layer,
  // which the fit never sees: it prices each op from the isolated measurements.
  const MeasurementSet s =
      load_measurements(std::string(HERD_SOURCE_DIR) + "/tests/data/calibration/cpu-xeon-2threads-2026-11-27.json");
  const FitResult r = fit({s});
  REQUIRE(r.layers.size() == 3);
  for (const LayerCheck& l : r.layers) {
    INFO(l.label << ": measured " << l.measured_s << " s, preset " << l.default_s << " s, calibrated " << l.calibrated_s << " s");
    const double before = std::fabs(l.default_s / l.measured_s - 1), after = std::fabs(l.calibrated_s / l.measured_s - 1);
    CHECK(after < 0.1);
    CHECK(after < before);
    CHECK(l.extrapolated_ops == 0);
  }
}
