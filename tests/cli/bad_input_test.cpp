// Bad input of every kind gets one line naming its source and JSON pointer, exit code 2, and writes
// nothing; a failure while running is exit code 1 naming what failed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "run_herd.hpp"

namespace fs = std::filesystem;

namespace {

fs::path write_temp(const std::string& name, const std::string& text) {
  const fs::path path = fs::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// One line, short enough to read, on stderr; nothing on stdout.
void check_one_line(const HerdRun& r) {
  CHECK(r.out.empty());
  REQUIRE_FALSE(r.err.empty());
  CHECK(r.err.find('\n') == r.err.size() - 1);
  CHECK(r.err.size() <= 320);
}

}  // namespace

TEST_CASE("JSON nested deeper than the limit is refused naming the file, without overflowing the stack",
          "[cli][errors]") {
  const fs::path file = write_temp("herd_deep.json", "{\"plan\": {\"tp\": " + nested_arrays(100000) + "}}");
  const HerdRun r = run_herd({"model", file.string()});
  CHECK(r.code == 2);
  check_one_line(r);
  CHECK_THAT(r.err, Catch::Contains(file.string()) && Catch::Contains("nesting deeper than 256"));

  const HerdRun set = run_herd({"model", "llama3-8b", "--set", "plan.tp=" + nested_arrays(5000)});
  CHECK(set.code == 2);
  check_one_line(set);
  CHECK_THAT(set.err, Catch::Contains("--set plan.tp=[[[") && Catch::Contains("nesting deeper than 256"));

  const HerdRun profile = run_herd({"simulate", "llama3-8b", "--calibration", file.string()});
  CHECK(profile.code == 2);
  check_one_line(profile);
  CHECK_THAT(profile.err, Catch::Contains(file.string()) && Catch::Contains("nesting deeper than 256"));

  const fs::path scenario = write_temp("herd_deep_hf.json", "{\"model\": {\"hf_config\": \"" + file.string() + "\"}}");
  const HerdRun hf = run_herd({"model", scenario.string()});
  CHECK(hf.code == 2);
  check_one_line(hf);
  CHECK_THAT(hf.err, Catch::Contains("nesting deeper than 256"));
}

TEST_CASE("an echoed bad value is cut to about 80 characters", "[cli][errors]") {
  std::string wide = "[";
  for (int i = 0; i < 100000; ++i) wide += (i ? ",1" : "1");
  wide += "]";
  const fs::path file = write_temp("herd_wide.json", "{\"plan\": {\"tp\": " + wide + "}}");
  const HerdRun r = run_herd({"model", file.string()});
  CHECK(r.code == 2);
  check_one_line(r);
  CHECK_THAT(r.err, Catch::Contains("/plan/tp") && Catch::Contains("\u2026"));

  // Nested within the limit: echoed without walking the whole value.
  const fs::path nested = write_temp("herd_nested.json", "{\"plan\": {\"tp\": " + nested_arrays(250) + "}}");
  const HerdRun n = run_herd({"model", nested.string()});
  CHECK(n.code == 2);
  check_one_line(n);
  CHECK_THAT(n.err, Catch::Contains("/plan/tp"));
}

TEST_CASE("a number no double holds is bad input naming the file", "[cli][errors]") {
  const fs::path file = write_temp("herd_huge_number.json", "{\"plan\": {\"tp\": 1e400}}");
  const HerdRun r = run_herd({"model", file.string()});
  CHECK(r.code == 2);
  check_one_line(r);
  CHECK_THAT(r.err, Catch::Contains(file.string()));
  const HerdRun set = run_herd({"model", "llama3-8b", "--set", "plan.tp=1e400"});
  CHECK(set.code == 2);
  CHECK_THAT(set.err, Catch::Contains("/plan/tp"));
}

TEST_CASE("a bare number for a dimensioned key is refused, naming the unit it would have been in", "[cli][errors]") {
  // 400 for a NIC's bandwidth would be 400 B/s: a 6,797-day step.
  const HerdRun r = run_herd({"simulate", "--set", "cluster.nic.bandwidth=400"});
  CHECK(r.code == 2);
  check_one_line(r);
  CHECK_THAT(r.err, Catch::Contains("/cluster/nic/bandwidth: needs a unit") && Catch::Contains("400 B/s"));
  const fs::path file = write_temp("herd_bare_number.json", "{\"cluster\": {\"gpu\": {\"memory\": 80}}}");
  const HerdRun f = run_herd({"model", file.string()});
  CHECK(f.code == 2);
  CHECK_THAT(f.err, Catch::Contains(file.string()) && Catch::Contains("/cluster/gpu/memory"));
  // Zero needs no unit; counts take plain numbers.
  CHECK(run_herd({"model", "llama3-8b", "--set", "cluster.nic.latency=0", "--set", "run.tokens=1T"}).code == 0);
}

TEST_CASE("efficiencies and shares must be above 0 and at most 1", "[cli][errors]") {
  for (const char* key : {"cluster.nic.efficiency", "cluster.intra_node.efficiency", "cluster.gpu.efficiency.gemm",
                          "cluster.gpu.efficiency.attention_fwd", "cluster.gpu.efficiency.attention_bwd",
                          "cluster.gpu.efficiency.hbm", "cluster.gpu.efficiency.sustained",
                          "cluster.collectives.nvls_efficiency", "reliability.checkpoint.bandwidth_share"}) {
    INFO(key);
    const HerdRun r = run_herd({"simulate", "llama3-8b", "--set", std::string(key) + "=0"});
    CHECK(r.code == 2);
    check_one_line(r);
    CHECK_THAT(r.err, Catch::Contains("must be above 0 and at most 1"));
  }
  const HerdRun r = run_herd({"simulate", "llama3-8b", "--set", "cluster.nic.efficiency=0"});
  CHECK(r.err == "herd: --set cluster.nic.efficiency=0: /cluster/nic/efficiency: must be above 0 and at most 1, got 0\n");
}

TEST_CASE("NICs per node that do not divide the node's GPUs are refused by herd model too", "[cli][errors]") {
  const HerdRun r = run_herd({"model", "llama3-8b", "--set", "cluster.nic.per_node=3"});
  CHECK(r.code == 2);
  check_one_line(r);
  CHECK_THAT(r.err, Catch::Contains("--set cluster.nic.per_node=3") && Catch::Contains("/cluster/nic/per_node"));
}

TEST_CASE("herd collective --group refuses repeated ranks and numbers that are not whole ranks", "[cli][errors]") {
  for (const char* group : {"0,0,0", "0-3,2", "1e3", "1.5", "0x1", "+1", "3-"}) {
    INFO(group);
    const HerdRun r = run_herd({"collective", "llama3-8b", "--group", group});
    CHECK(r.code == 2);
    check_one_line(r);
    CHECK_THAT(r.err, Catch::StartsWith("herd: --group: "));
  }
}

TEST_CASE("simulated time past 64-bit nanoseconds is bad input naming the scenario and the keys set", "[cli][errors]") {
  for (const char* set : {"model.seq_len=2147483648", "cluster.gpu.hbm_bandwidth=1 B/s", "cluster.nic.latency=1e30 d"}) {
    INFO(set);
    const HerdRun r = run_herd({"simulate", "llama3-8b", "--set", set});
    CHECK(r.code == 2);
    check_one_line(r);
    CHECK_THAT(r.err, Catch::StartsWith("herd: built-in llama3-8b: simulated time passes 64-bit nanoseconds"));
    const std::string key = std::string(set).substr(0, std::string(set).find('='));
    std::string pointer = "/" + key;
    for (char& c : pointer) c = c == '.' ? '/' : c;
    CHECK_THAT(r.err, Catch::Contains(pointer));
  }
  // herd plan simulates layouts of the same scenario: the same bad input, not a failure (exit 1).
  for (const char* set : {"cluster.gpu.hbm_bandwidth=1 B/s", "cluster.nic.latency=1e30 d"}) {
    INFO(set);
    const HerdRun r = run_herd(
        {"plan", "llama3-8b", "--set", set, "--tp", "1,2", "--pp", "1", "--cp", "1", "--top", "1", "--no-robustness"});
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::EndsWith("\n") &&
                          Catch::Contains("herd: built-in llama3-8b: simulated time passes 64-bit nanoseconds"));
    CHECK(r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1).rfind("herd: built-in llama3-8b: ", 0) == 0);
  }
}

