#pragma once
// Traffic patterns of the collective algorithms: for one group of ranks, the bytes each slot
// carries per byte of the operation's size (nccl-tests convention). A whole collective then
// runs as one fluid activity over these slots, so it moves at the pace of its most loaded
// link, and concurrent collectives share links max-min fairly.
//
// Rings follow NCCL: with several ranks per node and several nodes there is one ring channel
// per local rank, each entering and leaving every node once, through a different NIC; on
// rail-optimised fabrics the hop between nodes stays on one rail (NCCL's PXN forwards over
// NVLink to the GPU on the right rail first).
#include <span>
#include <vector>

#include "herd/sim/collective/algorithm.hpp"
#include "herd/sim/fabric/fabric.hpp"

namespace herd::sim {

/// How a group sits on the cluster.
struct GroupShape {
  int ranks = 0;
  int nodes = 0;
  int max_per_node = 0;     ///< most ranks of the group on one node
  bool uniform = true;      ///< every node holds the same number of the group's ranks
  std::vector<std::vector<int>> by_node;  ///< ranks per node, nodes in order of first appearance
  double inter_node_latency_s = 0;  ///< largest one-way latency between consecutive nodes
};

/// Throws std::invalid_argument for an empty group, a repeated rank or a rank outside the plan.
GroupShape shape_of(const Fabric& fabric, std::span<const int> group);

/// Adds the pattern of `algorithm` for `op` over the group to `out`; `nvls_scale` multiplies
/// the loads of in-switch reduction (1 / its efficiency). `root` indexes `group` (broadcast,
/// reduce). Throws std::invalid_argument when the algorithm cannot run this op on this group,
/// or for an all-to-all over more than 4,096 ranks (one route per ordered pair).
void add_pattern(const Fabric& fabric, model::Collective op, Algorithm algorithm, std::span<const int> group,
                 const GroupShape& shape, int root, double nvls_scale, TrafficBuilder& out);

/// Whether `algorithm` can run `op` on a group of this shape on this fabric.
bool algorithm_applies(const Fabric& fabric, model::Collective op, Algorithm algorithm, const GroupShape& shape);

}  // namespace herd::sim
