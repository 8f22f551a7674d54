// Replicating a repeating steady state changes nothing: the same layouts simulated with the
// repetitions replicated and with every period simulated give identical step times, breakdowns,
// stage finish times, event counts and traces, and the replicated runs did replicate periods.
#include <catch2/catch.hpp>

#include "herd/sim/step/step_simulator.hpp"
#include "herd/sim/step/trace_export.hpp"

using namespace herd;
using model::parse_override;

namespace {

model::Scenario layout(std::initializer_list<const char*> texts) {
  std::vector<model::Override> o;
  for (const char* t : texts) o.push_back(parse_override(t));
  return model::load_scenario("llama3-8b", o);
}

sim::StepReport run(const model::Scenario& s, bool skip, bool trace = false) {
  sim::StepOptions opt;
  opt.skip_repeats = skip;
  opt.trace = trace;
  return sim::simulate_step(s, opt);
}

}  // namespace

TEST_CASE("replicated steady-state periods give exactly the simulated step", "[step][steady]") {
  // Few data-parallel ranks, many micro-batches: pipelines over the network (transfers, CP and DP
  // collectives on the fluid network, TP inside the node), every schedule, virtual stages,
  // recomputation, sharding and gradient sync modes.
  const std::vector<model::Scenario> layouts{
      layout({"cluster.num_gpus=32", "plan.tp=8", "plan.pp=4", "plan.dp=1", "plan.global_batch=48"}),
      layout({"cluster.num_gpus=64", "plan.tp=4", "plan.pp=4", "plan.dp=4", "plan.global_batch=128",
              "plan.dp_sharding=fsdp", "plan.grad_sync=per_microbatch"}),
      layout({"cluster.num_gpus=64", "plan.tp=8", "plan.pp=4", "plan.dp=2", "plan.global_batch=96", "plan.schedule=interleaved",
              "plan.virtual_stages=2", "plan.dp_sharding=zero1", "plan.grad_sync=per_round"}),
      layout({"cluster.num_gpus=64", "plan.tp=8", "plan.pp=4", "plan.dp=2", "plan.global_batch=96", "plan.schedule=llama3",
              "plan.virtual_stages=2", "plan.round_size=4", "plan.dp_sharding=fsdp", "plan.grad_sync=per_round"}),
      // At the burst compute level, where this layout's periods repeat to the nanosecond (at other
      // levels rounding makes them differ and every period is simulated).
      layout({"cluster.num_gpus=64", "plan.tp=4", "plan.cp=2", "plan.pp=4", "plan.dp=2", "plan.global_batch=64",
              "plan.schedule=zero_bubble", "plan.recompute=full", "plan.micro_batch=2", "cluster.gpu.efficiency.sustained=1"}),
      layout({"cluster.num_gpus=64", "plan.tp=8", "plan.cp=2", "plan.pp=2", "plan.dp=2", "plan.global_batch=64",
              "plan.recompute=selective", "plan.pp_send=blocking"}),
  };
  for (std::size_t i = 0; i < layouts.size(); ++i) {
    INFO("layout " << i);
    const auto full = run(layouts[i], false);
    const auto skipped = run(layouts[i], true);
    CHECK(full.replicated_periods == 0);
    CHECK(skipped.replicated_periods > 0);
    CHECK(skipped.step_time_s == full.step_time_s);
    CHECK(skipped.critical_rank == full.critical_rank);
    CHECK(skipped.stage_finish_s == full.stage_finish_s);
    CHECK(skipped.events == full.events);
    const auto& a = skipped.breakdown;
    const auto& b = full.breakdown;
    CHECK(a.compute_s == b.compute_s);
    CHECK(a.optimizer_s == b.optimizer_s);
    CHECK(a.exposed_tp_s == b.exposed_tp_s);
    CHECK(a.exposed_cp_s == b.exposed_cp_s);
    CHECK(a.exposed_pp_s == b.exposed_pp_s);
    CHECK(a.exposed_dp_s == b.exposed_dp_s);
    CHECK(a.bubble_s == b.bubble_s);
    CHECK(a.other_s == b.other_s);
    CHECK(sim::step_report_json(skipped).dump() == sim::step_report_json(full).dump());
  }
}

TEST_CASE("a trace of replicated periods is the simulated trace", "[step][steady]") {
  const auto s = layout({"cluster.num_gpus=64", "plan.tp=8", "plan.pp=4", "plan.dp=2", "plan.global_batch=64",
                         "plan.schedule=interleaved", "plan.virtual_stages=2", "plan.dp_sharding=fsdp"});
  const auto full = run(s, false, true);
  const auto skipped = run(s, true, true);
  CHECK(skipped.replicated_periods > 0);
  REQUIRE(skipped.trace.size() == full.trace.size());
  CHECK(sim::chrome_trace_json(skipped) == sim::chrome_trace_json(full));
}

// Not run by CTest (6-7 minutes): `herd_sim_tests "[steady-sweep]"`. 540 layouts of Llama 3 8B and
// 70B on 128 GPUs (docs/performance.md), each with and without replication: the same report, and
// the same trace for every fifth.
TEST_CASE("replicated periods change no report over a sweep of layouts", "[.][step][steady-sweep]") {
  const sim::StepSimulator simulator;
  int total = 0, replicated = 0;
  for (const char* model : {"llama3-8b", "llama3-70b"})
    for (int tp : {2, 4, 8})
      for (int cp : {1, 2})
        for (int pp : {2, 4, 8})
          for (const std::string schedule : {"1f1b", "interleaved", "llama3", "zero_bubble", "gpipe"})
            for (const char* sharding : {"fsdp", "zero1", "none"}) {
              const int dp = 128 / (tp * cp * pp);
              const int v = schedule == "interleaved" || schedule == "llama3" ? 2 : 1;
              std::vector<model::Override> o;
              for (const std::string& t :
                   {std::string("cluster.num_gpus=128"), "plan.tp=" + std::to_string(tp), "plan.cp=" + std::to_string(cp),
                    "plan.pp=" + std::to_string(pp), "plan.dp=" + std::to_string(dp), "plan.global_batch=" + std::to_string(48 * dp),
                    "plan.schedule=" + schedule, "plan.virtual_stages=" + std::to_string(v), std::string("plan.dp_sharding=") + sharding})
                o.push_back(parse_override(t));
              sim::StepOptions on, off;
              off.skip_repeats = false;
              on.trace = off.trace = total % 5 == 0;
              sim::StepReport a, b;
              try {
                const auto s = model::load_scenario(model, o);
                a = simulator.simulate(s, on);
                b = simulator.simulate(s, off);
              } catch (const std::exception&) {
                continue;  // not a valid layout
              }
              INFO(model << " TP " << tp << " CP " << cp << " PP " << pp << " " << schedule << " " << sharding);
              ++total;
              replicated += a.replicated_periods > 0 ? 1 : 0;
              CHECK(sim::step_report_json(a).dump() == sim::step_report_json(b).dump());
              if (on.trace) CHECK(sim::chrome_trace_json(a) == sim::chrome_trace_json(b));
            }
  WARN(total << " layouts, " << replicated << " with replicated periods");
  CHECK(total == 540);
}
