#pragma once
// Communication for the step executor on the fluid network over the real topology: the step's
// prepared operations (comm_plan.hpp) run as fluid activities over the contended slots, sharing
// them max-min fairly with whatever else is in flight; an operation inside one node runs for its
// uncontended time. One FabricComm per simulated step (it holds that run's fluid state); the
// CommPlan it runs may be shared.
#include <memory>
#include <vector>

#include "herd/engine/fluid_system.hpp"
#include "herd/sim/step/comm_model.hpp"
#include "herd/sim/step/comm_plan.hpp"

namespace herd::sim {

class FabricComm final : public CommModel {
 public:
  /// `sim` must be the simulation the executor runs; `fabric` the one `plan` was prepared on.
  FabricComm(engine::Simulation& sim, const Fabric& fabric, std::shared_ptr<const CommPlan> plan);

  void start(engine::Simulation& sim, const CollectiveCall& call, engine::EventCallback done) override;
  void transfer(engine::Simulation& sim, const TransferCall& call, engine::EventCallback done) override;
  double sm_fraction(const CollectiveCall& call) const override;
  bool snapshot(std::vector<std::uint64_t>& out) const override;
  void shift_time(engine::Time dt) override;

 private:
  void launch(const CommPlan::Entry& e, double bytes, engine::EventTag tag, engine::EventCallback done);

  std::shared_ptr<const CommPlan> plan_;
  engine::FluidSystem fluid_;
  std::vector<engine::ResourceUse> uses_;       // scratch
  std::vector<engine::EventCallback> parked_;   // callbacks of running activities, by id
  std::vector<std::uint32_t> free_;
  std::vector<engine::EventTag> tag_;           // the tag of each fluid activity's callback, by activity id
};

}  // namespace herd::sim
