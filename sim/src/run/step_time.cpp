#include "herd/sim/run/step_time.hpp"

#include "herd/model/workload.hpp"

namespace herd::sim::run {

namespace {

double model_flops_per_step(const model::Scenario& s) {
  const auto seq = s.model.seq_len;
  return model::model_flops_per_token(s.model, seq) * double(seq) * double(s.plan.global_batch);
}

}  // namespace

double roofline_step_time(const model::Scenario& s) {
  const auto& gpu = s.cluster.gpu;
  const double peak = s.plan.precision == model::Precision::fp8 && gpu.peak_fp8_flops > 0 ? gpu.peak_fp8_flops
                                                                                           : gpu.peak_bf16_flops;
  const double rate = double(s.plan.gpus()) * peak * gpu.efficiency.gemm;
  if (!(rate > 0)) s.fail("/cluster/gpu/peak_bf16", "must be positive to estimate a step time");
  return model_flops_per_step(s) / rate;
}

StepTimeSource roofline_step_time_source() {
  return {roofline_step_time, "roofline estimate (model FLOPs at the GPU's GEMM efficiency; no communication, no bubble)"};
}

StepTimeSource prefer_given_step_time(const model::Scenario& base, StepTimeSource fallback) {
  const double given = base.run.step_time_s;
  bool phase_gives = false;
  for (const auto& ph : base.run.batch_schedule) phase_gives |= ph.set.is_object() && ph.set.contains("run.step_time");
  if (!(given > 0) && !phase_gives) return fallback;
  const double base_flops_per_gpu = model_flops_per_step(base) / base.plan.gpus();
  StepTimeFn fn = [given, base_flops_per_gpu, next = fallback.step_time](const model::Scenario& phase) {
    if (phase.run.step_time_s > 0 && phase.run.step_time_s != given) return phase.run.step_time_s;  // the phase's own
    if (!(given > 0)) return next(phase);
    // Same GPUs at the same speed: time scales with the FLOPs each GPU does per step.
    return given * (model_flops_per_step(phase) / phase.plan.gpus()) / base_flops_per_gpu;
  };
  if (given > 0) return {fn, "run.step_time (given; other phases scaled by model FLOPs per GPU per step)"};
  return {fn, "run.step_time of the phases that give one, else " + fallback.name};
}

}  // namespace herd::sim::run
