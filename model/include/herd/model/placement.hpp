#pragma once
// Where each rank of a plan runs. Ranks are numbered by the plan's rank order, innermost axis
// first (Llama 3: [tp, cp, pp, dp]), and rank r runs on GPU r: GPUs are numbered node by node,
// so consecutive ranks share a node, and an inner axis of degree <= GPUs per node (TP 8) stays
// inside one server while the outermost axis (DP) strides across racks and pods.
#include <array>
#include <span>
#include <vector>

#include "herd/model/hardware.hpp"
#include "herd/model/plan.hpp"

namespace herd::model {

/// A rank's coordinate along each axis, indexed by Axis (tp, cp, pp, dp).
struct RankCoords {
  std::array<int, 4> at{};
  int operator[](Axis a) const { return at[static_cast<std::size_t>(a)]; }
  int& operator[](Axis a) { return at[static_cast<std::size_t>(a)]; }
};

class RankLayout {
 public:
  /// Throws ValueError("/plan", ...) when the plan needs more GPUs than the cluster has.
  RankLayout(const PlanSpec& plan, const ClusterSpec& cluster);

  [[nodiscard]] int ranks() const noexcept { return ranks_; }
  [[nodiscard]] int degree(Axis a) const { return degree_[static_cast<std::size_t>(a)]; }
  /// Distance in ranks between neighbours along `a` (1 for the innermost axis).
  [[nodiscard]] int stride(Axis a) const { return stride_[static_cast<std::size_t>(a)]; }

  /// Throws std::out_of_range for a rank outside [0, ranks()) or a coordinate out of its degree.
  [[nodiscard]] RankCoords coords(int rank) const;
  [[nodiscard]] int rank(const RankCoords& coords) const;

  [[nodiscard]] int gpu(int rank) const;  ///< global GPU index (= rank)
  [[nodiscard]] int node(int rank) const { return gpu(rank) / gpus_per_node_; }
  [[nodiscard]] int local_index(int rank) const { return gpu(rank) % gpus_per_node_; }
  [[nodiscard]] int nic(int rank) const;  ///< NIC the rank's GPU sends through

  /// Every group of the axis: ranks that differ only in their `a` coordinate, each group in
  /// increasing coordinate order, groups ordered by their first rank.
  [[nodiscard]] std::vector<std::vector<int>> groups(Axis a) const;
  /// Groups of ranks that differ only along the given axes (e.g. {dp, cp}: the gradient group),
  /// each group ordered by rank.
  [[nodiscard]] std::vector<std::vector<int>> groups(std::span<const Axis> axes) const;
  /// The group of `rank` along `a`.
  [[nodiscard]] std::vector<int> group_of(int rank, Axis a) const;

 private:
  int ranks_ = 1;
  int gpus_per_node_ = 1;
  int nics_per_node_ = 1;
  std::array<int, 4> degree_{1, 1, 1, 1};
  std::array<int, 4> stride_{1, 1, 1, 1};
};

}  // namespace herd::model
