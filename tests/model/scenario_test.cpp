// Loading scenarios: presets, overrides, Hugging Face import, and one-line errors that name the
// source and the JSON pointer (messages pinned).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "herd/model/error.hpp"
#include "herd/model/scenario.hpp"
#include "stdin_from.hpp"

using namespace herd::model;
using nlohmann::json;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("herd_test_" + name);
  std::ofstream(path) << text;
  return path;
}

std::vector<Override> sets(std::initializer_list<const char*> texts) {
  std::vector<Override> out;
  for (const char* t : texts) out.push_back(parse_override(t));
  return out;
}
}  // namespace

TEST_CASE("the default scenario is Llama 3 405B on 16,384 H100 with TP8 CP1 PP16 DP128", "[scenario]") {
  const Scenario s = default_scenario();
  CHECK(s.cluster.num_gpus == 16384);
  CHECK(s.cluster.gpu.peak_bf16_flops == Approx(989e12));
  CHECK(s.cluster.nic_bandwidth == Approx(50e9));
  CHECK(s.model.layers == 126);
  CHECK(s.plan.tp == 8);
  CHECK(s.plan.cp == 1);
  CHECK(s.plan.pp == 16);
  CHECK(s.plan.dp == 128);
  CHECK(s.plan.microbatches() == 16);
  CHECK(s.run.batch_schedule.size() == 3);
  CHECK(s.run.batch_schedule[2].start_tokens == Approx(2.87e12));
}

TEST_CASE("overrides given with --set reach any key and are validated again", "[scenario]") {
  const Scenario s = default_scenario(sets({"plan.tp=4", "plan.dp=256", "cluster.nic.bandwidth=200 Gbps"}));
  CHECK(s.plan.tp == 4);
  CHECK(s.cluster.nic_bandwidth == Approx(25e9));
  const Scenario m = default_scenario(sets({"model=llama3-70b", "plan.virtual_stages=5", "plan.layer_layout=uniform"}));
  CHECK(m.model.layers == 80);
  const Scenario l = default_scenario(sets({"model.seq_len=16384"}));
  CHECK(l.model.seq_len == 16384);
  CHECK(l.model.hidden == 16384);
}

TEST_CASE("presets by name, by object with overrides, and nested GPU presets", "[scenario]") {
  json doc = {{"cluster", {{"preset", "dgx-h100-superpod"}, {"num_gpus", 64}, {"gpu", "h200-sxm-141gb"}}},
              {"model", {{"preset", "llama3-8b"}, {"seq_len", 4096}}},
              {"plan", {{"tp", 8}, {"dp", 8}, {"global_batch", 64}}}};
  const Scenario s = scenario_from_json(doc, "inline");
  CHECK(s.cluster.gpu.memory_bytes == Approx(141.0 * (1ULL << 30)));
  CHECK(s.cluster.nic_bandwidth == Approx(50e9));
  CHECK(s.model.seq_len == 4096);
  CHECK(s.model.layers == 32);
  CHECK(s.source_of("/cluster/gpu/memory") == "preset h200-sxm-141gb");
  CHECK(s.source_of("/model/layers") == "preset llama3-8b");
  CHECK(s.source_of("/model/seq_len") == "inline");
}

TEST_CASE("a Hugging Face config.json imports as a model", "[scenario]") {
  const auto config = write_temp("config.json", R"({"hidden_size": 4096, "intermediate_size": 14336,
    "num_attention_heads": 32, "num_key_value_heads": 8, "num_hidden_layers": 32, "vocab_size": 128256,
    "tie_word_embeddings": false, "hidden_act": "silu", "model_type": "llama"})");
  json doc = {{"preset", "llama3-8b"}, {"model", {{"hf_config", config.filename().string()}, {"seq_len", 8192}}}};
  const Scenario s = scenario_from_json(doc, "inline", config.parent_path());
  CHECK(count_parameters(s.model).total == 8'030'261'248LL);
}

