#pragma once
// The cluster's fabric as a graph: GPUs, the node switch of each server (NVSwitch or PCIe), NICs
// and up to three switch tiers (leaf/ToR, spine/cluster switch, core/aggregation), joined by
// directed links with a bandwidth and a latency. The graph is a Boost.Graph adjacency list whose
// edges carry link ids into `links()`.
//
// Every family is a folded Clos built from a few scenario keys (docs/models/network.md):
//   llama3_roce    a leaf (ToR) per rack of `nodes_per_rack` servers; one uplink per NIC of the rack,
//                  each to its own cluster-switch plane of the pod; `racks_per_pod` racks per pod;
//                  plane k of every pod joins aggregation switch k at `aggregation_oversubscription`.
//   rail_fat_tree  NIC k of every node of a scalable unit (`nodes_per_unit` nodes) on the unit's
//                  rail-k leaf; leaves of a block share the spine planes; blocks join through a core.
//   fat_tree       leaves of switch_radix/2 consecutive NICs, pods of switch_radix/2 leaves.
//   single_switch  every NIC on one switch.
// Routing is up/down (shortest) with ECMP over the planes: a transfer is split into
// `ecmp_flows` flows and each flow's plane comes from a deterministic hash of the NIC pair; with
// adaptive routing (InfiniBand AR) the bytes spread evenly over every plane.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "herd/model/hardware.hpp"

namespace herd::model {

enum class VertexKind : std::uint8_t { gpu, node_switch, nic, leaf, spine, core };

/// Direction names: "up" goes away from the GPUs.
enum class LinkKind : std::uint8_t {
  gpu_up,      ///< GPU -> node switch (NVLink or PCIe)
  gpu_down,    ///< node switch -> GPU
  gpu_to_nic,  ///< GPU -> its NIC (PCIe; not a bottleneck: unlimited)
  nic_to_gpu,  ///< NIC -> GPU (unlimited)
  nic_up,      ///< NIC -> leaf
  nic_down,    ///< leaf -> NIC
  leaf_up,     ///< leaf -> spine plane k of its pod
  leaf_down,   ///< spine plane k -> leaf
  spine_up,    ///< spine plane k of a pod -> core k
  spine_down,  ///< core k -> spine plane k of a pod
};

using VertexId = std::uint32_t;
using LinkId = std::uint32_t;
using BundleId = std::uint32_t;
inline constexpr BundleId kNoBundle = 0xFFFF'FFFFu;

struct TopologyVertex {
  VertexKind kind = VertexKind::gpu;
  std::uint32_t index = 0;  ///< among vertices of its kind
};

struct TopologyEdge {
  LinkId link = 0;
};

struct TopologyLink {
  VertexId from = 0;
  VertexId to = 0;
  LinkKind kind = LinkKind::gpu_up;
  double bandwidth = 0;  ///< line rate, bytes/s, each direction has its own link; +inf: unlimited
  double capacity = 0;   ///< what data can use, bytes/s: bandwidth x efficiency (NIC, NVLink)
  double latency_s = 0;  ///< added by crossing the link (switch at its far end, NIC, NVLink)
  BundleId bundle = kNoBundle;  ///< the parallel links (one per plane) this link belongs to
};

/// Directed graph; vertex and edge bundles as above. Edge property: the link id.
using TopologyGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, TopologyVertex, TopologyEdge>;

struct LinkShare {
  LinkId link;
  double fraction;  ///< share of the transfer's bytes crossing this link (ECMP flows), (0, 1]
};

class Topology {
 public:
  /// Builds the fabric of `cluster` (its num_gpus GPUs). Throws ValueError naming the
  /// /cluster/... pointer when the keys describe no buildable fabric.
  explicit Topology(const ClusterSpec& cluster);

  [[nodiscard]] const TopologyGraph& graph() const noexcept { return graph_; }
  [[nodiscard]] std::span<const TopologyLink> links() const noexcept { return links_; }
  [[nodiscard]] const TopologyLink& link(LinkId id) const { return links_.at(id); }
  [[nodiscard]] TopologyFamily family() const noexcept { return family_; }

  [[nodiscard]] int num_gpus() const noexcept { return gpus_; }
  [[nodiscard]] int gpus_per_node() const noexcept { return gpus_per_node_; }
  [[nodiscard]] int num_nodes() const noexcept { return nodes_; }
  [[nodiscard]] int nics_per_node() const noexcept { return nics_per_node_; }
  [[nodiscard]] int num_nics() const noexcept { return nodes_ * nics_per_node_; }
  [[nodiscard]] int num_leaves() const noexcept { return leaves_; }
  [[nodiscard]] int num_pods() const noexcept { return pods_; }
  [[nodiscard]] int planes() const noexcept { return planes_; }  ///< equal-cost uplinks per leaf
  [[nodiscard]] int ecmp_flows() const noexcept { return ecmp_flows_; }
  [[nodiscard]] bool nvls() const noexcept { return nvls_; }  ///< node switch reduces in-network

  [[nodiscard]] int node_of(int gpu) const { return gpu / gpus_per_node_; }
  [[nodiscard]] int local_index(int gpu) const { return gpu % gpus_per_node_; }
  [[nodiscard]] int nic_of(int gpu) const;   ///< the NIC a GPU sends through (NCCL: the closest)
  [[nodiscard]] int leaf_of_nic(int nic) const;
  [[nodiscard]] int pod_of_leaf(int leaf) const { return leaf / leaves_per_pod_; }
  [[nodiscard]] int rail_of_nic(int nic) const { return nic % nics_per_node_; }

