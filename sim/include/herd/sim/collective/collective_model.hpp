#pragma once
// Choosing and costing a collective for one group: the NCCL-style choice of algorithm, protocol
// and channel count, the resulting traffic per slot, and the time it takes with no other traffic
// (latency + bytes / the rate its most loaded slot allows). The network simulation runs the
// same plan as one fluid activity; the planner and calibration can call estimate() directly.
#include <algorithm>
#include <span>
#include <unordered_map>
#include <vector>

#include "herd/sim/collective/algorithm.hpp"
#include "herd/sim/collective/nccl_tuning.hpp"
#include "herd/sim/collective/patterns.hpp"
#include "herd/sim/fabric/fabric.hpp"

namespace herd::sim {

struct CollectivePlan {
  model::Collective op = model::Collective::all_reduce;
  Algorithm algorithm = Algorithm::ring;
  Protocol protocol = Protocol::simple;
  int channels = 1;
  double bytes = 0;
  double latency_s = 0;            ///< before data flows
  double algbw_cap = 0;            ///< protocol ceiling, bytes/s of `bytes`; +inf if none
  std::vector<SlotLoad> loads;     ///< bytes per slot per byte of `bytes`, protocol overhead included
  double uncontended_algbw = 0;    ///< min(algbw_cap, capacity / load over the slots), bytes/s
  SlotId uncontended_bottleneck = kNoSlot;  ///< kNoSlot: the protocol ceiling (or nothing) limits it
  /// Measured over modelled time alone, applied to latency and loads (1: no measured curve for this
  /// op and group; ClusterSpec::measured_collectives, docs/models/network.md).
  double calibration = 1;
  double measured_s = 0;           ///< the measured curve at `bytes`; 0: none
  [[nodiscard]] double uncontended_time_s() const;
};

struct CollectiveEstimate {
  Algorithm algorithm = Algorithm::ring;
  Protocol protocol = Protocol::simple;
  int channels = 1;
  double time_s = 0;
  double algbw = 0;   ///< bytes / time_s
  double busbw = 0;   ///< algbw x bus_factor
  SlotId bottleneck = kNoSlot;
};

/// Holds scratch buffers: one per thread (the Fabric it reads may be shared).
class CollectiveModel {
 public:
  /// `fabric` must outlive the model. With `remember_groups`, the shape and traffic patterns of
  /// every group it plans are kept and reused for the next call on the same group (preparing a
  /// step plans each group for several operations and sizes).
  explicit CollectiveModel(const Fabric& fabric, bool remember_groups = false);

  /// The plan NCCL would run: forced settings from `options`, else from `cluster.collectives.*`,
  /// else the (algorithm, protocol) pair with the smallest uncontended time. When the cluster
  /// carries a measured curve for this op on a group of this shape (and `cluster.collectives.*`
  /// forces nothing), the plan's latency and loads are scaled so that its uncontended time is the
  /// measured one (`calibration`). Throws
  /// model::ValueError (pointer /cluster/collectives/...) when a forced setting cannot run this
  /// op on this group, std::invalid_argument for a bad group or size.
  [[nodiscard]] CollectivePlan plan(model::Collective op, std::span<const int> group, double bytes,
                                    const CollectiveOptions& options = {});
  /// Time with no other traffic, as plan() would run it.
  [[nodiscard]] CollectiveEstimate estimate(model::Collective op, std::span<const int> group, double bytes,
                                            const CollectiveOptions& options = {});
  /// For summing concurrent groups: `like` (a plan of this op and size) run by another group:
  /// its latency, protocol ceiling and load scale, and (when `out` is given) its loads, scaled by
  /// the protocol and `like`'s calibration, added to `out`. A group on which `like`'s algorithm cannot run gets its own plan
  /// instead (`own_plan` set).
  struct GroupCost {
    double latency_s = 0;
    double algbw_cap = 0;   ///< bytes/s
    double load_scale = 1;  ///< of the algorithm's pattern
    double nvls_scale = 1;  ///< of the in-switch reductions in the pattern
    bool own_plan = false;
  };
  GroupCost add_group_loads(const CollectivePlan& like, std::span<const int> group, TrafficBuilder* out);
  /// Every candidate NCCL would weigh, each with its uncontended time as the model alone gives it
  /// (for reports and tests).
  /// The hierarchical algorithm is NCCL's NVLS tree: a candidate for all-reduce on NVLS nodes.
  [[nodiscard]] std::vector<CollectiveEstimate> candidates(model::Collective op, std::span<const int> group, double bytes);

  [[nodiscard]] const Fabric& fabric() const noexcept { return fabric_; }
  [[nodiscard]] const NcclTuning& tuning() const noexcept { return tuning_; }

 private:
  struct Pattern {
    Algorithm algorithm;
    model::Collective op;
    int root;
    double nvls_scale;
    std::vector<SlotLoad> loads;  // before the protocol's scale
  };
  struct Group {
    GroupShape shape;
    std::vector<Pattern> patterns;
  };
  struct GroupHash {  // hashes a group given as a vector or a span (no key built to look one up)
    using is_transparent = void;
    std::size_t operator()(std::span<const int> g) const noexcept;
  };
  struct GroupEqual {
    using is_transparent = void;
    bool operator()(std::span<const int> a, std::span<const int> b) const noexcept {
      return std::equal(a.begin(), a.end(), b.begin(), b.end());
    }
  };
  const std::vector<SlotLoad>& pattern(model::Collective op, Algorithm a, std::span<const int> group,
                                       const GroupShape& shape, int root, double nvls_scale);
  CollectivePlan build(model::Collective op, Algorithm algorithm, Protocol protocol, int channels_forced,
                       std::span<const int> group, const GroupShape& shape, double bytes, int root);
  // Scales `plan` to the measured curve for its op on a group of `shape`, when there is one.
  void apply_measured(CollectivePlan& plan, const GroupShape& shape) const;
  // The current call's group: remembered, or fresh (its patterns dropped after the call).
  Group& group_of(std::span<const int> group);

  const Fabric& fabric_;
  NcclTuning tuning_;
  TrafficBuilder traffic_;
  bool remember_;
  std::unordered_map<std::vector<int>, Group, GroupHash, GroupEqual> groups_;
  Group fresh_;
  Group* current_ = nullptr;
};

}  // namespace herd::sim
