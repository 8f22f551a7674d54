// A profile changes a simulated step as the cost model says it should (sim::simulate_step with
// StepOptions::calibration, which `herd simulate --calibration` fills from model::profile_for).
#include <catch2/catch.hpp>

#include <cmath>

#include "herd/calibrate/fit.hpp"
#include "herd/sim/step/step_simulator.hpp"

using namespace herd;
using namespace herd::calibrate;

namespace {

model::Scenario eight_gpus() {
  std::vector<model::Override> o;
  for (const char* t : {"cluster.num_gpus=8", "plan.dp=8", "plan.global_batch=8"}) o.push_back(model::parse_override(t));
  return model::load_scenario("llama3-8b", o);
}

// Forward + backward compute of one layer (the step repeats it layers x micro-batches times).
double layer_seconds(const model::Scenario& s, const model::CalibrationProfile* p) {
  const model::ComputeCostModel cost(s.cluster.gpu, p);
  const auto program = model::layer_program(s.model, s.plan, s.model.seq_len);
  double t = 0;
  for (const auto* ops : {&program.forward, &program.backward})
    for (const auto& op : *ops) t += cost.op_seconds(op);
  return t;
}

}  // namespace

TEST_CASE("a calibration profile moves the simulated step by what it changes in the cost model", "[calibrate][step]") {
  const model::Scenario s = eight_gpus();
  const sim::StepReport base = sim::simulate_step(s);

  // The published H100 figures are what the H100 preset encodes: the step barely moves.
  const MeasurementSet published =
      load_measurements(std::string(HERD_SOURCE_DIR) + "/tests/data/calibration/h100-published.json");
  const model::CalibrationProfile same = fit({published}).profile;
  sim::StepOptions with;
  with.calibration = &same;
  const sim::StepReport near = sim::simulate_step(s, with);
  CHECK(near.breakdown.compute_s == Approx(base.breakdown.compute_s).epsilon(0.02));

  // GEMMs at half that throughput: compute grows as the layer's predicted time does (layers are
  // nearly all of the compute; embedding, logits and optimizer add a few percent).
  model::CalibrationProfile slow = same;
  *slow.gemm_efficiency /= 2;
  slow.gemm_points.clear();
  with.calibration = &slow;
  const sim::StepReport slower = sim::simulate_step(s, with);
  const double expected = layer_seconds(s, &slow) / layer_seconds(s, nullptr);
  CHECK(expected > 1.5);
  CHECK(slower.breakdown.compute_s / base.breakdown.compute_s == Approx(expected).epsilon(0.05));
  CHECK(slower.step_time_s > base.step_time_s);
}
