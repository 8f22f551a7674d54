#pragma once
// The static part of the network model: the cluster's topology graph and the shared resources
// ("slots") that flows compete for. It depends on the cluster only, not on a parallel plan: GPUs
// are addressed by their global index, which is also the rank that runs there (rank r runs on
// GPU r, model/placement.hpp), so one Fabric serves every layout of the cluster.
//
// A slot is one directed link or, when the routing loads the parallel links of a bundle evenly
// (spread ECMP over every plane), the whole bundle at the sum of its members' capacity: the same
// constraints with far fewer of them. Unlimited links (GPU to its NIC) have no slot.
//
// A Fabric is immutable after construction and can be shared by any number of simulations
// running on different threads (planner sweeps, the GUI).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "herd/model/hardware.hpp"
#include "herd/model/topology.hpp"

namespace herd::sim {

using SlotId = std::uint32_t;
inline constexpr SlotId kNoSlot = 0xFFFF'FFFFu;

struct SlotLoad {
  SlotId slot;
  double weight;  ///< bytes crossing the slot per byte of the operation's size
};

class TrafficBuilder;

struct FabricOptions {
  /// Let a bundle stand for its links where routing loads them evenly (same answers, fewer
  /// constraints); false keeps every link its own slot (for checks).
  bool bundle_links = true;
};

class Fabric {
 public:
  /// Builds the topology of the cluster. Throws model::ValueError (pointer into /cluster) for a
  /// fabric that cannot be built.
  explicit Fabric(const model::ClusterSpec& cluster, FabricOptions options = {});

  [[nodiscard]] const model::ClusterSpec& cluster() const noexcept { return cluster_; }
  [[nodiscard]] const model::Topology& topology() const noexcept { return topology_; }
  [[nodiscard]] int gpus() const noexcept { return topology_.num_gpus(); }
  [[nodiscard]] int node_of(int gpu) const { return topology_.node_of(gpu); }

  [[nodiscard]] std::size_t slot_count() const noexcept { return capacity_.size(); }
  [[nodiscard]] SlotId slot_of(model::LinkId link) const { return slot_of_link_.at(link); }
  [[nodiscard]] double slot_capacity(SlotId slot) const { return capacity_.at(slot); }  ///< bytes/s
  [[nodiscard]] std::span<const double> slot_capacities() const noexcept { return capacity_; }  ///< by slot
  [[nodiscard]] bool slot_is_bundle(SlotId slot) const { return slot >= topology_.links().size(); }
  [[nodiscard]] bool bundled() const noexcept { return bundled_; }
  /// The link's name, or the bundle's ("ToR 6 uplinks (16 x 50.0 GB/s)").
  [[nodiscard]] std::string slot_name(SlotId slot) const;

  /// Adds `weight` x (share of the bytes) to every slot the transfer from GPU `src` to GPU `dst`
  /// crosses (ECMP flows included) and returns the path's one-way latency (latency_s). Nothing
  /// and 0 for src == dst.
  double add_route(int src_gpu, int dst_gpu, double weight, TrafficBuilder& out) const;
  /// One-way latency between two GPUs (switch hops, NIC, NVLink), seconds.
  [[nodiscard]] double latency_s(int src_gpu, int dst_gpu) const { return topology_.latency_s(src_gpu, dst_gpu); }
  /// Hopper-class GPU (FP8 tensor cores): selects NCCL's per-architecture constants.
  [[nodiscard]] bool hopper_class() const noexcept { return cluster_.gpu.peak_fp8_flops > 0; }

 private:
  model::ClusterSpec cluster_;
  model::Topology topology_;
  std::vector<SlotId> slot_of_link_;
  std::vector<double> capacity_;
  bool bundled_ = false;
};

/// Whether a Fabric built for `a` also serves `b`: every figure the topology, its routing and the
/// collective algorithms read is the same, measured collective curves included (GPU compute
/// figures may differ).
bool same_network(const model::ClusterSpec& a, const model::ClusterSpec& b);

/// Accumulates slot loads (dense scratch over every slot of a fabric, cleared by take()).
/// One per thread of work; reuse it across many collectives to avoid reallocation.
class TrafficBuilder {
 public:
  explicit TrafficBuilder(std::size_t slots) : weight_(slots, 0.0) {}
  void add(SlotId slot, double weight);
  /// The loads added since the last take(), in the order their slots were first loaded (a
  /// deterministic order: sorting cost more than all the routing); leaves the builder empty.
  std::vector<SlotLoad> take();
  [[nodiscard]] bool empty() const noexcept { return touched_.empty(); }
  std::vector<model::LinkShare>& route_scratch() noexcept { return route_; }

 private:
  std::vector<double> weight_;
  std::vector<SlotId> touched_;
  std::vector<model::LinkShare> route_;
};

}  // namespace herd::sim
