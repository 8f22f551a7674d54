#pragma once
// What a checkpoint costs: its size from the model state and the sharding, the training stall
// (sync: the whole write; async: the copy to host memory), the time until it is durable, and the
// load at restart. Closed forms for the optimal interval (Young 1974, Daly 2006) to compare the
// simulated optimum with. Equations: docs/models/reliability.md.
#include "herd/model/scenario.hpp"

namespace herd::sim::run {

/// Bytes per parameter a checkpoint holds: BF16 weights (2), FP32 master weights (4) and the two
/// FP32 AdamW moments (8), the state the memory model keeps (model/src/memory.cpp).
inline constexpr double kCheckpointBytesPerParameter = 2.0 + 4.0 + 8.0;

struct CheckpointCost {
  double total_bytes = 0;    ///< one copy of the whole model state
  double per_gpu_bytes = 0;  ///< the largest share one GPU writes (state spread over its DP x CP group)
  double write_s = 0;        ///< total_bytes / (storage bandwidth x share)
  double stall_s = 0;        ///< training stops this long per checkpoint
  double durable_lag_s = 0;  ///< after the stall, until the checkpoint can be restored (async: the write)
  double load_s = 0;         ///< restart reads the checkpoint back at the same bandwidth
};

/// Throws model::InputError when the storage bandwidth is not positive.
CheckpointCost checkpoint_cost(const model::Scenario& s, const model::CheckpointSpec& spec);

/// Young's first-order optimum: sqrt(2 delta M) (Young, CACM 17(9), 1974). Seconds.
double young_interval(double delta_s, double mtbf_s);
/// Daly's higher-order optimum (Daly, FGCS 22(3):303-312, 2006):
/// sqrt(2 delta M) [1 + sqrt(delta/(2M))/3 + delta/(18M)] - delta for delta < 2M, else M.
double daly_interval(double delta_s, double mtbf_s);

}  // namespace herd::sim::run