TEST_CASE("bad input: one line naming the source and the JSON pointer", "[scenario][errors]") {
  CHECK(error_of([] { default_scenario(sets({"plan.tpp=4"})); }) ==
        "--set plan.tpp=4: /plan/tpp: unknown key \"tpp\" (did you mean \"tp\"?)");
  // The degrees' product: named at the degree the user set, not at the file's data-parallel degree.
  CHECK(error_of([] { default_scenario(sets({"plan.tp=6"})); }) ==
        "--set plan.tp=6: /plan/tp: tp 6 x cp 1 x pp 16 x dp 128 = 12288 GPUs, but the cluster has 16384");
  CHECK(error_of([] { default_scenario(sets({"cluster.num_gpus=8192"})); }) ==
        "--set cluster.num_gpus=8192: /cluster/num_gpus: tp 8 x cp 1 x pp 16 x dp 128 = 16384 GPUs, but the cluster has 8192 (dp 64 would fill it)");
  CHECK(error_of([] { default_scenario(sets({"plan.tp=6", "plan.dp=0"})); }) ==
        "--set plan.dp=0: /plan/dp: must be at least 1, got 0");
  CHECK(error_of([] { default_scenario(sets({"cluster.nic.bandwidth=400 Gbs"})); }) ==
        "--set cluster.nic.bandwidth=400 Gbs: /cluster/nic/bandwidth: expected a bandwidth such as \"400 Gbps\" or "
        "\"50 GB/s\", got \"400 Gbs\"");
  CHECK(error_of([] { default_scenario(sets({"cluster.gpu.memory=-80 GiB"})); }) ==
        "--set cluster.gpu.memory=-80 GiB: /cluster/gpu/memory: must be positive, got \"-80 GiB\"");
  CHECK(error_of([] { default_scenario(sets({"plan.dp_sharding=zero4"})); }) ==
        "--set plan.dp_sharding=zero4: /plan/dp_sharding: \"zero4\" is not one of none, zero1, fsdp, zero3");
  CHECK(error_of([] { default_scenario(sets({"model=llama3-450b"})); }) ==
        "--set model=llama3-450b: /model/preset: unknown model preset \"llama3-450b\" (did you mean \"llama3-405b\"?)");
  CHECK(error_of([] { default_scenario(sets({"plan.tp"})); }) == "--set plan.tp: expected path=value, e.g. plan.tp=4");
  // An integer beyond what the key's integer holds is too large, not "not an integer".
  CHECK(error_of([] { default_scenario(sets({"plan.tp=9223372036854775807"})); }) ==
        "--set plan.tp=9223372036854775807: /plan/tp: too large: 9223372036854775807 (integers here stop at 9e18)");
  CHECK(error_of([] { default_scenario(sets({"plan.tp=2.5"})); }) == "--set plan.tp=2.5: /plan/tp: expected an integer, got 2.5");
}

TEST_CASE("bad files: malformed JSON with line and column, unknown keys with the file name", "[scenario][errors]") {
  const auto broken = write_temp("broken.json", "{\n  \"model\": \"llama3-8b\",\n  \"plan\": {\"tp\": 8,}\n}\n");
  const std::string e = error_of([&] { load_scenario(broken.string()); });
  CHECK(e.rfind(broken.string() + ": malformed JSON at line 3, column 20", 0) == 0);
  const auto unknown = write_temp("unknown.json", R"({"preset": "llama3-405b-16k", "plan": {"shcedule": "1f1b"}})");
  CHECK(error_of([&] { load_scenario(unknown.string()); }) ==
        unknown.string() + ": /plan/shcedule: unknown key \"shcedule\" (did you mean \"schedule\"?)");
  const auto wrong = write_temp("wrong.json", R"({"preset": "llama3-405b-16k", "cluster": {"num_gpus": "many"}})");
  CHECK(error_of([&] { load_scenario(wrong.string()); }) ==
        wrong.string() + ": /cluster/num_gpus: expected an integer, got \"many\"");
  CHECK(error_of([] { load_scenario("no-such-scenario"); }) ==
        "no-such-scenario: no such file, built-in scenario or model preset");
  CHECK(error_of([] { load_scenario("llama3-405b-16x"); }) ==
        "llama3-405b-16x: no such file, built-in scenario or model preset (did you mean \"llama3-405b-16k\"?)");
}