TEST_CASE("sizes, seeds and quantities out of range are bad input, not a wrong answer", "[cli][errors]") {
  const HerdRun bytes = run_herd({"collective", "llama3-8b", "--group", "tp", "--bytes", "18446744073709551616"});
  CHECK(bytes.code == 2);
  check_one_line(bytes);
  CHECK_THAT(bytes.err, Catch::Contains("--bytes"));
  CHECK(run_herd({"collective", "llama3-8b", "--group", "tp", "--sweep", "1MiB:1e30GiB"}).code == 2);

  const HerdRun seed = run_herd({"train", "llama3-8b", "--trials", "2", "--seed", "-1"});
  CHECK(seed.code == 2);
  check_one_line(seed);
  CHECK_THAT(seed.err, Catch::Contains("--seed"));

  const HerdRun memory = run_herd({"model", "llama3-8b", "--set", "cluster.gpu.memory=1e308 GB"});
  CHECK(memory.code == 2);
  check_one_line(memory);
  CHECK_THAT(memory.err, Catch::Contains("/cluster/gpu/memory") && Catch::Contains("too large"));
}

TEST_CASE("output paths are checked before the run, and a failed write is exit 1 naming the path", "[cli][errors]") {
  const HerdRun empty = run_herd({"simulate", "llama3-8b", "--trace", ""});
  CHECK(empty.code == 2);
  check_one_line(empty);
  CHECK_THAT(empty.err, Catch::StartsWith("herd: --trace: "));

  const fs::path missing_dir = fs::temp_directory_path() / "herd_no_such_dir" / "trace.json";
  const HerdRun missing = run_herd({"simulate", "llama3-8b", "--trace", missing_dir.string()});
  CHECK(missing.code == 2);
  CHECK(missing.out.empty());
  CHECK_THAT(missing.err, Catch::Contains(missing_dir.string()));

  const HerdRun directory = run_herd({"train", "llama3-8b", "--trials", "2", "--timeline", fs::temp_directory_path().string()});
  CHECK(directory.code == 2);
  CHECK_THAT(directory.err, Catch::StartsWith("herd: --timeline: "));

  CHECK(run_herd({"plan", "llama3-8b", "--csv", ""}).code == 2);
  CHECK(run_herd({"plan", "llama3-8b", "-o", missing_dir.string()}).code == 2);

  if (fs::is_character_file("/dev/full")) {
    const HerdRun full = run_herd({"simulate", "llama3-8b", "--trace", "/dev/full"});
    CHECK(full.code == 1);
    CHECK_THAT(full.err, Catch::Contains("/dev/full"));
    CHECK(fs::is_character_file("/dev/full"));  // written to, not replaced
  }
}

