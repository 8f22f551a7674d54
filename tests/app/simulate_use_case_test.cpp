// One step through the use case: the step time `herd simulate --json` prints, a shared platform
// giving the same report, the trace on request (in memory or streamed to a file, filtered), progress,
// and a stop before and during the step.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <stop_token>

#include <nlohmann/json.hpp>

#include "app_fixtures.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/model/error.hpp"

using namespace herd;

TEST_CASE("simulate gives the step time herd simulate --json prints", "[app][simulate]") {
  app::SimulateRequest request;
  request.scenario = app::load_scenario("llama3-8b");
  const app::SimulateResult r = app::simulate(request);
  // The golden summary is what `herd simulate llama3-8b --json` printed (tests/cli/golden_test.cpp
  // pins it); step times are whole nanoseconds, so the two are the same number.
  const auto golden = app::test::golden("llama3-8b")["step"];
  CHECK(r.report.step_time_s == golden["step_time_s"].get<double>());
  CHECK(r.report.mfu == golden["mfu"].get<double>());
  CHECK(app::to_json(r)["step_time_s"] == golden["step_time_s"]);
  CHECK(r.calibration_warning.empty());
  CHECK(r.report.trace.empty());
}

TEST_CASE("simulate computes the step's power from a traced run of the same step", "[app][simulate][power]") {
  app::SimulateRequest request;
  request.scenario = app::load_scenario("llama3-8b", {"cluster.num_gpus=16", "plan.dp=16", "plan.global_batch=16"});
  const app::SimulateResult untraced = app::simulate(request);
  REQUIRE(untraced.power);
  CHECK(untraced.report.trace.empty());  // the power's trace is not kept
  request.trace = true;
  const app::SimulateResult traced = app::simulate(request);
  REQUIRE(traced.power);
  // The same step either way: the power of the traced step is the power reported untraced.
  CHECK(traced.power->it_energy_j == untraced.power->it_energy_j);
  // Traced, the executor runs compute ops one by one: the step may move by ~0.1 % (models/power.md).
  CHECK(traced.power->step_time_s == Approx(untraced.report.step_time_s).epsilon(2e-3));
  // 16 GPUs on 2 servers, one simulated rank (PP 1) standing for all of them.
  CHECK(traced.power->gpus == 16);
  CHECK(traced.power->servers == 2);
  CHECK(traced.power->gpus_per_rank == 16);
  request.power = false;
  CHECK_FALSE(app::simulate(request).power);
}

TEST_CASE("a shared StepSimulator gives the same report and reuses its platform", "[app][simulate]") {
  const sim::StepSimulator shared;
  app::SimulateRequest request;
  request.scenario = app::load_scenario("llama3-8b");
  const double own = app::simulate(request).report.step_time_s;
  request.simulator = &shared;
  CHECK(app::simulate(request).report.step_time_s == own);
  CHECK(app::simulate(request).report.step_time_s == own);
  CHECK(shared.cache_hits_misses().first > 0);  // the second call found the prepared operations
}

TEST_CASE("simulate records a trace on request and warns of another GPU's profile", "[app][simulate]") {
  app::SimulateRequest request;
  request.scenario = app::load_scenario("llama3-8b", {"cluster.num_gpus=16", "plan.dp=16", "plan.global_batch=16"});
  request.trace = true;
  request.calibration_file = app::test::profile_file("herd-app-simulate-profile.json", "NVIDIA A100-SXM4-80GB");
  const app::SimulateResult r = app::simulate(request);
  CHECK(r.report.trace.size() > 100);
  CHECK_THAT(r.calibration_warning, Catch::Contains("NVIDIA A100-SXM4-80GB"));
}

TEST_CASE("simulate reports progress and stops when asked, before or during the step", "[app][simulate][control]") {
  app::SimulateRequest request;
  request.scenario = app::load_scenario("");  // 16K GPUs: long enough to report progress
  app::test::ProgressLog log;
  app::simulate(request, {log.callback(), {}});
  CHECK(log.saw("simulating the step"));

  std::stop_source before;
  before.request_stop();
  CHECK_THROWS_AS(app::simulate(request, {{}, before.get_token()}), sim::Cancelled);

  std::stop_source during;
  const sim::Control stop_at_first_report{[&](std::string_view, int, int) { during.request_stop(); }, during.get_token()};
  CHECK_THROWS_AS(app::simulate(request, stop_at_first_report), sim::Cancelled);
}

TEST_CASE("simulate streams the trace to its file, and filters leave the report and power as they were", "[app][simulate][trace]") {
  const auto path = std::filesystem::temp_directory_path() / "herd-app-simulate-trace.json";
  app::SimulateRequest request;
  request.scenario = app::load_scenario("llama3-8b", {"cluster.num_gpus=16", "plan.dp=16", "plan.global_batch=16"});
  request.per_rank = true;
  request.trace = true;
  const app::SimulateResult in_memory = app::simulate(request);
  request.trace = false;
  request.trace_file = path.string();
  const app::SimulateResult streamed = app::simulate(request);
  CHECK(streamed.report.trace.empty());
  std::size_t all_events = 0;
  {
    std::ifstream in(path);
    all_events = nlohmann::json::parse(in)["traceEvents"].size();
  }
  CHECK(all_events > in_memory.report.trace.size());  // the spans, the metadata, the power's counters
  request.trace_ranks = "0-1,7";
  request.trace_streams = "compute";
  const app::SimulateResult filtered = app::simulate(request);
  std::ifstream in(path);
  const auto doc = nlohmann::json::parse(in);
  CHECK(doc["traceEvents"].size() < all_events);
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == "X") CHECK(((e["pid"] == 0 || e["pid"] == 1 || e["pid"] == 7) && e["tid"] == 0));
  // The same step, report and power, however its trace is kept.
  CHECK(app::to_json(streamed) == app::to_json(in_memory));
  CHECK(app::to_json(filtered) == app::to_json(in_memory));
  std::filesystem::remove(path);
}

TEST_CASE("trace filters: rank lists among the simulated ranks, stream names, and bad ones naming their flag", "[app][simulate][trace][errors]") {
  const sim::TraceFilter all = app::parse_trace_filter("", "", 16);
  CHECK(all.ranks.empty());
  CHECK(all.streams == std::array<bool, model::kStreams>{true, true, true, true, true});
  const sim::TraceFilter some = app::parse_trace_filter("0-2,9", "tp_comm,dp_comm", 16);
  CHECK(some.ranks == std::vector<int>{0, 1, 2, 9});
  CHECK(some.streams == std::array<bool, model::kStreams>{false, true, false, false, true});
  auto message_of = [](const std::string& ranks, const std::string& streams) {
    try {
      app::parse_trace_filter(ranks, streams, 16);
    } catch (const model::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message_of("0-16", "") == "--trace-ranks: rank 16 is not among the plan's 16");
  CHECK(message_of("x", "") == "--trace-ranks: \"x\" is not a rank or a range a-b");
  CHECK(message_of("", "compute,tp") ==
        "--trace-streams: unknown stream \"tp\" (valid: compute, tp_comm, cp_comm, pp_comm, dp_comm)");
  CHECK(message_of("", "compute,") ==
        "--trace-streams: unknown stream \"\" (valid: compute, tp_comm, cp_comm, pp_comm, dp_comm)");
}
