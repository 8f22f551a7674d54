// The profile format (model/src/calibration_profile.cpp) and how the compute cost model uses it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/compute_cost.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "herd/model/scenario.hpp"

using namespace herd::model;
using nlohmann::json;

namespace {

CalibrationProfile sample() {
  CalibrationProfile p;
  p.gpu_name = "NVIDIA H100 80GB HBM3";
  p.backend = "cuda";
  p.measured_on = {{"driver", "570.86"}};
  p.peak_flops = 989.4e12;
  p.memory_bandwidth = 3.35e12;
  p.parallel_units = 132;
  p.gemm_efficiency = 0.75;
  p.gemm_tile_m = 128;
  p.gemm_tile_n = 128;
  p.gemm_k_half = 300;
  p.attention_fwd_efficiency = 0.4;
  p.attention_bwd_efficiency = 0.3;
  p.attention_seq_half = 600;
  p.attention_impl = "herd-flash-wmma";
  p.hbm_efficiency = 0.88;
  p.kernel_overhead_s = 6e-6;
  p.gemm_points = {{8192, 2304, 16384, 0.7, -0.01}};
  p.attention_points = {{8192, 16, true, 0.31, 0.02}};
  p.elementwise["rmsnorm"] = {0.6, 1e6, 1e9, 0.01};
  p.collectives["all_reduce/intra_node"] = {20e-6, 270e9, 8, 8e9, 8, 1, {{8, 25e-6}, {8e9, 30e-3}}, 0.2};
  p.report = {{"fit", {{"gemm", {{"points", 12}}}}}};
  return p;
}

std::filesystem::path temp_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("herd-calibrate-test-" + name);
  write_file_atomically(path, text);
  return path;
}

}  // namespace

TEST_CASE("a profile survives writing and reading", "[calibrate][profile]") {
  const CalibrationProfile p = sample();
  const json doc = to_json(p);
  CHECK(doc["version"] == kCalibrationProfileVersion);
  const CalibrationProfile q = calibration_profile_from_json(doc);
  CHECK(to_json(q) == doc);
  CHECK(q.collectives.at("all_reduce/intra_node").points.size() == 2);
  CHECK(q.elementwise.at("rmsnorm").max_bytes == 1e9);
  CHECK(q.attention_points[0].backward);
}

TEST_CASE("bad profiles name the pointer at fault", "[calibrate][profile]") {
  json doc = to_json(sample());
  doc["compute"]["gemm"]["points"][0]["k"] = -1;
  CHECK_THROWS_WITH(calibration_profile_from_json(doc), Catch::Contains("expected a positive number"));
  try {
    calibration_profile_from_json(doc);
  } catch (const ValueError& e) {
    CHECK(e.pointer() == "/compute/gemm/points/0/k");
  }
  doc = to_json(sample());
  doc["version"] = 3;
  CHECK_THROWS_WITH(calibration_profile_from_json(doc), Catch::Contains("unsupported profile version 3"));
  doc = to_json(sample());
  doc["collectives"]["all_reduce/intra_node"]["points"][1] = {8e9};
  CHECK_THROWS_WITH(calibration_profile_from_json(doc), Catch::Contains("expected [bytes, seconds]"));
  const auto file = temp_file("bad.json", "{\"format\": \"herd-calibration\", \"version\": 2, \"compute\": {\"hbm\": {\"efficiency\": \"x\"}}}");
  try {
    load_calibration_profile(file);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(e.source() == file.string());
    CHECK(e.pointer() == "/compute/hbm/efficiency");
  }
}

TEST_CASE("version 1 profiles are still read", "[calibrate][profile]") {
  const json v1 = {{"format", "herd-calibration"},
                   {"version", 1},
                   {"gpu", {{"name", "NVIDIA A100-SXM4-80GB"}}},
                   {"compute", {{"gemm", {{"efficiency", 0.7}, {"points", json::array()}}}}},
                   {"collectives", json::object()}};
  const CalibrationProfile p = calibration_profile_from_json(v1);
  CHECK(p.gpu_name == "NVIDIA A100-SXM4-80GB");
  CHECK(*p.gemm_efficiency == 0.7);
  CHECK_FALSE(p.peak_flops);
}

