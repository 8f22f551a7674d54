#pragma once
// What the step executor asks of the network: start a collective or a pipeline transfer now and
// call back when it is done. Implementations range from closed forms (no contention) to the
// fluid network model over the real topology.
#include <cstdint>
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
  int net = -1;       ///< the StepPlan::net_ops entry; -1 for a group of one rank
  /// Per-rank mode: which of the stage's groups of this kind (sim/src/step/step_groups.hpp);
  /// symmetric mode: -1, every group of the stage runs it at the same time.
  int ordinal = -1;
  engine::EventTag tag = 0;  ///< what `done` does, for CommModel::snapshot (0: untagged)
};

struct TransferCall {
  int from_stage = 0, to_stage = 0;
  double bytes = 0;
  int net = -1;       ///< the StepPlan::net_ops entry
  int ordinal = -1;   ///< per-rank mode: the sending rank's place in its stage; symmetric: -1
  engine::EventTag tag = 0;  ///< what `done` does, for CommModel::snapshot (0: untagged)
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

  /// Appends the model's state relative to sim.now(), naming each pending callback by its call's
  /// tag, so that two instants with equal snapshots (and equal simulation events) go on the same
  /// way; false when the model cannot say (the executor then never skips repeated periods).
  virtual bool snapshot(std::vector<std::uint64_t>& /*out*/) const { return false; }
  /// After engine::Simulation::shift_time(dt): moves the model's own times along.
  virtual void shift_time(engine::Time /*dt*/) {}
};

}  // namespace herd::sim
