#pragma once
// Where a run gets the time of one optimizer step for each phase of its batch schedule.
// A step-time function maps a phase's scenario (the base with the phase's seq_len, global batch
// and overrides) to seconds per step. `herd train` picks one source; the step simulation plugs in
// as just another StepTimeSource.
#include <functional>
#include <string>

#include "herd/model/scenario.hpp"

namespace herd::sim::run {

/// Seconds per optimizer step for a phase's scenario. May throw model::InputError.
using StepTimeFn = std::function<double(const model::Scenario& phase)>;

struct StepTimeSource {
  StepTimeFn step_time;
  std::string name;  ///< printed by `herd train`: "run.step_time", "roofline estimate ...", ...
};

/// Model FLOPs per step / (GPUs x dense peak of the plan's precision x the GPU's GEMM efficiency):
/// every FLOP at large-GEMM speed, no communication, no pipeline bubble. A lower bound on the
/// step time, used until a step simulation is wired in (docs/models/reliability.md).
double roofline_step_time(const model::Scenario& phase);
StepTimeSource roofline_step_time_source();

/// Given step times first, then `fallback`. A phase's own (`run.batch_schedule[].set`
/// {"run.step_time": ...}) is used as is; `run.step_time` is the time of the scenario's own plan
/// (model.seq_len, plan.global_batch), and a phase without its own gets it scaled by its model
/// FLOPs per step per GPU. Returns `fallback` itself when nothing is given.
StepTimeSource prefer_given_step_time(const model::Scenario& base, StepTimeSource fallback);

}  // namespace herd::sim::run
