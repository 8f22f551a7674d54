// Sustained runs: a layer run back to back for a while (herd-calibrate measure --sustain) shows the
// speed the device keeps under its power and thermal limits. Closed forms:
//   sustained_ratio = median(first max(3, n/20) times) / median(second half of the times)
//   the fitted sustained_fraction = min(1, median of the sustained layers' ratios)
//   the cost model's GEMM and attention efficiencies = burst efficiency x sustained_fraction.
#include <catch2/catch.hpp>

#include <chrono>

#include "herd/calibrate/backend.hpp"
#include "herd/calibrate/fit.hpp"
#include "herd/calibrate/measurement.hpp"
#include "herd/model/compute_cost.hpp"
#include "herd/model/error.hpp"

using namespace herd;
using namespace herd::calibrate;

namespace {
// 40 runs: the first 3 at 1.0 s, then 1.25 s (a device that slowed down by a fifth).
Record slowing_layer() {
  Record r;
  r.kind = RecordKind::layer;
  r.op = "layer";
  r.pass = "forward_backward";
  r.layer.seq = 256;
  r.layer.hidden = 512;
  r.layer.heads_q = 4;
  r.layer.heads_kv = 1;
  r.layer.head_dim = 128;
  r.layer.ffn = 1536;
  std::vector<double> times(40, 1.25);
  times[0] = times[1] = times[2] = 1.0;
  r.set_times(times);
  r.mark_sustained(45);
  return r;
}
}  // namespace

TEST_CASE("sustained ratio: first runs against the settled second half", "[calibrate][sustained]") {
  const Record r = slowing_layer();
  CHECK(r.median_s == Approx(1.25));  // the settled speed, not the whole run's median
  CHECK(sustained_ratio(r) == Approx(0.8));
  Record burst = r;
  burst.sustained_s = 0;
  CHECK(sustained_ratio(burst) == 1.0);
  // It survives the raw file.
  MeasurementSet set;
  set.records.push_back(r);
  const MeasurementSet back = measurements_from_json(to_json(set));
  CHECK(back.records[0].sustained_s == 45);
  CHECK(back.records[0].median_s == Approx(1.25));
  CHECK(sustained_ratio(back.records[0]) == Approx(0.8));
  // Only whole layers are sustained runs.
  auto doc = to_json(set);
  doc["records"][0]["kind"] = "gemm";
  doc["records"][0]["shape"] = {{"m", 64}, {"n", 64}, {"k", 64}};
  CHECK_THROWS_WITH(measurements_from_json(doc), Catch::Contains("/records/0/sustained_s"));
}

TEST_CASE("timing keeps running until the minimum total time", "[calibrate][sustained]") {
  TimingPolicy policy{0, 2};
  policy.min_total_s = 0.02;
  const auto times = time_on_host(policy, [] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
    while (std::chrono::steady_clock::now() < until) {
    }
  });
  double total = 0;
  for (double t : times) total += t;
  CHECK(total >= 0.02);
  CHECK(times.size() >= 2);
}

TEST_CASE("the fit turns sustained layers into a fraction the cost model applies", "[calibrate][sustained]") {
  MeasurementSet set = load_measurements(std::string(HERD_SOURCE_DIR) + "/tests/data/calibration/synthetic-gpu.json");
  set.records.push_back(slowing_layer());
  const FitResult r = fit({set});
  REQUIRE(r.profile.sustained_fraction);
  CHECK(*r.profile.sustained_fraction == Approx(0.8));
  // The GEMM reference efficiency the profile stores is the burst one; the model scales it.
  model::GpuSpec gpu;
  gpu.peak_bf16_flops = *r.profile.peak_flops;
  gpu.hbm_bandwidth = *r.profile.memory_bandwidth;
  gpu.sms = 132;
  const model::ComputeCostModel cost(gpu, &r.profile);
  model::CalibrationProfile burst = r.profile;
  burst.sustained_fraction.reset();
  burst.gemm_points.clear();
  model::CalibrationProfile sustained = r.profile;
  sustained.gemm_points.clear();
  const model::ComputeCostModel a(gpu, &burst), b(gpu, &sustained);
  CHECK(b.gemm_efficiency({8192, 8192, 8192}) == Approx(0.8 * a.gemm_efficiency({8192, 8192, 8192})).epsilon(1e-6));
  CHECK(b.attention_efficiency({1, 16, 1, 8192, 8192, 128, 8192.0 * 8193 / 2}, false) ==
        Approx(0.8 * a.attention_efficiency({1, 16, 1, 8192, 8192, 128, 8192.0 * 8193 / 2}, false)));
  // The sustained layer is compared with the sustained prediction, the burst layers with the burst one.
  bool seen = false;
  for (const auto& c : r.layers)
    if (c.label.find("(sustained)") != std::string::npos) seen = true;
  CHECK(seen);
}

TEST_CASE("a sustained fraction above 1 is refused", "[calibrate][sustained]") {
  model::CalibrationProfile p;
  p.sustained_fraction = 0.9;
  auto doc = model::to_json(p);
  CHECK(*model::calibration_profile_from_json(doc).sustained_fraction == Approx(0.9));
  doc["compute"]["sustained_fraction"] = 1.2;
  CHECK_THROWS_WITH(model::calibration_profile_from_json(doc), Catch::Contains("/compute/sustained_fraction"));
}