TEST_CASE("the cost model keeps a profile's measured throughput", "[calibrate][profile]") {
  GpuSpec gpu;
  gpu.name = "H100 SXM5 80GB";
  gpu.peak_bf16_flops = 1000e12;
  gpu.hbm_bandwidth = 3e12;
  gpu.sms = 132;
  CalibrationProfile p;
  p.peak_flops = 500e12;  // measured on a device with half this GPU's peak
  p.memory_bandwidth = 1.5e12;
  p.gemm_efficiency = 0.8;
  p.hbm_efficiency = 0.9;
  p.elementwise["rope"] = {0.5, 1e6, 1e8, 0};
  const ComputeCostModel cost(gpu, &p);
  // 0.8 of 500 TFLOP/s is 0.4 of 1000 TFLOP/s at the reference shape.
  CHECK(cost.gemm_efficiency({8192, 8192, 8192}) == Approx(0.4));
  Op rope;
  rope.name = "rope";
  rope.kind = OpKind::elementwise;
  rope.bytes = 1e7;
  // bytes / (3 TB/s x 0.5 x 1.5/3) + default 4 us overhead.
  CHECK(cost.op_seconds(rope) == Approx(1e7 / (3e12 * 0.25) + 4e-6));
  Op norm = rope;
  norm.name = "attn_norm";  // class rmsnorm, not measured: the copy-like hbm efficiency
  CHECK(cost.op_seconds(norm) == Approx(1e7 / (3e12 * 0.45) + 4e-6));
  CHECK_FALSE(cost.extrapolated(rope));
  CHECK(cost.extrapolated(norm));
  rope.bytes = 1e9;  // 10x beyond the largest measured size
  CHECK(cost.extrapolated(rope));
}

TEST_CASE("profile_for: command line first, then the scenario's key, relative to its file", "[calibrate][profile]") {
  const auto dir = std::filesystem::temp_directory_path() / "herd-calibrate-profile-for";
  std::filesystem::create_directories(dir);
  write_file_atomically(dir / "gpu.json", to_json(sample()).dump());
  write_file_atomically(dir / "scenario.json", R"({"preset": "llama3-8b", "calibration": "gpu.json"})");
  const Scenario s = load_scenario((dir / "scenario.json").string());
  const auto from_key = profile_for(s, "");
  REQUIRE(from_key);
  CHECK(from_key->source == (dir / "gpu.json").string());
  CHECK(from_key->gpu_name == "NVIDIA H100 80GB HBM3");
  CHECK_FALSE(profile_for(default_scenario(), ""));
  CHECK(profile_for(default_scenario(), (dir / "gpu.json").string()));
  write_file_atomically(dir / "missing.json", R"({"preset": "llama3-8b", "calibration": "nowhere.json"})");
  const Scenario m = load_scenario((dir / "missing.json").string());
  try {
    profile_for(m, "");
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(e.source() == (dir / "missing.json").string());
    CHECK(e.pointer() == "/calibration");
  }
}

TEST_CASE("a profile from another device is reported", "[calibrate][profile]") {
  GpuSpec h100;
  h100.name = "H100 SXM5 80GB";
  CalibrationProfile p = sample();
  CHECK(profile_mismatch(p, h100).empty());
  p.gpu_name = "NVIDIA A100-SXM4-80GB";
  CHECK_THAT(profile_mismatch(p, h100), Catch::Contains("was measured on NVIDIA A100-SXM4-80GB, not on H100 SXM5 80GB"));
  p.backend = "cpu";
  p.gpu_name = "Intel(R) Xeon(R) Processor (2 threads)";
  CHECK_THAT(profile_mismatch(p, h100), Catch::Contains("measured on a CPU"));
}