TEST_CASE("every command that prints a table checks --csv before the run, and refuses - with --json",
          "[cli][errors][csv]") {
  const fs::path missing_dir = fs::temp_directory_path() / "herd_no_such_dir" / "table.csv";
  const std::vector<std::vector<std::string>> commands = {{"model", "llama3-8b"},
                                                          {"simulate", "llama3-8b"},
                                                          {"train", "llama3-8b", "--trials", "2"},
                                                          {"collective", "llama3-8b", "--group", "tp"},
                                                          {"plan", "llama3-8b", "--tp", "1", "--pp", "1", "--top",
                                                           "1"}};
  for (const auto& command : commands) {
    INFO(command[0]);
    for (const std::string& path : {std::string(), missing_dir.string(), fs::temp_directory_path().string()}) {
      auto args = command;
      args.insert(args.end(), {"--csv", path});
      const HerdRun r = run_herd(args);
      CHECK(r.code == 2);
      check_one_line(r);
      CHECK_THAT(r.err, Catch::StartsWith("herd: --csv: "));
    }
    auto args = command;
    args.insert(args.end(), {"--json", "--csv", "-"});
    const HerdRun r = run_herd(args);
    CHECK(r.code == 2);
    CHECK(r.err == "herd: --csv: - (standard output) already carries --json\n");
  }
}

