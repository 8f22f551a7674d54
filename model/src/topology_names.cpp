// Names of vertices, links and bundles as a report prints them, in each family's own words
// (Llama 3: ToR, cluster switch, aggregation switch; SuperPOD and fat trees: leaf, spine, core).
#include <string>

#include "herd/model/topology.hpp"
#include "herd/model/units.hpp"

namespace herd::model {

namespace {

struct TierWords {
  const char* leaf;
  const char* spine;
  const char* core;
};

TierWords words(TopologyFamily family) {
  if (family == TopologyFamily::llama3_roce) return {"ToR", "cluster switch", "aggregation switch"};
  return {"leaf", "spine", "core switch"};
}

}  // namespace

std::string Topology::vertex_name(VertexId v) const {
  const TopologyVertex& vertex = graph_[v];
  const auto i = static_cast<int>(vertex.index);
  const TierWords w = words(family_);
  switch (vertex.kind) {
    case VertexKind::gpu: return "node " + std::to_string(node_of(i)) + " GPU " + std::to_string(local_index(i));
    case VertexKind::node_switch: return std::string(nvswitch_ ? "NVSwitch" : "PCIe switch") + " of node " + std::to_string(i);
    case VertexKind::nic: return "NIC " + std::to_string(i) + " (node " + std::to_string(i / nics_per_node_) + ")";
    case VertexKind::leaf: {
      std::string name = std::string(w.leaf) + " " + std::to_string(i);
      if (rails_) name += " (rail " + std::to_string(i % nics_per_node_) + ")";
      return name;
    }
    case VertexKind::spine:
      return (pods_ > 1 ? "pod " + std::to_string(i / planes_) + " " : std::string()) + w.spine + " " + std::to_string(i % planes_);
    case VertexKind::core: return std::string(w.core) + " " + std::to_string(i);
  }
  return "?";
}

std::string Topology::link_name(LinkId id) const {
  const TopologyLink& l = links_.at(id);
  return vertex_name(l.from) + " -> " + vertex_name(l.to);
}

std::string Topology::bundle_name(BundleId bundle) const {
  const auto& members = bundle_links_.at(bundle);
  const auto b = static_cast<int>(bundle);
  const TierWords w = words(family_);
  std::string name;
  if (b < leaves_) name = std::string(w.leaf) + " " + std::to_string(b) + " uplinks";
  else if (b < 2 * leaves_) name = std::string(w.leaf) + " " + std::to_string(b - leaves_) + " downlinks";
  else if (b < 2 * leaves_ + pods_) name = "pod " + std::to_string(b - 2 * leaves_) + " " + w.core + " uplinks";
  else name = "pod " + std::to_string(b - 2 * leaves_ - pods_) + " " + w.core + " downlinks";
  if (!members.empty())
    name += " (" + std::to_string(members.size()) + " x " + format_bandwidth(links_[members.front()].bandwidth) + ")";
  return name;
}

}  // namespace herd::model
