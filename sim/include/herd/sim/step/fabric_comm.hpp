#pragma once
// Communication for the step executor on the fluid network over the real topology
// (sim/network, sim/collective): collectives choose algorithm, protocol and channels the way NCCL
// does (CollectiveModel) and share links max-min fairly with whatever else is in flight.
//
// Symmetric mode counts every copy's traffic: a collective of a stage stands for all the stage's
// groups of that kind (every data-parallel group; for TP and CP, whose copies sit on their own
// NICs and NVLink, a representative group) as ONE fluid activity whose load on each link is the
// sum over those groups — exact when the copies progress together, as they do by symmetry. Links
// that only one stream of one stage ever uses cannot be contended: they become a rate bound
// instead of a constraint, which keeps the max-min problem small. A collective inside one
// NVSwitch node takes its uncontended time (nothing else crosses those links).
// Per-rank mode (stragglers) gives each group's collective and each transfer its uncontended
// time on the real topology.
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "herd/engine/fluid_system.hpp"
#include "herd/sim/collective/collective_model.hpp"
#include "herd/sim/network/network.hpp"
#include "herd/sim/step/comm_model.hpp"

namespace herd::sim {

class FabricComm final : public CommModel {
 public:
  /// `sim` must be the simulation the executor runs; `plan` the lowered step (its collectives and
  /// transfers are prepared up front). `fabric` may be shared (sweeps); when null one is built.
  FabricComm(engine::Simulation& sim, const model::Scenario& s, const StepPlan& plan,
             std::shared_ptr<const Fabric> fabric = nullptr);
  ~FabricComm() override;

  void start(engine::Simulation& sim, const CollectiveCall& call, engine::EventCallback done) override;
  void transfer(engine::Simulation& sim, const TransferCall& call, engine::EventCallback done) override;
  double sm_fraction(const CollectiveCall& call) const override;

 private:
  struct Prepared;
  using Key = std::tuple<int, int, int, double>;  // (kind or -1 for transfers, stage, op or peer, bytes)
  Prepared& prepare_collective(model::Collective op, CommGroup g, int stage, double bytes);
  Prepared& prepare_transfer(int from_stage, int to_stage, double bytes);
  void finalize();  // splits contended links from exclusive ones
  void launch(Prepared& p, engine::EventCallback done);
  const std::vector<std::vector<int>>& groups_of(CommGroup g, int stage);

  const model::Scenario& s_;
  engine::Simulation& sim_;
  std::shared_ptr<const Fabric> fabric_;
  CollectiveModel model_;
  engine::FluidSystem fluid_;
  TrafficBuilder traffic_;
  std::map<std::pair<int, int>, std::vector<std::vector<int>>> groups_;
  std::map<Key, std::unique_ptr<Prepared>> prepared_;
  std::vector<engine::ResourceId> resource_of_slot_;
  std::vector<engine::EventCallback> parked_;
  std::vector<std::uint32_t> free_;
  std::map<std::tuple<int, double, int, int>, double> group_seconds_;  // per-rank mode, by group
  std::map<std::pair<int, int>, std::pair<double, double>> routes_;    // per-rank mode: latency, rate bound
  int sms_ = 132;
};

}  // namespace herd::sim