TEST_CASE("every built-in scenario loads", "[scenario]") {
  for (const char* name : {"llama3-405b-16k", "llama3-405b-8k", "llama3-405b-128k", "llama3-70b", "llama3-8b"}) {
    INFO(name);
    CHECK_NOTHROW(load_scenario(name));
  }
}

TEST_CASE("overrides reach into what presets provide, and naming a preset starts afresh", "[scenario]") {
  // The batch schedule comes from the built-in scenario, not from the user's document.
  const Scenario s = default_scenario(sets({"run.batch_schedule.1.seq_len=4096", "cluster.gpu=h200-sxm-141gb"}));
  CHECK(s.run.batch_schedule[1].seq_len == 4096);
  CHECK(s.cluster.gpu.memory_bytes == Approx(141.0 * (1ULL << 30)));
  CHECK(s.source_of("/cluster/gpu/memory") == "preset h200-sxm-141gb");
  const Scenario m = default_scenario(sets({"model.preset=llama3-70b", "plan.layer_layout=uniform", "plan.virtual_stages=5"}));
  CHECK(m.model.layers == 80);
  CHECK(m.model.hidden == 8192);
  CHECK(error_of([] { default_scenario(sets({"run.batch_schedule.7.seq_len=4096"})); }) ==
        "--set run.batch_schedule.7.seq_len=4096: /run/batch_schedule: has no element \"7\"");
}

TEST_CASE("the reliability section: defaults from Llama 3, classes merged by name", "[scenario][reliability]") {
  SECTION("defaults") {
    const auto& spec = default_scenario().reliability;
    CHECK(spec.failures.size() == 18);
    CHECK(spec.failure_multiplier == 1);
    CHECK(spec.detection_s == Approx(34));         // 4.096 us x 2^20 x 8 = 34.4 s
    CHECK(spec.restart_s == Approx(300));
    CHECK(spec.communicator_setup_per_gpu_s == Approx(2.7e-3));
    CHECK(spec.checkpoint.mode == CheckpointMode::sync);
    CHECK(spec.checkpoint.interval_s == 0);        // the simulated optimum
    CHECK(spec.checkpoint.host_copy_bandwidth == Approx(64e9));
    CHECK(spec.spares.nodes < 0);
    CHECK(spec.planned_rate_per_s == Approx(llama3_planned_rate_per_s()));
  }
  SECTION("an entry named like a default class changes only what it gives") {
    const auto base = llama3_failure_classes().front();
    const auto spec = default_scenario(sets({"reliability.failures.faulty_gpu.multiplier=2"})).reliability;
    const auto& f = spec.failures.front();
    CHECK(f.name == "faulty_gpu");
    CHECK(f.multiplier == 2);
    CHECK(f.rate_per_s == base.rate_per_s);
    CHECK(f.category == "GPU");
    CHECK(f.replaces_node);
    CHECK(spec.failures.size() == 18);
  }
  SECTION("a new class needs a rate and takes the table's defaults") {
    const auto spec = default_scenario(sets({"reliability.failure_defaults=none", "reliability.failures.cosmic.rate=1e-6 /h",
                                             "reliability.failures.cosmic.component=node"}))
                          .reliability;
    REQUIRE(spec.failures.size() == 1);
    CHECK(spec.failures[0].rate_per_s == Approx(1e-6 / 3600));
    CHECK(spec.failures[0].component == Component::node);
    CHECK(spec.failures[0].category == "unknown");
    CHECK(spec.failures[0].replaces_node);
    CHECK(spec.failures[0].distribution == Distribution::exponential);
  }
  SECTION("the rest of the section") {
    const auto spec = default_scenario(sets({"reliability.checkpoint.mode=async", "reliability.checkpoint.interval=30 min",
                                             "reliability.spares.nodes=4", "reliability.spares.when_exhausted=wait",
                                             "reliability.spares.repair_time=2 d", "reliability.planned_rate=0 /h"}))
                          .reliability;
    CHECK(spec.checkpoint.mode == CheckpointMode::async);
    CHECK(spec.checkpoint.interval_s == Approx(1800));
    CHECK(spec.spares.nodes == 4);
    CHECK(spec.spares.when_exhausted == WhenNoSpare::wait);
    CHECK(spec.spares.repair_s == Approx(2 * 86400));
    CHECK(spec.planned_rate_per_s == 0);
  }
  SECTION("errors name the source and the pointer") {
    CHECK(error_of([] { default_scenario(sets({"reliability.failures.cosmic.multiplier=2"})); }) ==
          "built-in llama3-405b-16k: /reliability/failures/cosmic/rate: is required for a new failure class");
    CHECK(error_of([] { default_scenario(sets({"reliability.spares.nodes=4", "reliability.spares.when_exhausted=wait"})); }) ==
          "built-in llama3-405b-16k: /reliability/spares/repair_time: is required when spares are limited and "
          "when_exhausted is \"wait\" (else the job would wait forever)");
    CHECK_THROWS_AS(default_scenario(sets({"reliability.failures.faulty_gpu.distribution=lognormal"})), InputError);
  }
}

