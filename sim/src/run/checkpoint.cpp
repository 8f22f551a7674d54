#include "herd/sim/run/checkpoint.hpp"

#include <algorithm>
#include <cmath>

#include "herd/model/architecture.hpp"
#include "herd/model/memory.hpp"

namespace herd::sim::run {

CheckpointCost checkpoint_cost(const model::Scenario& s, const model::CheckpointSpec& spec) {
  CheckpointCost c;
  // One copy of the state: replicas across DP are written once (torch.distributed.checkpoint
  // deduplicates replicated tensors), so the size is the model's, whatever the sharding.
  c.total_bytes = double(model::count_parameters(s.model).total) * kCheckpointBytesPerParameter;
  // Per GPU: its stage's TP shard, spread over the ranks that hold the same parameters. The
  // largest stage sets the host-copy stall, since every rank waits for the slowest.
  const auto memory = model::analyse_memory(s);
  double largest_stage_params = 0;
  for (const auto& st : memory.stages) largest_stage_params = std::max(largest_stage_params, st.parameters);
  c.per_gpu_bytes = largest_stage_params * kCheckpointBytesPerParameter / std::max(1, s.plan.gradient_group());
  const double bandwidth = s.cluster.storage_bandwidth * spec.bandwidth_share;
  if (!(bandwidth > 0)) s.fail("/cluster/storage/bandwidth", "must be positive to write checkpoints");
  c.write_s = c.total_bytes / bandwidth;
  c.load_s = c.write_s;
  if (spec.mode == model::CheckpointMode::sync) {
    c.stall_s = c.write_s;
  } else {
    c.stall_s = c.per_gpu_bytes / spec.host_copy_bandwidth;
    c.durable_lag_s = c.write_s;
  }
  return c;
}

double young_interval(double delta_s, double mtbf_s) { return std::sqrt(2.0 * delta_s * mtbf_s); }

double daly_interval(double delta_s, double mtbf_s) {
  if (delta_s >= 2.0 * mtbf_s) return mtbf_s;
  const double x = delta_s / (2.0 * mtbf_s);
  return std::sqrt(2.0 * delta_s * mtbf_s) * (1.0 + std::sqrt(x) / 3.0 + x / 9.0) - delta_s;
}

}  // namespace herd::sim::run