TEST_CASE("herd: --version, a usage line when run bare, the command or flag meant when one is mistyped", "[cli][errors]") {
  const HerdRun version = run_herd({"--version"});
  CHECK(version.code == 0);
  CHECK(version.out == "herd 0.1.0\n");
  const HerdRun bare = run_herd({});
  CHECK(bare.code == 2);
  check_one_line(bare);
  CHECK_THAT(bare.err, Catch::StartsWith("herd: usage: herd <command>") && Catch::Contains("simulate"));
  const HerdRun command = run_herd({"simulat"});
  CHECK(command.code == 2);
  CHECK_THAT(command.err, Catch::Contains("unknown command \"simulat\" (did you mean \"simulate\"?)"));
  const HerdRun flag = run_herd({"simulate", "--jsn"});
  CHECK(flag.code == 2);
  check_one_line(flag);
  CHECK_THAT(flag.err, Catch::Contains("--jsn (did you mean --json?)"));
}

// Classes the fuzz targets found (fuzz/corpus holds their inputs too; docs/fuzzing.md).
TEST_CASE("fuzz findings: long keys and tokens are cut, text that is not UTF-8 is refused", "[cli][errors][fuzz]") {
  // An unknown key of 600 characters is echoed in the pointer and the message: both cut.
  const fs::path key = write_temp("herd_long_key.json", "{\"cluster\": {\"nic" + std::string(600, '{') + "\": 1}}");
  const HerdRun r = run_herd({"model", key.string()});
  CHECK(r.code == 2);
  check_one_line(r);
  CHECK_THAT(r.err, Catch::Contains(key.string()) && Catch::Contains("unknown key"));

  // An unterminated string: the JSON library quotes all of it; only its end is kept.
  const fs::path open = write_temp("herd_open_string.json", "{\"name\": \"" + std::string(2000, 'x'));
  const HerdRun s = run_herd({"model", open.string()});
  CHECK(s.code == 2);
  check_one_line(s);
  CHECK_THAT(s.err, Catch::Contains("malformed JSON"));

  // A key with a newline in it stays one line.
  const HerdRun nl = run_herd({"model", "llama3-8b", "--set", "plan.t\np=4"});
  CHECK(nl.code == 2);
  check_one_line(nl);

  // An override that is not UTF-8 would break --json; it is refused naming --set.
  const HerdRun bad = run_herd({"simulate", "llama3-8b", "--json", "--set", "model.name=\xfb\xfc"});
  CHECK(bad.code == 2);
  check_one_line(bad);
  CHECK_THAT(bad.err, Catch::Contains("--set") && Catch::Contains("invalid UTF-8 at byte 11"));
}

TEST_CASE("fuzz findings: more micro-batches than a step simulates are refused up front", "[cli][errors][fuzz]") {
  // llama3-8b: dp 256, micro-batch 1; 2^32 sequences are 16,777,216 micro-batches per pipeline
  // (before: 22 s, 2.3 GB and bad_alloc, exit 1).
  const HerdRun r = run_herd({"simulate", "llama3-8b", "--set", "plan.global_batch=4294967296"});
  CHECK(r.code == 2);
  check_one_line(r);
  CHECK_THAT(r.err, Catch::Contains("/plan/global_batch") && Catch::Contains("16777216 micro-batches per pipeline") &&
                        Catch::Contains("at most 8192"));
  // The limit itself is allowed: 8,192 x 256 sequences.
  CHECK(run_herd({"model", "llama3-8b", "--set", "plan.global_batch=2097152"}).code == 0);
}

