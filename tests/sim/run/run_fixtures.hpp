#pragma once
// Hand-built run models: one phase training 1 token per second, so tokens are seconds of work.
#include <string>

#include "herd/sim/run/run_model.hpp"

namespace herd::sim::run::test {

/// `work_s` seconds of failure-free training, checkpoints that stall `stall_s` (sync), a relaunch
/// of `restart_s`, no planned maintenance, no failures yet.
inline RunModel unit_model(double work_s, double stall_s, double restart_s) {
  RunModel m;
  m.name = "unit";
  Phase p;
  p.seq_len = 1;
  p.global_batch = 1;
  p.step_time_s = 1.0;  // 1 token per second
  p.gpus = 8;
  p.dp = 1;
  p.end_tokens = work_s;
  m.phases = {p};
  m.token_budget = work_s;
  m.relaunch_s = restart_s;
  m.checkpoint.stall_s = stall_s;
  m.checkpoint.write_s = stall_s;
  m.allocated_gpus = 8;
  return m;
}

/// A job-wide failure process with mean time between failures `mtbf_s`.
inline FailureProcess failure(const std::string& name, double mtbf_s, double detection_s = 0,
                              model::Distribution d = model::Distribution::exponential, double shape = 1) {
  FailureProcess f;
  f.name = name;
  f.category = "test";
  f.rate_per_s = 1.0 / mtbf_s;
  f.distribution = d;
  f.weibull_shape = shape;
  f.detection_s = detection_s;
  return f;
}

}  // namespace herd::sim::run::test
