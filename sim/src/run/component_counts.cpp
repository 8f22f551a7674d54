#include "herd/sim/run/component_counts.hpp"

#include <algorithm>
#include <cmath>

namespace herd::sim::run {

double ComponentCounts::of(model::Component c) const {
  switch (c) {
    case model::Component::gpu: return gpu;
    case model::Component::node: return node;
    case model::Component::nic: return nic;
    case model::Component::leaf_switch: return leaf_switch;
    case model::Component::job: return job;
  }
  return job;
}

double leaf_switches(const model::ClusterSpec& c) {
  const double nodes = c.num_nodes();
  const auto& t = c.topology;
  switch (t.family) {
    case model::TopologyFamily::llama3_roce: return std::ceil(nodes / std::max(1, t.nodes_per_rack));
    case model::TopologyFamily::rail_fat_tree:
      return std::ceil(nodes / std::max(1, t.nodes_per_unit)) * c.nics_per_node;
    case model::TopologyFamily::fat_tree:
      return std::ceil(nodes * c.nics_per_node / std::max(1.0, t.switch_radix / 2.0));
    case model::TopologyFamily::single_switch: return 1;
  }
  return 1;
}

ComponentCounts component_counts(const model::ClusterSpec& c) {
  ComponentCounts n;
  n.gpu = c.num_gpus;
  n.node = c.num_nodes();
  n.nic = double(n.node) * c.nics_per_node;
  n.leaf_switch = leaf_switches(c);
  return n;
}

}  // namespace herd::sim::run