  [[nodiscard]] VertexId gpu_vertex(int gpu) const { return static_cast<VertexId>(gpu); }
  [[nodiscard]] VertexId node_switch_vertex(int node) const { return first_switch_vertex_ + static_cast<VertexId>(node); }
  [[nodiscard]] VertexId nic_vertex(int nic) const { return first_nic_vertex_ + static_cast<VertexId>(nic); }

  /// Appends the links a transfer from `src_gpu` to `dst_gpu` crosses, each with the share of
  /// its bytes (the transfer is split over ecmp_flows flows; with adaptive routing, 1/planes on
  /// every plane). Unlimited links are included.
  /// A transfer to itself crosses nothing. Throws std::out_of_range for an unknown GPU.
  void route(int src_gpu, int dst_gpu, std::vector<LinkShare>& out) const;
  /// The links of flow `flow` (0 <= flow < ecmp_flows) of that transfer, in order.
  [[nodiscard]] std::vector<LinkId> path(int src_gpu, int dst_gpu, int flow = 0) const;
  /// The most links a path crosses: GPU to NIC, NIC up, leaf up, spine up and down, leaf down,
  /// NIC down, NIC to GPU.
  static constexpr int kMaxPathLinks = 8;
  /// path() without allocating (network preparation routes ~10^5 transfers per step): writes the
  /// links to `out` and returns how many. Throws std::out_of_range for an unknown GPU.
  int path_links(int src_gpu, int dst_gpu, int flow, std::array<LinkId, kMaxPathLinks>& out) const;
  /// A GPU's port into its node switch, and back.
  [[nodiscard]] LinkId gpu_up_link(int gpu) const { return gpu_up_.at(static_cast<std::size_t>(gpu)); }
  [[nodiscard]] LinkId gpu_down_link(int gpu) const { return gpu_down_.at(static_cast<std::size_t>(gpu)); }
  /// Number of distinct equal-cost paths between the two GPUs.
  [[nodiscard]] int equal_cost_paths(int src_gpu, int dst_gpu) const;
  /// One-way latency of the path (sum of link latencies), seconds.
  [[nodiscard]] double latency_s(int src_gpu, int dst_gpu) const;

  /// True when every route loads the links of each bundle it uses equally (spread ECMP with a
  /// multiple of `planes()` flows, or a single plane), so a bundle may stand for its links.
  [[nodiscard]] bool bundles_are_uniform() const noexcept { return bundles_uniform_; }
  [[nodiscard]] int num_bundles() const noexcept { return static_cast<int>(bundle_links_.size()); }
  [[nodiscard]] std::span<const LinkId> bundle_links(BundleId bundle) const { return bundle_links_.at(bundle); }

  /// "NIC 97 (node 12) -> ToR 6", "pod 0 cluster switch 3 -> aggregation switch 3", ...
  [[nodiscard]] std::string link_name(LinkId id) const;
  /// "ToR 6 uplinks (16 x 50.0 GB/s)", "pod 0 aggregation uplinks (16 x 1.37 TB/s)", ...
  [[nodiscard]] std::string bundle_name(BundleId bundle) const;
  [[nodiscard]] std::string vertex_name(VertexId v) const;

 private:
  struct Shape;
  void build(const ClusterSpec& cluster, const Shape& shape);
  LinkId add_link(VertexId from, VertexId to, LinkKind kind, double bandwidth, double capacity, double latency_s);
  int plane(int src_nic, int dst_nic, int flow) const;
  /// Calls f(LinkId) for each link from `src_gpu` to `dst_gpu` (different GPUs) on ECMP flow `flow`,
  /// in order, without allocating (defined in topology_routing.cpp, its only user).
  template <class F>
  void visit_path(int src_gpu, int dst_gpu, int flow, F&& f) const;

  TopologyFamily family_ = TopologyFamily::fat_tree;
  int gpus_ = 0, gpus_per_node_ = 1, nodes_ = 0, nics_per_node_ = 1;
  int leaves_ = 0, leaves_per_pod_ = 1, pods_ = 0, planes_ = 0, ecmp_flows_ = 1;
  int nodes_per_leaf_group_ = 1;  // llama3: nodes per rack; rail: nodes per unit; fat tree: 0
  int nics_per_fat_leaf_ = 1;
  EcmpHash ecmp_hash_ = EcmpHash::spread;
  bool rails_ = false, nvls_ = false, nvswitch_ = true, bundles_uniform_ = true;
  VertexId first_switch_vertex_ = 0, first_nic_vertex_ = 0, first_leaf_vertex_ = 0;
  VertexId first_spine_vertex_ = 0, first_core_vertex_ = 0;

  TopologyGraph graph_;
  std::vector<TopologyLink> links_;
  std::vector<LinkId> gpu_up_, gpu_down_, gpu_to_nic_, nic_to_gpu_;  // per GPU
  std::vector<LinkId> nic_up_, nic_down_;                            // per NIC
  std::vector<LinkId> leaf_up_, leaf_down_;    // per leaf x plane
  std::vector<LinkId> spine_up_, spine_down_;  // per pod x plane (pods > 1)
  std::vector<std::vector<LinkId>> bundle_links_;
};

/// Fewest-hop path between two vertices by breadth-first search over the Boost graph (a generic
/// fallback and a check of the structured routing; O(V + E)). Empty when unreachable.
std::vector<LinkId> shortest_path(const Topology& topology, VertexId from, VertexId to);

/// Number of distinct fewest-hop paths between two vertices (counted by BFS; for small graphs).
std::size_t count_shortest_paths(const Topology& topology, VertexId from, VertexId to);

std::string_view to_string(TopologyFamily family);
std::string_view to_string(EcmpHash hash);

}  // namespace herd::model
