#pragma once
// What the step executor asks of the network: start a collective or a pipeline transfer now and
// call back when it is done. Implementations range from closed forms (no contention) to the
// fluid network model over the real topology.
#include <vector>

#include "herd/engine/simulation.hpp"
#include "herd/model/workload.hpp"
#include "herd/sim/step/step_program.hpp"

namespace herd::sim {

struct CollectiveCall {
  model::Collective op = model::Collective::all_reduce;
  CommGroup group = CommGroup::tp;
  int stage = 0;      ///< pipeline stage of the caller
  double bytes = 0;   ///< nccl-tests size convention
  /// Members (global ranks) when one group is simulated on its own; empty in symmetric mode,
  /// where every group of `stage` on this axis runs the same collective at the same time.
  std::vector<int> ranks;
};

struct TransferCall {
  int from_stage = 0, to_stage = 0;
  int from_rank = -1, to_rank = -1;  ///< global ranks in per-rank mode; -1 in symmetric mode
  double bytes = 0;
};

class CommModel {
 public:
  virtual ~CommModel() = default;
  /// Starts the collective at sim.now(); `done` runs when it completes.
  virtual void start(engine::Simulation& sim, const CollectiveCall& call, engine::EventCallback done) = 0;
  /// Starts a pipeline transfer at sim.now(); `done` runs when the data has arrived.
  virtual void transfer(engine::Simulation& sim, const TransferCall& call, engine::EventCallback done) = 0;
  /// Fraction of the GPU's SMs the collective's kernels occupy while it runs (they slow compute).
  virtual double sm_fraction(const CollectiveCall& call) const = 0;
};

}  // namespace herd::sim
