// herd-calibrate end to end on the CPU backend: measure -> fit -> profile -> prediction, and
// `herd model --calibration`. Timing itself is never asserted; what is checked is that the
// profile makes the cost model predict what was measured. At a measured GEMM or attention shape
// the fitted efficiency is FLOPs / (peak x (t - overhead)), so the op costs
//   max(t - overhead, bytes / (bandwidth x hbm efficiency)) + overhead
// (shapes measured more than once: the geometric mean of t - overhead), and an element-wise op
// costs overhead + bytes / (bandwidth x its class's efficiency).
#include <catch2/catch.hpp>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "herd/calibrate/cli.hpp"
#include "herd/calibrate/fit.hpp"
#include "herd/cli/app.hpp"
#include "herd/model/compute_cost.hpp"
#include "herd/model/io.hpp"

using namespace herd;
using namespace herd::calibrate;

namespace {

struct Run {
  int code;
  std::string out, err;
};

Run calibrate_cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = run_calibrate(args, out, err);
  return {code, out.str(), err.str()};
}

// herd-calibrate with `text` as its standard input.
Run with_stdin(const std::string& text, const std::vector<std::string>& args) {
  std::istringstream in(text);
  std::streambuf* saved = std::cin.rdbuf(in.rdbuf());
  const Run r = calibrate_cli(args);
  std::cin.rdbuf(saved);
  std::cin.clear();
  return r;
}

std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("herd-calibrate-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string data(const std::string& name) { return std::string(HERD_SOURCE_DIR) + "/tests/data/calibration/" + name; }

// The cost model's price of one op, computed from the measurements and the profile as the header says.
double expected_seconds(const model::Op& op, const MeasurementSet& raw, const model::CalibrationProfile& p) {
  const double o = *p.kernel_overhead_s;
  const double memory = op.bytes / (*p.memory_bandwidth * *p.hbm_efficiency);
  if (op.kind == model::OpKind::elementwise) {
    const auto& cls = p.elementwise.at(std::string(model::elementwise_class(op.name)));
    return o + op.bytes / (*p.memory_bandwidth * cls.efficiency);
  }
  double log_sum = 0;
  int count = 0;
  for (const Record& r : raw.records) {
    const bool same = op.kind == model::OpKind::gemm
                          ? r.kind == RecordKind::gemm && r.gemm.m == op.gemm.m && r.gemm.n == op.gemm.n && r.gemm.k == op.gemm.k
                          : r.kind == RecordKind::attention && r.attention.seq_kv == op.attention.seq_kv &&
                                (r.pass == "backward") == (op.pass == model::Pass::backward);
    if (same) log_sum += std::log(std::max(r.median_s - o, 0.1 * r.median_s)), ++count;
  }
  REQUIRE(count > 0);
  return std::max(std::exp(log_sum / count), memory) + o;
}

}  // namespace

