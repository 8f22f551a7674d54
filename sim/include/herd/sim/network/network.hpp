#pragma once
// The fluid network model on top of herd::engine: transfers and collectives run as fluid
// activities over the fabric's slots, sharing them max-min fairly; rates are recomputed when
// any transfer starts or ends; latency is added before data flows.
//
// A point-to-point transfer is one activity over its route (ECMP flows included), delayed by the
// path latency. A collective over a group is ONE activity over every slot its pattern loads
// (weights = bytes per slot per byte of the collective), delayed by NCCL's latency for it, so a
// ring moves at the pace of its slowest link and concurrent groups contend where they share
// links. Callers start many groups at once (all 128 DP groups of a plan) with one call.
//
// Typical use:
//   herd::engine::Simulation sim;
//   herd::sim::Network net(sim, scenario);                    // or Network(sim, shared fabric)
//   auto dp = net.fabric().layout().groups(herd::model::Axis::dp);
//   net.start_collective({model::Collective::all_gather, dp, 1 << 30}, [](const CollectiveResult& r) { ... });
//   net.send(src_rank, dst_rank, bytes, [](const TransferResult& r) { ... });
//   sim.run();
//
// Callbacks run at the simulated time the operation completes and may start more work.
// A Network is not thread-safe; independent Networks (with their Simulations) may run on
// different threads and share one Fabric.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "herd/engine/fluid_system.hpp"
#include "herd/engine/simulation.hpp"
#include "herd/model/hardware.hpp"
#include "herd/sim/collective/algorithm.hpp"
#include "herd/sim/collective/collective_model.hpp"
#include "herd/sim/fabric/fabric.hpp"

namespace herd::sim {

struct TransferResult {
  int src_rank = 0, dst_rank = 0;
  double bytes = 0;
  double start_s = 0, end_s = 0;  ///< simulated seconds
  double latency_s = 0;           ///< path latency before data flowed
  SlotId bottleneck = kNoSlot;    ///< slot that limited the rate longest; kNoSlot: none did
  std::string bottleneck_name;    ///< its name, or "" for none
  [[nodiscard]] double time_s() const { return end_s - start_s; }
};

/// One collective call over one or more concurrent groups (all groups the same size).
struct CollectiveRequest {
  model::Collective op = model::Collective::all_reduce;
  std::vector<std::vector<int>> groups;  ///< global ranks; groups run at the same time
  double bytes = 0;                      ///< per rank, nccl-tests convention (collective.hpp)
  CollectiveOptions options = {};        ///< forced algorithm / protocol / channels / root
};

struct CollectiveResult {
  model::Collective op = model::Collective::all_reduce;
  Algorithm algorithm = Algorithm::ring;
  Protocol protocol = Protocol::simple;
  int channels = 1;
  int groups = 0;                ///< groups that ran concurrently
  int ranks_per_group = 0;
  double bytes = 0;
  double start_s = 0, end_s = 0;  ///< start of the call, end of its slowest group
  double latency_s = 0;           ///< latency of the first group before its data flowed
  double uncontended_time_s = 0;  ///< what one group alone would take (CollectiveModel)
  /// Of the first group: measured over modelled time alone (1: no measured curve), and the
  /// measured curve at `bytes` (0: none); CollectivePlan::calibration.
  double calibration = 1;
  double measured_time_s = 0;
  std::vector<double> group_time_s;  ///< per group, in request order
  SlotId bottleneck = kNoSlot;    ///< slot that limited the groups longest; kNoSlot: protocol ceiling or none
  std::string bottleneck_name;    ///< its name, "protocol ceiling (LL128)" or "" when nothing moved
  [[nodiscard]] double time_s() const { return end_s - start_s; }
  [[nodiscard]] double algbw() const { return time_s() > 0 ? bytes / time_s() : 0; }  ///< bytes/s, slowest group
  [[nodiscard]] double busbw() const { return algbw() * bus_factor(op, ranks_per_group); }
};

using TransferCallback = std::function<void(const TransferResult&)>;
using CollectiveCallback = std::function<void(const CollectiveResult&)>;

/// Per-slot view for reports: current load (bytes/s) against capacity.
struct SlotUsage {
  SlotId slot = kNoSlot;
  double load = 0;
  double capacity = 0;
};

class Network {
 public:
  /// `simulation` must outlive the Network. The fabric may be shared with other Networks.
  Network(engine::Simulation& simulation, std::shared_ptr<const Fabric> fabric);
  /// Builds a private fabric of the cluster (throws like Fabric).
  Network(engine::Simulation& simulation, const model::ClusterSpec& cluster);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  /// Moves `bytes` from one rank's GPU to another's over the routed path. Calls `on_done` when
  /// the last byte arrives. src == dst completes after 0 s. Throws std::invalid_argument for a
  /// rank outside the cluster or bytes negative or not finite.
  void send(int src_rank, int dst_rank, double bytes, TransferCallback on_done);

  /// Starts one collective on every group of the request at now(); `on_done` runs once, when
  /// the slowest group finishes. Algorithm, protocol and channels are chosen once (for the first
  /// group) the way CollectiveModel::plan chooses them. Throws std::invalid_argument for an
  /// empty request, groups of different sizes or a bad group.
  void start_collective(const CollectiveRequest& request, CollectiveCallback on_done);

  [[nodiscard]] const Fabric& fabric() const noexcept { return *fabric_; }
  [[nodiscard]] CollectiveModel& model() noexcept { return model_; }
  [[nodiscard]] engine::Simulation& simulation() const noexcept { return simulation_; }
  [[nodiscard]] engine::FluidSystem& fluid() noexcept { return fluid_; }
  /// Transfers and collective groups in flight (latency included).
  [[nodiscard]] std::size_t in_flight() const noexcept { return live_; }
  /// Current load of every slot carrying traffic, most utilised first (re-solves if needed).
  [[nodiscard]] std::vector<SlotUsage> busiest_slots(std::size_t limit);

 private:
  struct Item;
  struct Call;
  engine::ResourceId resource_of(SlotId slot);
  std::vector<engine::ResourceUse> uses_of(const std::vector<SlotLoad>& loads);
  std::uint32_t new_item();
  void begin_item(std::uint32_t item, double work, const std::vector<SlotLoad>& loads, double rate_bound, double latency_s);
  void sample(std::uint32_t item);
  void finish_item(std::uint32_t item);
  void finish_call(std::uint32_t call);

  engine::Simulation& simulation_;
  std::shared_ptr<const Fabric> fabric_;
  engine::FluidSystem fluid_;
  CollectiveModel model_;
  TrafficBuilder traffic_;
  std::vector<engine::ResourceId> resource_of_slot_;
  std::vector<SlotId> slot_of_resource_;
  std::vector<Item> items_;
  std::vector<std::uint32_t> free_items_;
  std::vector<Call> calls_;
  std::vector<std::uint32_t> free_calls_;
  std::vector<std::uint32_t> flowing_groups_;  // collective items whose data is flowing
  std::size_t live_ = 0;
};

}  // namespace herd::sim
