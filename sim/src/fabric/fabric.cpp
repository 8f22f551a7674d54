// Slots: links, or whole bundles where routing spreads evenly over a bundle's links.
#include "herd/sim/fabric/fabric.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>

#include "herd/model/calibration_profile.hpp"

namespace herd::sim {

Fabric::Fabric(const model::ClusterSpec& cluster, FabricOptions options) : cluster_(cluster), topology_(cluster) {
  const auto links = topology_.links();
  const bool bundle = options.bundle_links && topology_.bundles_are_uniform();
  bundled_ = bundle;
  capacity_.reserve(links.size() + static_cast<std::size_t>(bundle ? topology_.num_bundles() : 0));
  slot_of_link_.assign(links.size(), kNoSlot);
  for (model::LinkId id = 0; id < links.size(); ++id) capacity_.push_back(links[id].capacity);
  if (bundle) {
    for (model::BundleId b = 0; b < static_cast<model::BundleId>(topology_.num_bundles()); ++b) {
      double sum = 0;
      for (const model::LinkId id : topology_.bundle_links(b)) sum += links[id].capacity;
      capacity_.push_back(sum);
    }
  }
  for (model::LinkId id = 0; id < links.size(); ++id) {
    if (!std::isfinite(links[id].capacity)) continue;
    slot_of_link_[id] = (bundle && links[id].bundle != model::kNoBundle)
                            ? static_cast<SlotId>(links.size() + links[id].bundle)
                            : static_cast<SlotId>(id);
  }
}

std::string Fabric::slot_name(SlotId slot) const {
  const auto links = topology_.links().size();
  if (slot < links) return topology_.link_name(slot);
  return topology_.bundle_name(static_cast<model::BundleId>(slot - links));
}

double Fabric::add_route(int src_gpu, int dst_gpu, double weight, TrafficBuilder& out) const {
  if (bundled_) {
    // Every flow's plane lies in the same bundles, which the routing loads evenly: the bundles of
    // one flow's path carry the whole transfer, and that path's links give the latency.
    std::array<model::LinkId, model::Topology::kMaxPathLinks> links;
    const int n = topology_.path_links(src_gpu, dst_gpu, 0, links);
    const auto all = topology_.links();
    double latency = 0;
    for (int i = 0; i < n; ++i) {
      const model::LinkId link = links[static_cast<std::size_t>(i)];
      latency += all[link].latency_s;
      const SlotId slot = slot_of_link_[link];
      if (slot != kNoSlot) out.add(slot, weight);
    }
    return latency;
  }
  auto& shares = out.route_scratch();
  shares.clear();
  topology_.route(src_gpu, dst_gpu, shares);
  for (const auto& share : shares) {
    const SlotId slot = slot_of_link_[share.link];
    if (slot != kNoSlot) out.add(slot, weight * share.fraction);
  }
  return topology_.latency_s(src_gpu, dst_gpu);
}

bool same_network(const model::ClusterSpec& a, const model::ClusterSpec& b) {
  auto topology = [](const model::TopologySpec& t) {
    return std::tie(t.family, t.nodes_per_rack, t.racks_per_pod, t.pod_oversubscription, t.aggregation_oversubscription,
                    t.nodes_per_unit, t.leaf_oversubscription, t.spine_oversubscription, t.switch_radix,
                    t.switch_latency_s, t.ecmp_flows, t.ecmp_hash);
  };
  auto collectives = [](const model::CollectiveSpec& k) {
    return std::tie(k.algorithm, k.protocol, k.channels, k.max_channels, k.nvls_channels, k.nvls_efficiency,
                    k.base_latency_s, k.intra_step_latency_s, k.inter_step_latency_s);
  };
  auto cluster = [](const model::ClusterSpec& c) {
    return std::tie(c.num_gpus, c.gpus_per_node, c.nvswitch, c.intra_node_bandwidth, c.intra_node_latency_s,
                    c.intra_node_efficiency, c.nvls, c.nics_per_node, c.nic_bandwidth, c.nic_efficiency, c.nic_latency_s,
                    c.degraded_nics, c.gpu.nvlink_bandwidth, c.gpu.peak_fp8_flops);
  };
  // Measured curves change how collectives are costed, so prepared operations differ with them.
  auto measured = [](const model::ClusterSpec& x, const model::ClusterSpec& y) {
    const auto& p = x.measured_collectives;
    const auto& q = y.measured_collectives;
    return p == q || (p && q && *p == *q);
  };
  return cluster(a) == cluster(b) && topology(a.topology) == topology(b.topology) &&
         collectives(a.collectives) == collectives(b.collectives) && measured(a, b);
}

void TrafficBuilder::add(SlotId slot, double weight) {
  if (weight_[slot] == 0) touched_.push_back(slot);
  weight_[slot] += weight;
}

std::vector<SlotLoad> TrafficBuilder::take() {
  std::vector<SlotLoad> loads;
  loads.reserve(touched_.size());
  for (const SlotId slot : touched_) {
    if (weight_[slot] > 0) loads.push_back(SlotLoad{slot, weight_[slot]});
    weight_[slot] = 0;
  }
  touched_.clear();
  return loads;
}

}  // namespace herd::sim