TEST_CASE("fuzz findings: a failure rate at which no run can progress is refused, not simulated without end",
          "[cli][errors][fuzz]") {
  // 1e12 x the default rates: an interruption every few nanoseconds against minutes of recovery
  // (before: herd train never ended).
  const HerdRun r = run_herd({"train", "llama3-8b", "--trials", "3", "--set", "run.tokens=1T", "--set",
                              "reliability.failure_multiplier=1e12"});
  CHECK(r.code == 2);
  check_one_line(r);
  CHECK_THAT(r.err, Catch::Contains("/reliability/failure_multiplier") && Catch::Contains("no run can progress"));
  // Ten times the default rates still trains.
  CHECK(run_herd({"train", "llama3-8b", "--trials", "3", "--set", "run.tokens=1T", "--set",
                  "reliability.failure_multiplier=10"}).code == 0);
}

TEST_CASE("fuzz findings: a near-zero NIC efficiency from a profile is time overflow naming the profile, not a deadlock",
          "[cli][errors][fuzz]") {
  // 1e-308 is in (0, 1], so it passes the profile's checks; the step's sends then end past 64-bit
  // time (before: "step simulation deadlocked" and an abort).
  const fs::path profile = write_temp("herd_tiny_nic.profile.json",
                                      R"({"format": "herd-calibration", "version": 2, "compute": {"sustained_fraction": 0.8},)"
                                      R"( "network": {"nic_efficiency": 1e-308}})");
  const HerdRun r = run_herd({"simulate", "llama3-8b", "--calibration", profile.string()});
  CHECK(r.code == 2);
  check_one_line(r);
  CHECK_THAT(r.err, Catch::Contains("64-bit nanoseconds") && Catch::Contains("calibration profile " + profile.string()) &&
                        Catch::Contains("/cluster/nic/efficiency"));
  // The same through --set.
  const HerdRun set = run_herd({"simulate", "llama3-8b", "--set", "cluster.nic.efficiency=1e-308"});
  CHECK(set.code == 2);
  CHECK_THAT(set.err, Catch::Contains("64-bit nanoseconds") && Catch::Contains("--set: /cluster/nic/efficiency"));
  // A bandwidth whose op times overflow a double (bytes / 1e-308 B/s = inf s): the same answer.
  const HerdRun hbm = run_herd({"simulate", "llama3-8b", "--set", "cluster.gpu.hbm_bandwidth=1e-308 B/s"});
  CHECK(hbm.code == 2);
  CHECK_THAT(hbm.err, Catch::Contains("64-bit nanoseconds") && Catch::Contains("--set: /cluster/gpu/hbm_bandwidth"));
}

TEST_CASE("bad trace filters are one line naming the flag, before the run, and write nothing", "[cli][errors][trace]") {
  const fs::path path = fs::temp_directory_path() / "herd_bad_filter_trace.json";
  fs::remove(path);
  const std::vector<std::string> small = {"simulate", "llama3-8b", "--set", "cluster.num_gpus=16", "--set", "plan.dp=16",
                                          "--set", "plan.global_batch=16", "--per-rank", "--trace", path.string()};
  auto with = [&](std::initializer_list<std::string> more) {
    auto args = small;
    args.insert(args.end(), more);
    return run_herd(args);
  };
  const HerdRun stream = with({"--trace-streams", "compute,nvlink"});
  CHECK(stream.code == 2);
  check_one_line(stream);
  CHECK(stream.err == "herd: --trace-streams: unknown stream \"nvlink\" (valid: compute, tp_comm, cp_comm, pp_comm, dp_comm)\n");
  const HerdRun rank = with({"--trace-ranks", "0-16"});
  CHECK(rank.code == 2);
  check_one_line(rank);
  CHECK(rank.err == "herd: --trace-ranks: rank 16 is not among the plan's 16\n");
  const HerdRun empty = with({"--trace-ranks", ""});
  CHECK(empty.code == 2);
  check_one_line(empty);
  CHECK_THAT(empty.err, Catch::StartsWith("herd: --trace-ranks: "));
  CHECK_FALSE(fs::exists(path));
  // A filter without a trace to filter.
  const HerdRun alone = run_herd({"simulate", "llama3-8b", "--trace-ranks", "0-7"});
  CHECK(alone.code == 2);
  check_one_line(alone);
  CHECK_THAT(alone.err, Catch::Contains("--trace-ranks") && Catch::Contains("--trace"));
}

