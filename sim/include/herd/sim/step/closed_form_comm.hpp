#pragma once
// Communication from closed forms, without contention: ring algorithms over the slowest link a
// group crosses (NVLink inside a node, the NIC across nodes). Used for quick estimates and for
// tests that need an ideal network (scale 0: communication is free).
#include "herd/model/scenario.hpp"
#include "herd/sim/step/comm_model.hpp"

namespace herd::sim {

class ClosedFormComm final : public CommModel {
 public:
  /// `scale` multiplies every communication time (1: as modelled, 0: free).
  explicit ClosedFormComm(const model::Scenario& s, double scale = 1.0);

  void start(engine::Simulation& sim, const CollectiveCall& call, engine::EventCallback done) override;
  void transfer(engine::Simulation& sim, const TransferCall& call, engine::EventCallback done) override;
  double sm_fraction(const CollectiveCall& call) const override;

  /// Seconds for one collective: ring all-reduce 2(n-1)/n S/B + 2(n-1) a, all-gather and
  /// reduce-scatter (n-1)/n S/B + (n-1) a, over the group's slowest link.
  double seconds(const CollectiveCall& call) const;

 private:
  bool inside_node(CommGroup g) const;
  const model::Scenario& s_;
  double scale_;
};

}  // namespace herd::sim
