// The step-time lower bound: exact where nothing but compute takes time, the 1F1B closed form for
// equal stages, and never above the simulation (which the planner also checks on every layout).
#include <catch2/catch.hpp>

#include "plan_fixtures.hpp"
#include "herd/sim/plan/planner.hpp"
#include "herd/sim/plan/step_bound.hpp"
#include "herd/sim/step/closed_form_comm.hpp"

using namespace herd;
using herd::test::scenario;
namespace sp = herd::sim::plan;

namespace {

// Seconds of the compute-stream ops of a program, as the bound counts them.
double compute(const std::vector<model::Op>& ops, const model::ComputeCostModel& cost) {
  double t = 0;
  for (const auto& op : ops)
    if (op.stream == model::Stream::compute && op.kind != model::OpKind::collective) t += cost.op_seconds(op);
  return t;
}
}  // namespace

TEST_CASE("one GPU: the bound is the step, every op's compute time summed", "[plan]") {
  // T = M x (emb + L x layer + out) forward and backward + AdamW over every parameter.
  const auto s = scenario({"cluster.num_gpus=1", "plan.dp=1", "plan.global_batch=4", "model.layers=4"});
  const model::ComputeCostModel cost(s.cluster.gpu);
  const sp::StepBound bound(s.model, s.cluster, nullptr);
  const auto layer = model::layer_program(s.model, s.plan, s.model.seq_len);
  const auto emb = model::embedding_program(s.model, s.plan, s.model.seq_len);
  const auto out = model::output_program(s.model, s.plan, s.model.seq_len);
  const auto params = model::shard_parameters(s.model, s.plan);
  const double per_mb = compute(emb.forward, cost) + compute(emb.backward, cost) +
                        s.model.layers * (compute(layer.forward, cost) + compute(layer.backward, cost)) +
                        compute(out.forward, cost) + compute(out.backward, cost);
  const double opt = cost.op_seconds(model::optimizer_op(s.model.layers * params.layer + params.embedding + params.output));
  const double expected = 4 * per_mb + opt;
  CHECK(bound.lower_bound_s(s.plan) == Approx(expected).epsilon(1e-12));
  const auto r = sim::simulate_step(s);
  CHECK(r.step_time_s == Approx(expected).epsilon(1e-6));
}

TEST_CASE("equal stages under 1F1B: the bound is (M + p - 1)(f + b)", "[plan]") {
  // A tiny vocabulary makes the first and last stages' extra work negligible (< 0.1 %).
  for (int m : {4, 8, 16}) {
    INFO("M " << m);
    const std::string gb = "plan.global_batch=" + std::to_string(m);
    const auto s = scenario({"cluster.num_gpus=4", "plan.dp=1", "plan.pp=4", "model.vocab=128", gb.c_str()});
    const model::ComputeCostModel cost(s.cluster.gpu);
    const auto layer = model::layer_program(s.model, s.plan, s.model.seq_len);
    const double f = 8 * compute(layer.forward, cost), b = 8 * compute(layer.backward, cost);  // 32 layers / 4
    const sp::StepBound bound(s.model, s.cluster, nullptr);
    CHECK(bound.lower_bound_s(s.plan) == Approx((m + 3) * (f + b)).epsilon(2e-3));
    // With a free network the schedule reaches it, then stage 0 runs its optimizer step.
    sim::ClosedFormComm free_network(s, 0.0);
    sim::StepOptions o;
    o.comm = &free_network;
    const auto params = model::shard_parameters(s.model, s.plan);
    const double opt0 = cost.op_seconds(model::optimizer_op(8 * params.layer + params.embedding));
    CHECK(sim::simulate_step(s, o).step_time_s == Approx((m + 3) * (f + b) + opt0).epsilon(2e-3));
  }
}

TEST_CASE("the bounds never exceed the simulated step", "[plan]") {
  const auto s = scenario({"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128"});
  model::SearchSpace narrow;
  narrow.micro_batch = {1};
  narrow.recompute = {model::Recompute::none, model::Recompute::full};
  const auto e = sp::enumerate_layouts(s, sp::complete_space(s, narrow));
  const sim::StepSimulator simulator;
  const sp::StepBound bound(s.model, s.cluster, nullptr);
  const model::ComputeCostModel cost(s.cluster.gpu);
  int checked = 0;
  for (std::size_t i = 0; i < e.candidates.size(); i += 15) {
    const auto& c = e.candidates[i];
    INFO(sp::layout_id(c.plan, c.num_gpus));
    const auto cs = sp::candidate_scenario(s, c);
    const double t = simulator.simulate(cs).step_time_s;
    CHECK(bound.lower_bound_s(c.plan) <= t);
    CHECK(sp::replay_lower_bound_s(cs, simulator, cost) <= t);
    ++checked;
  }
  CHECK(checked > 8);
}

TEST_CASE("the replay bound is the simulated step where nothing contends", "[plan]") {
  // One pipeline inside one node, no tensor or data parallelism: the pipeline transfers run alone
  // at their least time and take no SMs from compute, so the simulation is the replay of the
  // dependencies at the least durations, up to the nanosecond each activity is rounded up to:
  // T_sim - T_bound in [0, events x 1 ns].
  for (const auto& [gpus, pp] : {std::pair{"cluster.num_gpus=1", "plan.pp=1"}, std::pair{"cluster.num_gpus=2", "plan.pp=2"},
                                 std::pair{"cluster.num_gpus=4", "plan.pp=4"}}) {
    INFO(pp);
    const auto s = scenario({gpus, "plan.tp=1", pp, "plan.dp=1", "plan.global_batch=8", "plan.dp_sharding=none", "model.layers=8"});
    const sim::StepSimulator simulator;
    const model::ComputeCostModel cost(s.cluster.gpu);
    const auto r = simulator.simulate(s);
    const double bound = sp::replay_lower_bound_s(s, simulator, cost);
    CHECK(bound <= r.step_time_s);
    CHECK(r.step_time_s - bound <= 1e-9 * static_cast<double>(r.events));
  }
}