TEST_CASE("fuzz findings: a transfer split into more ECMP flows than modelled is refused, not routed for minutes",
          "[cli][errors][fuzz]") {
  // Routing walks every flow of every transfer: 429,496,729 flows ran past 60 s (1e9 ran fast
  // only by accident); at most 1,024 are taken.
  const HerdRun r = run_herd({"simulate", "llama3-8b", "--set", "cluster.topology.ecmp_flows=429496729"});
  CHECK(r.code == 2);
  check_one_line(r);
  CHECK_THAT(r.err, Catch::Contains("/cluster/topology/ecmp_flows") && Catch::Contains("at most 1024"));
  CHECK(run_herd({"model", "llama3-8b", "--set", "cluster.topology.ecmp_flows=1024"}).code == 0);

  // Likewise layers: 16Mi of them ran out of memory (bad_alloc, exit 1) in herd train.
  const HerdRun layers = run_herd({"train", "llama3-8b", "--set", "run.tokens=1T", "--set", "model.layers=16Mi"});
  CHECK(layers.code == 2);
  check_one_line(layers);
  CHECK_THAT(layers.err, Catch::Contains("/model/layers") && Catch::Contains("at most 2048"));
}

TEST_CASE("fuzz findings: model widths past 2^20 are refused before parameter counts overflow 64 bits",
          "[cli][errors][fuzz]") {
  // UBSan under herd_fuzz_scenario: hidden x ffn x layers overflowed int64 in count_parameters.
  for (const std::string set : {"model.hidden=1099511627776", "model.ffn_hidden=1099511627776", "model.vocab=1e12",
                                "model.head_dim=1099511627776"}) {
    const HerdRun r = run_herd({"model", "llama3-8b", "--set", set});
    CHECK(r.code == 2);
    check_one_line(r);
    CHECK_THAT(r.err, Catch::Contains("modelled"));
  }
}

TEST_CASE("an oversubscription past 1000:1 is refused, naming its key", "[cli][errors]") {
  // A tier at 1e300:1 left each link 1e-300 of its bandwidth and the step's time to overflow; no
  // deployed fabric runs past about 8:1 (Llama 3's aggregation layer: 7:1).
  for (const char* key : {"pod_oversubscription", "aggregation_oversubscription", "leaf_oversubscription", "spine_oversubscription"}) {
    INFO(key);
    const HerdRun r = run_herd({"simulate", "llama3-8b", "--set", std::string("cluster.topology.") + key + "=1e300"});
    CHECK(r.code == 2);
    check_one_line(r);
    CHECK_THAT(r.err, Catch::Contains(std::string("/cluster/topology/") + key + ": 1e+300:1; at most 1000:1"));
    CHECK(run_herd({"model", "llama3-8b", "--set", std::string("cluster.topology.") + key + "=1000"}).code == 0);
  }
}

TEST_CASE("fuzz findings under UBSan: degrees whose product passes 2^31, a GPT-2 width past 2^61", "[cli][errors][fuzz]") {
  // tp 10^9 x pp 8 wrapped around in the int product of the plan's degrees.
  const HerdRun wide = run_herd({"model", "llama3-8b", "--set", "plan.tp=1000000000", "--set", "plan.pp=8"});
  CHECK(wide.code == 2);
  check_one_line(wide);
  CHECK_THAT(wide.err, Catch::Contains("--set plan.tp=1000000000: /plan/tp: tp 1000000000 x cp 1 x pp 8 x dp ") && Catch::Contains("= over 2^31 GPUs"));
  // A GPT-2 config with n_inner null takes 4 x n_embd, which wrapped around for n_embd near 2^63;
  // the width is refused by the scenario's bound instead.
  const fs::path config = write_temp("herd_hf_huge.json",
                                     R"({"n_embd": 9223372036854775807, "n_layer": 2, "n_head": 2, "vocab_size": 100, "n_inner": null})");
  const fs::path scenario = write_temp("herd_hf_huge_scenario.json", "{\"model\": {\"hf_config\": \"" + config.string() + "\"}}");
  const HerdRun hf = run_herd({"model", scenario.string()});
  CHECK(hf.code == 2);
  check_one_line(hf);
}
