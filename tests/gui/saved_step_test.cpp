#include "herd/gui/saved_step.hpp"

#include <catch2/catch.hpp>

#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/gui/step_timeline_data.hpp"
#include "herd/model/error.hpp"
#include "herd/sim/step/trace_export.hpp"

using namespace herd;

TEST_CASE("saved step: a trace of herd simulate --trace reads back span for span") {
  app::SimulateRequest request;
  request.scenario = app::load_scenario("llama3-8b", {"cluster.num_gpus=32", "plan.tp=8", "plan.pp=2", "plan.dp=2", "plan.global_batch=16"});
  request.trace = true;
  const auto original = app::simulate(request).report;
  const auto doc = nlohmann::json::parse(sim::chrome_trace_json(original));
  const gui::SavedStep saved = gui::read_saved_step(doc, "step.json");
  const auto& r = saved.report;
  CHECK(r.scenario == original.scenario);
  CHECK(r.step_time_s == Approx(original.step_time_s));
  CHECK_FALSE(r.per_rank);
  CHECK(r.simulated_ranks == 2);
  REQUIRE(r.trace.size() == original.trace.size());
  for (std::size_t i = 0; i < r.trace.size(); i += 97) {
    const auto& a = original.trace[i];
    const auto& b = r.trace[i];
    INFO("span " << i);
    CHECK(b.rank == a.rank);
    CHECK(b.stream == a.stream);
    CHECK(b.start_s == Approx(a.start_s).margin(1e-12));
    CHECK(b.end_s == Approx(a.end_s).margin(1e-12));
    CHECK(b.microbatch == a.microbatch);
    CHECK(b.chunk == a.chunk);
    CHECK(b.bytes == Approx(a.bytes));
    CHECK(r.trace_ops[static_cast<std::size_t>(b.op)].name == original.trace_ops[static_cast<std::size_t>(a.op)].name);
    CHECK(r.trace_ops[static_cast<std::size_t>(b.op)].flops == original.trace_ops[static_cast<std::size_t>(a.op)].flops);
  }
  // The timeline built from it keeps the names alive after the saved step is gone.
  std::unique_ptr<gui::StepTimelineData> data;
  {
    gui::SavedStep copy = gui::read_saved_step(doc, "step.json");
    data = std::make_unique<gui::StepTimelineData>(copy.report, model::Scenario{}, copy.names);
  }
  CHECK(data->spans() == original.trace.size());
  CHECK_FALSE(data->info(0).op.empty());
}

TEST_CASE("saved step: what cannot be read is named with its JSON pointer") {
  auto doc = nlohmann::json::parse(R"({"traceEvents": [
      {"ph": "X", "name": "fc1", "pid": 0, "tid": 0, "ts": 0, "dur": 5, "args": {"kind": "gemm", "pass": "forward"}},
      {"ph": "X", "name": "fc2", "pid": 0, "tid": 0, "ts": 5, "dur": 5, "args": {"kind": "matmul"}}]})");
  CHECK_THROWS_WITH(gui::read_saved_step(doc, "t.json"), "t.json: /traceEvents/1/args/kind: unknown op kind \"matmul\"");
  doc["traceEvents"][1]["args"]["kind"] = "gemm";
  doc["traceEvents"][1]["tid"] = 9;
  CHECK_THROWS_WITH(gui::read_saved_step(doc, "t.json"), "t.json: /traceEvents/1/tid: stream 9 is not 0-4");
  doc["traceEvents"][1]["tid"] = 0;
  const auto saved = gui::read_saved_step(doc, "t.json");
  CHECK(saved.report.step_time_s == Approx(10e-6));
  CHECK(saved.report.trace_ops.size() == 2);
  CHECK_THROWS_WITH(gui::read_saved_step(nlohmann::json::parse(R"({"traceEvents": []})"), "e.json"),
                    "e.json: /traceEvents: no op (no \"ph\": \"X\" event)");
  CHECK_FALSE(gui::is_chrome_trace(nlohmann::json::parse(R"({"model": "llama3-8b"})")));
}