TEST_CASE("measure, fit and predict on the CPU backend", "[calibrate][cli]") {
  const auto dir = scratch_dir("e2e");
  const std::string raw = (dir / "raw.json").string(), comm = (dir / "comm.json").string();
  const std::string profile = (dir / "profile.json").string(), report = (dir / "report.json").string();
  const Run measured = calibrate_cli({"measure", "--backend", "cpu", "--model", "llama3-8b:1", "--set", "model.hidden=64",
                                      "--set", "model.ffn_hidden=96", "--set", "model.heads=4", "--set", "model.kv_heads=2",
                                      "--set", "model.head_dim=16", "--seq", "64", "--seq-fractions", "1,0.5", "--warmup", "1",
                                      "--reps", "3", "--copy-bytes", "65536,1048576", "-o", raw});
  INFO(measured.err);
  REQUIRE(measured.code == kExitOk);
  const MeasurementSet set = load_measurements(raw);
  CHECK(set.device.backend == "cpu");
  CHECK(set.device.peak_flops > 0);
  std::map<RecordKind, int> kinds;
  for (const Record& r : set.records) {
    ++kinds[r.kind];
    CHECK(r.times_s.size() == 3);
    CHECK(r.median_s > 0);
  }
  CHECK(kinds[RecordKind::layer] == 2);
  CHECK(kinds[RecordKind::attention] == 4);  // forward and backward at 64 and 32 tokens
  CHECK(kinds[RecordKind::gemm] >= 12);

  REQUIRE(calibrate_cli({"import-nccl-tests", data("dgx-h100-nvls-all-reduce.txt"), "-o", comm}).code == kExitOk);
  const Run fitted = calibrate_cli({"fit", raw, comm, "-o", profile, "--report", report});
  INFO(fitted.out << fitted.err);
  REQUIRE(fitted.code == kExitOk);
  CHECK_THAT(fitted.out, Catch::Contains("Whole layer forward + backward"));
  const model::CalibrationProfile p = model::load_calibration_profile(profile);
  CHECK(p.backend == "cpu");
  CHECK(p.collectives.count("all_reduce/intra_node") == 1);  // compute from one file, collectives from the other
  REQUIRE(p.kernel_overhead_s);
  REQUIRE(p.hbm_efficiency);

  // The profile makes the prediction of each measured layer what its measured ops say.
  const model::GpuSpec device = measured_gpu_spec(set.device);
  const model::ComputeCostModel calibrated(device, &p), preset(device);
  for (const Record& r : set.records) {
    if (r.kind != RecordKind::layer) continue;
    const LayerDims& d = r.layer;
    const auto program = model::layer_program(single_rank_model(d), single_rank_plan(d), d.seq);
    double expected = 0;
    for (const auto* ops : {&program.forward, &program.backward})
      for (const model::Op& op : *ops) expected += expected_seconds(op, set, p);
    INFO(d.label());
    int outside = -1;
    CHECK(predicted_layer_seconds(calibrated, d, &outside) == Approx(expected).epsilon(1e-9));
    CHECK(outside == 0);
    CHECK(std::fabs(predicted_layer_seconds(preset, d) / expected - 1) > 0.01);  // the profile changed it
  }

  const Run compared = calibrate_cli({"compare", profile, raw});
  CHECK(compared.code == kExitOk);
  CHECK_THAT(compared.out, Catch::Contains("b1 s64 h64 q4 kv2 d16 f96"));
  CHECK_THAT(compared.out, Catch::Contains("b1 s32 h64 q4 kv2 d16 f96"));
  // The same table as CSV: on stdout instead of the text, or to a file with the text.
  const Run csv = calibrate_cli({"compare", profile, raw, "--csv", "-"});
  CHECK(csv.code == kExitOk);
  CHECK_THAT(csv.out, Catch::StartsWith(
                          "layer,measured_s,preset_s,preset_error,calibrated_s,calibrated_error,extrapolated_ops\n"));
  CHECK_THAT(csv.out, Catch::Contains("\nb1 s64 h64 q4 kv2 d16 f96,"));
  CHECK(std::count(csv.out.begin(), csv.out.end(), '\n') == 3);
  const std::string table = (dir / "layers.csv").string();
  const Run both = calibrate_cli({"compare", profile, raw, "--csv", table});
  CHECK(both.code == kExitOk);
  CHECK_THAT(both.out, Catch::Contains("Whole layer forward + backward"));
  CHECK(model::read_text_file(table, "CSV") == csv.out);

  std::ostringstream out, err;
  CHECK(cli::run({"model", "llama3-8b", "--calibration", profile}, out, err) == cli::kExitOk);
  CHECK_THAT(out.str(), Catch::Contains("Calibration " + profile));
  CHECK_THAT(out.str(), Catch::Contains("measured on a CPU"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("bad input: one line naming the file and pointer, exit 2, nothing written", "[calibrate][cli]") {
  const auto dir = scratch_dir("bad-input");
  const std::string bad = (dir / "bad.json").string(), profile = (dir / "profile.json").string();
  model::write_file_atomically(bad, R"({"format": "herd-measurements", "version": 1, "device": {"name": "x"},
    "records": [{"kind": "gemm", "op": "g", "shape": {"m": 1, "n": 0, "k": 1}, "median_s": 1}]})");
  const Run r = calibrate_cli({"fit", bad, "-o", profile});
  CHECK(r.code == kExitBadInput);
  CHECK(r.err == "herd-calibrate: " + bad + ": /records/0/shape/n: expected a positive integer, got 0\n");
  CHECK_FALSE(std::filesystem::exists(profile));
  const Run unknown = calibrate_cli({"measure", "--backend", "cpu", "--model", "llama3-8b:3", "-o", profile});
  CHECK(unknown.code == kExitBadInput);
  CHECK_THAT(unknown.err, Catch::Contains("--model llama3-8b:3"));
  CHECK_FALSE(std::filesystem::exists(profile));
  const Run sustain = calibrate_cli({"measure", "--backend", "cpu", "--no-layers", "--sustain", "10", "-o", profile});
  CHECK(sustain.code == kExitBadInput);
  CHECK_THAT(sustain.err, Catch::Contains("--sustain") && Catch::Contains("needs whole layers"));
  CHECK_FALSE(std::filesystem::exists(profile));
  CHECK(calibrate_cli({"self-test", "--backend", "cpu"}).code == kExitOk);
  std::filesystem::remove_all(dir);
}

TEST_CASE("every command that writes files checks its paths before the run: exit 2, nothing run or written",
          "[calibrate][cli]") {
  const auto dir = scratch_dir("output-paths");
  const std::string missing = (dir / "no-such-dir" / "out.json").string(), ok = (dir / "out.json").string();
  const std::string folder = dir.string();
  const std::vector<std::vector<std::string>> runs = {
      {"measure", "--backend", "cpu", "--model", "llama3-8b:1", "-o", missing},
      {"measure", "--backend", "cpu", "-o", folder},
      {"import-nccl-tests", data("dgx-h100-nvls-all-reduce.txt"), "-o", missing},
      {"import-kineto", data("kineto-gemm-dtypes.json"), "-o", folder},
      {"fit", data("synthetic-gpu.json"), "-o", missing},
      {"fit", data("synthetic-gpu.json"), "-o", ok, "--report", missing},
      {"compare", data("dgx-h100-nvls-all-reduce.profile.json"), data("synthetic-gpu.json"), "--csv", missing},
  };
  for (const auto& args : runs) {
    INFO(args[0] << " " << args.back());
    const Run r = calibrate_cli(args);
    CHECK(r.code == kExitBadInput);
    CHECK(r.out.empty());
    CHECK(r.err.find('\n') == r.err.size() - 1);  // one line: no progress, nothing measured
    CHECK_THAT(r.err, Catch::StartsWith("herd-calibrate: --"));
    CHECK_FALSE(std::filesystem::exists(ok));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a dash (-) reads an input file from standard input, named <stdin>", "[calibrate][cli]") {
  const auto dir = scratch_dir("stdin");
  const std::string raw = (dir / "raw.json").string();
  const std::string nccl = model::read_text_file(data("dgx-h100-nvls-all-reduce.txt"), "test data");
  const Run piped = with_stdin(nccl, {"import-nccl-tests", "-", "--collective", "all_reduce", "-o", raw});
  INFO(piped.err);
  REQUIRE(piped.code == kExitOk);
  const Run named =
      calibrate_cli({"import-nccl-tests", data("dgx-h100-nvls-all-reduce.txt"), "-o", (dir / "named.json").string()});
  REQUIRE(named.code == kExitOk);
  CHECK(load_measurements(raw).records.size() == load_measurements(dir / "named.json").records.size());

  const Run bad = with_stdin(R"({"traceEvents": {}})", {"import-kineto", "-", "-o", (dir / "none.json").string()});
  CHECK(bad.code == kExitBadInput);
  CHECK(bad.err == "herd-calibrate: <stdin>: /traceEvents: not a Chrome trace (expected a traceEvents array)\n");
  const Run fit = with_stdin(model::read_text_file(data("synthetic-gpu.json"), "test data"),
                             {"fit", "-", "-o", (dir / "profile.json").string()});
  INFO(fit.err);
  CHECK(fit.code == kExitOk);
  CHECK(calibrate_cli({"fit", (dir / "missing.json").string(), "-o", (dir / "p.json").string()}).code == kExitBadInput);
  std::filesystem::remove_all(dir);
}

TEST_CASE("output - goes to standard output with the text on standard error, and standard input is read once",
          "[calibrate][cli]") {
  const auto dir = scratch_dir("stdout");
  // import-nccl-tests -o -: the raw file is standard output, byte for byte what -o FILE writes.
  const std::string log = data("dgx-h100-nvls-all-reduce.txt");
  const Run piped = calibrate_cli({"import-nccl-tests", log, "-o", "-"});
  REQUIRE(piped.code == kExitOk);
  const Run named = calibrate_cli({"import-nccl-tests", log, "-o", (dir / "raw.json").string()});
  REQUIRE(named.code == kExitOk);
  CHECK(piped.out == model::read_text_file(dir / "raw.json", "test"));
  CHECK_THAT(piped.err, Catch::Contains("collective records to <stdout>"));
  CHECK_THAT(named.out, Catch::Contains("collective records to " + (dir / "raw.json").string()));
  CHECK(!std::filesystem::exists("-"));  // no file named "-"

  // fit -o -: the profile on standard output (it parses as one), the summary on standard error.
  const Run fit = calibrate_cli({"fit", data("synthetic-gpu.json"), "-o", "-"});
  INFO(fit.err);
  REQUIRE(fit.code == kExitOk);
  const auto profile = nlohmann::json::parse(fit.out);
  CHECK(profile["format"] == "herd-calibration");
  CHECK_THAT(fit.err, Catch::Contains("wrote <stdout>"));

  // compare reads its profile from standard input: the same table as from the file.
  const std::string profile_file = (dir / "profile.json").string(), cpu = data("cpu-xeon-2threads-2026-11-27.json");
  REQUIRE(calibrate_cli({"fit", cpu, "-o", profile_file}).code == kExitOk);
  const Run from_file = calibrate_cli({"compare", profile_file, cpu});
  const Run from_stdin = with_stdin(model::read_text_file(profile_file, "test"), {"compare", "-", cpu});
  INFO(from_stdin.err);
  REQUIRE(from_stdin.code == kExitOk);
  CHECK_THAT(from_stdin.out, Catch::Contains("after: <stdin>"));
  CHECK(from_stdin.out.substr(from_stdin.out.find('\n')) == from_file.out.substr(from_file.out.find('\n')));

  // Standard input once: a second "-" would read nothing.
  const Run twice = with_stdin(fit.out, {"compare", "-", "-"});
  CHECK(twice.code == kExitBadInput);
  CHECK(twice.err == "herd-calibrate: raw: standard input (-) can be read once: give it for one of the inputs only\n");
  CHECK(calibrate_cli({"fit", "-", "-", "-o", profile_file}).code == kExitBadInput);
  CHECK(calibrate_cli({"import-nccl-tests", "-", "-", "-o", "-"}).code == kExitBadInput);
  std::filesystem::remove_all(dir);
}

TEST_CASE("import-kineto and fit print the records by dtype and everything left out", "[calibrate][cli]") {
  const auto dir = scratch_dir("kineto");
  const std::string raw = (dir / "raw.json").string(), profile = (dir / "profile.json").string();
  const Run imported = calibrate_cli({"import-kineto", data("kineto-gemm-dtypes.json"), "-o", raw});
  INFO(imported.out << imported.err);
  REQUIRE(imported.code == kExitOk);
  CHECK_THAT(imported.out, Catch::Contains("bf16: 4 records (5 calls)\n"));
  CHECK_THAT(imported.out, Catch::Contains("fp32: 1 records (1 calls); left out of the fit, which takes bf16 only"));
  CHECK_THAT(imported.out, Catch::Contains("fp8_e4m3: 1 records (1 calls); left out of the fit"));
  CHECK_THAT(imported.out, Catch::Contains("_LinearBackward") && Catch::Contains("Transformer Engine module"));
  CHECK_THAT(imported.out, Catch::Contains("(no CPU op)"));
  const Run fitted = calibrate_cli({"fit", raw, "-o", profile});
  INFO(fitted.out << fitted.err);
  REQUIRE(fitted.code == kExitOk);
  CHECK_THAT(fitted.out, Catch::Contains("fp32: the fit takes bf16 records only"));
  const auto doc = nlohmann::json::parse(model::read_text_file(profile, "profile"));
  CHECK(doc.at("report").at("skipped").size() == 7);

  const std::string broken = (dir / "broken.json").string();
  model::write_file_atomically(broken, R"({"traceEvents": {}})");
  const Run bad = calibrate_cli({"import-kineto", broken, "-o", (dir / "none.json").string()});
  CHECK(bad.code == kExitBadInput);
  CHECK(bad.err == "herd-calibrate: " + broken + ": /traceEvents: not a Chrome trace (expected a traceEvents array)\n");
  CHECK_FALSE(std::filesystem::exists(dir / "none.json"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("herd-calibrate --help names the files its commands take, not CLI11's TEXT", "[calibrate][cli]") {
  for (const char* command : {"fit", "fit-runs", "compare", "import-nccl-tests", "import-kineto"}) {
    INFO(command);
    const Run r = calibrate_cli({command, "--help"});
    REQUIRE(r.code == kExitOk);
    CHECK_THAT(r.out, Catch::Contains("FILE"));
    CHECK_THAT(r.out, !Catch::Contains("TEXT"));
  }
}

TEST_CASE("herd-calibrate: --version, a usage line when run bare, the command meant when one is mistyped", "[calibrate][cli]") {
  const Run version = calibrate_cli({"--version"});
  CHECK(version.code == 0);
  CHECK(version.out == "herd-calibrate 0.1.0\n");
  const Run bare = calibrate_cli({});
  CHECK(bare.code == 2);
  CHECK_THAT(bare.err, Catch::StartsWith("herd-calibrate: usage: herd-calibrate <command>") && Catch::Contains("fit-runs"));
  const Run typo = calibrate_cli({"fit-run", "runs.json"});
  CHECK(typo.code == 2);
  CHECK_THAT(typo.err, Catch::Contains("unknown command \"fit-run\" (did you mean \"fit-runs\"?)"));
}