TEST_CASE("run settings: window, trials and seed", "[scenario]") {
  const Scenario d = default_scenario();
  CHECK(d.run.window_s == 0);
  CHECK(d.run.trials == 1000);
  CHECK(d.run.seed == 1);
  const Scenario s = default_scenario(sets({"run.window=54 d", "run.trials=64", "run.seed=7"}));
  CHECK(s.run.window_s == Approx(54 * 86400));
  CHECK(s.run.trials == 64);
  CHECK(s.run.seed == 7);
  CHECK(error_of([] { default_scenario(sets({"run.trials=200000000"})); }) ==
        "--set run.trials=200000000: /run/trials: is too large");
}

TEST_CASE("what-ifs: stragglers inside the job", "[scenario][errors]") {
  CHECK(default_scenario().whatif.stragglers.empty());
  const Scenario s = default_scenario(sets({R"(whatif.stragglers=[{"rank": 3, "slowdown": 0.5}])"}));
  REQUIRE(s.whatif.stragglers.size() == 1);
  CHECK(s.whatif.stragglers[0].rank == 3);
  CHECK(s.whatif.stragglers[0].slowdown == 0.5);
  CHECK(error_of([] { default_scenario(sets({R"(whatif.stragglers=[{"rank": 16384, "slowdown": 0.5}])"})); }) ==
        R"(--set whatif.stragglers=[{"rank": 16384, "slowdown": 0.5}]: /whatif/stragglers/0/rank: rank 16384 is outside )"
        "the job's 16384 GPUs");
}

TEST_CASE("a rotary fraction needs RoPE and must be above 0", "[scenario][errors]") {
  CHECK(error_of([] { default_scenario(sets({"model.rotary_fraction=0"})); }) ==
        "--set model.rotary_fraction=0: /model/rotary_fraction: must be above 0 (1 rotates every dimension of a head), got 0");
  CHECK(error_of([] { default_scenario(sets({"model.rotary_fraction=1.5"})); }) ==
        "--set model.rotary_fraction=1.5: /model/rotary_fraction: must be between 0 and 1, got 1.5");
  CHECK(error_of([] { default_scenario(sets({"model=gpt3-175b", "model.rotary_fraction=0.5"})); }).find(
            "/model/rotary_fraction: applies to position rope only, but position is learned") != std::string::npos);
  CHECK(default_scenario(sets({"model.rotary_fraction=0.5", "model.mlp=relu2"})).model.mlp == MlpKind::relu2);
}

TEST_CASE("a dash (-) loads the scenario from standard input, named <stdin> in errors", "[scenario]") {
  {
    StdinFrom in(R"({"preset": "llama3-405b-16k", "name": "piped"})");
    const std::vector<Override> overrides = {parse_override("plan.tp=4"), parse_override("plan.dp=256")};
    const Scenario s = load_scenario("-", overrides);
    CHECK(s.name == "piped");
    CHECK(s.source == "<stdin>");
    CHECK(s.plan.tp == 4);
  }
  {
    StdinFrom in(R"({"preset": "llama3-405b-16k", "plan": {"tp": "eight"}})");
    CHECK_THAT(error_of([] { load_scenario("-"); }), Catch::StartsWith("<stdin>: /plan/tp: "));
  }
  {
    StdinFrom in("");
    CHECK_THAT(error_of([] { load_scenario("-"); }), Catch::StartsWith("<stdin>: malformed JSON"));
  }
}
