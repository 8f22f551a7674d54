// Whole layers measured against the cost model: the layer program's compute ops, one after another.
#include "herd/calibrate/fit.hpp"

namespace herd::calibrate {

double predicted_layer_seconds(const model::ComputeCostModel& cost, const LayerDims& d, int* extrapolated_ops) {
  const auto program = model::layer_program(single_rank_model(d), single_rank_plan(d), d.seq);
  double total = 0;
  int outside = 0;
  for (const auto* ops : {&program.forward, &program.backward})
    for (const model::Op& op : *ops) {
      if (op.kind == model::OpKind::collective) continue;
      total += cost.op_seconds(op);
      outside += cost.extrapolated(op) ? 1 : 0;
    }
  if (extrapolated_ops) *extrapolated_ops = outside;
  return total;
}

std::vector<LayerCheck> check_layers(const std::vector<MeasurementSet>& sets, const model::GpuSpec& baseline,
                                     const model::CalibrationProfile& profile) {
  // A short burst of layers is predicted with the burst efficiencies, a sustained run with the
  // profile's sustained fraction applied.
  model::CalibrationProfile burst_profile = profile;
  burst_profile.sustained_fraction.reset();
  const model::ComputeCostModel before(baseline), after(baseline, &profile), burst(baseline, &burst_profile);
  std::vector<LayerCheck> out;
  for (const auto& set : sets)
    for (const Record& r : set.records) {
      if (r.kind != RecordKind::layer) continue;
      LayerCheck c{r.layer.label() + (r.sustained_s > 0 ? " (sustained)" : ""), r.median_s,
                   predicted_layer_seconds(before, r.layer), 0, 0};
      c.calibrated_s = predicted_layer_seconds(r.sustained_s > 0 ? after : burst, r.layer, &c.extrapolated_ops);
      out.push_back(c);
    }
  return out;
}

model::GpuSpec baseline_gpu(const DeviceInfo& device) {
  return matching_gpu_preset(device.name).value_or(measured_gpu_spec(device));
}

}  // namespace herd::calibrate
