// Building the fabric graph: each family reduces to the same folded Clos (leaves, spine planes,
// core planes), so one builder serves all, and routing can follow the structure (up/down)
// instead of searching the graph.
#include "herd/model/topology.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "herd/model/error.hpp"

namespace herd::model {

// What a family decides: how NICs map to leaves, how many leaves share the spine planes of a
// pod, and the rates of the uplinks.
struct Topology::Shape {
  int leaves = 1;
  int leaves_per_pod = 1;
  int planes = 0;         // uplinks per leaf, one per spine plane
  double uplink_bw = 0;   // bytes/s of one leaf uplink
  double core_bw = 0;     // bytes/s of one spine plane's link to its core plane
  int nodes_per_group = 1;
  int nics_per_fat_leaf = 1;
  bool rails = false;
};

namespace {

constexpr double kUnlimited = std::numeric_limits<double>::infinity();

int ceil_div(long long a, long long b) { return static_cast<int>((a + b - 1) / b); }

}  // namespace

std::string_view to_string(TopologyFamily family) {
  switch (family) {
    case TopologyFamily::llama3_roce: return "llama3_roce";
    case TopologyFamily::rail_fat_tree: return "rail_fat_tree";
    case TopologyFamily::fat_tree: return "fat_tree";
    case TopologyFamily::single_switch: return "single_switch";
  }
  return "?";
}

std::string_view to_string(EcmpHash hash) {
  switch (hash) {
    case EcmpHash::spread: return "spread";
    case EcmpHash::hash: return "hash";
    case EcmpHash::adaptive: return "adaptive";
  }
  return "?";
}

Topology::Topology(const ClusterSpec& c) {
  const TopologySpec& t = c.topology;
  if (c.num_gpus < 1) throw ValueError("/cluster/num_gpus", "must be at least 1");
  if (c.nics_per_node > c.gpus_per_node || c.gpus_per_node % c.nics_per_node != 0)
    throw ValueError("/cluster/nic/per_node", std::to_string(c.nics_per_node) + " NICs per node must divide " +
                                                  std::to_string(c.gpus_per_node) + " GPUs per node");
  family_ = t.family;
  gpus_ = c.num_gpus;
  gpus_per_node_ = c.gpus_per_node;
  nodes_ = c.num_nodes();
  nics_per_node_ = c.nics_per_node;
  ecmp_flows_ = t.ecmp_flows;
  ecmp_hash_ = t.ecmp_hash;
  nvls_ = c.nvls && c.nvswitch;
  nvswitch_ = c.nvswitch;
  const int nics = num_nics();

  Shape s;
  switch (t.family) {
    case TopologyFamily::llama3_roce: {
      // A ToR per rack; each NIC of the rack has one uplink's worth towards its own cluster-switch
      // plane (full bisection at pod_oversubscription 1); plane k of every pod meets aggregation
      // switch k, whose links carry the pod's uplink bandwidth divided by the aggregation ratio.
      s.nodes_per_group = t.nodes_per_rack;
      s.leaves = ceil_div(nodes_, t.nodes_per_rack);
      s.leaves_per_pod = t.racks_per_pod;
      s.planes = t.nodes_per_rack * c.nics_per_node;
      s.uplink_bw = c.nic_bandwidth / t.pod_oversubscription;
      s.core_bw = t.racks_per_pod * s.uplink_bw / t.aggregation_oversubscription;
      break;
    }
    case TopologyFamily::rail_fat_tree: {
      // One leaf per rail per scalable unit; spines take one link from every leaf of a block.
      // Blocks of whole units fill half a spine's ports when a core tier is needed.
      s.rails = true;
      s.nodes_per_group = t.nodes_per_unit;
      const int units = ceil_div(nodes_, t.nodes_per_unit);
      s.leaves = units * c.nics_per_node;
      s.planes = t.nodes_per_unit;
      s.uplink_bw = c.nic_bandwidth / t.leaf_oversubscription;
      const int units_per_block =
          s.leaves <= t.switch_radix ? units : std::max(1, t.switch_radix / 2 / c.nics_per_node);
      s.leaves_per_pod = units_per_block * c.nics_per_node;
      s.core_bw = s.leaves_per_pod * s.uplink_bw / t.spine_oversubscription;
      break;
    }
    case TopologyFamily::fat_tree: {
      if (t.switch_radix < 2) throw ValueError("/cluster/topology/switch_radix", "a fat tree needs switches of at least 2 ports");
      const int half = t.switch_radix / 2;
      s.nics_per_fat_leaf = half;
      s.nodes_per_group = 0;
      s.leaves = ceil_div(nics, half);
      s.planes = half;
      s.uplink_bw = c.nic_bandwidth / t.leaf_oversubscription;
      s.leaves_per_pod = s.leaves <= t.switch_radix ? s.leaves : half;
      s.core_bw = s.leaves_per_pod * s.uplink_bw / t.spine_oversubscription;
      break;
    }
    case TopologyFamily::single_switch:
      s.nodes_per_group = nodes_;
      s.leaves = 1;
      s.leaves_per_pod = 1;
      s.planes = 0;
      break;
  }
  if (s.leaves == 1) s.planes = 0;  // nothing above a single leaf
  build(c, s);
}

LinkId Topology::add_link(VertexId from, VertexId to, LinkKind kind, double bandwidth, double capacity,
                          double latency_s) {
  const auto id = static_cast<LinkId>(links_.size());
  links_.push_back(TopologyLink{from, to, kind, bandwidth, capacity, latency_s, kNoBundle});
  boost::add_edge(from, to, TopologyEdge{id}, graph_);
  return id;
}

void Topology::build(const ClusterSpec& c, const Shape& s) {
  const TopologySpec& t = c.topology;
  leaves_ = s.leaves;
  leaves_per_pod_ = std::max(1, s.leaves_per_pod);
  pods_ = ceil_div(leaves_, leaves_per_pod_);
  planes_ = s.planes;
  rails_ = s.rails;
  nodes_per_leaf_group_ = s.nodes_per_group;
  nics_per_fat_leaf_ = s.nics_per_fat_leaf;
  bundles_uniform_ = planes_ <= 1 || ecmp_hash_ == EcmpHash::adaptive ||
                     (ecmp_hash_ == EcmpHash::spread && ecmp_flows_ % planes_ == 0);
  const int nics = num_nics();
  const bool core = pods_ > 1 && planes_ > 0;

  first_switch_vertex_ = static_cast<VertexId>(gpus_);
  first_nic_vertex_ = first_switch_vertex_ + static_cast<VertexId>(nodes_);
  first_leaf_vertex_ = first_nic_vertex_ + static_cast<VertexId>(nics);
  first_spine_vertex_ = first_leaf_vertex_ + static_cast<VertexId>(leaves_);
  first_core_vertex_ = first_spine_vertex_ + static_cast<VertexId>(pods_ * planes_);
  const VertexId vertices = first_core_vertex_ + static_cast<VertexId>(core ? planes_ : 0);
  // Vertices are added one by one: assigning a whole adjacency_list trips a false
  // -Wmaybe-uninitialized inside Boost's copy under GCC 12.
  auto name_vertex = [&](VertexId v, VertexKind kind, VertexId first) { boost::add_vertex(TopologyVertex{kind, v - first}, graph_); };
  for (VertexId v = 0; v < vertices; ++v) {
    if (v < first_switch_vertex_) name_vertex(v, VertexKind::gpu, 0);
    else if (v < first_nic_vertex_) name_vertex(v, VertexKind::node_switch, first_switch_vertex_);
    else if (v < first_leaf_vertex_) name_vertex(v, VertexKind::nic, first_nic_vertex_);
    else if (v < first_spine_vertex_) name_vertex(v, VertexKind::leaf, first_leaf_vertex_);
    else if (v < first_core_vertex_) name_vertex(v, VertexKind::spine, first_spine_vertex_);
    else name_vertex(v, VertexKind::core, first_core_vertex_);
  }
  links_.reserve(static_cast<std::size_t>(4 * gpus_ + 2 * nics + 2 * leaves_ * planes_ + 2 * pods_ * planes_));

  // Inside a node: each GPU's port into the node switch, both ways, at the usable NVLink rate;
  // and its PCIe path to its NIC, which never limits a 400 Gb/s NIC.
  const double nvlink_capacity = c.intra_node_bandwidth * c.intra_node_efficiency;
  for (int g = 0; g < gpus_; ++g) {
    const VertexId sw = node_switch_vertex(node_of(g));
    gpu_up_.push_back(add_link(gpu_vertex(g), sw, LinkKind::gpu_up, c.intra_node_bandwidth, nvlink_capacity,
                               c.intra_node_latency_s));
    gpu_down_.push_back(add_link(sw, gpu_vertex(g), LinkKind::gpu_down, c.intra_node_bandwidth, nvlink_capacity, 0));
    const VertexId nic = nic_vertex(nic_of(g));
    gpu_to_nic_.push_back(add_link(gpu_vertex(g), nic, LinkKind::gpu_to_nic, kUnlimited, kUnlimited, c.nic_latency_s));
    nic_to_gpu_.push_back(add_link(nic, gpu_vertex(g), LinkKind::nic_to_gpu, kUnlimited, kUnlimited, 0));
  }
  // NIC ports: the NIC's measured efficiency applies where its traffic starts and ends.
  const double nic_capacity = c.nic_bandwidth * c.nic_efficiency;
  std::vector<double> nic_factor(static_cast<std::size_t>(nics), 1.0);
  for (const auto& [nic, factor] : c.degraded_nics)
    if (nic >= 0 && nic < nics) nic_factor[static_cast<std::size_t>(nic)] = factor;  // what-if: a degraded NIC
  for (int n = 0; n < nics; ++n) {
    const VertexId leaf = first_leaf_vertex_ + static_cast<VertexId>(leaf_of_nic(n));
    const double capacity = nic_capacity * nic_factor[static_cast<std::size_t>(n)];
    nic_up_.push_back(add_link(nic_vertex(n), leaf, LinkKind::nic_up, c.nic_bandwidth, capacity, t.switch_latency_s));
    nic_down_.push_back(add_link(leaf, nic_vertex(n), LinkKind::nic_down, c.nic_bandwidth, capacity, 0));
  }
  // Switch-to-switch links run at line rate; bundles group the parallel links of one leaf or pod.
  bundle_links_.assign(static_cast<std::size_t>(2 * leaves_ + (core ? 2 * pods_ : 0)), {});
  for (int l = 0; l < leaves_ && planes_ > 0; ++l) {
    const int pod = pod_of_leaf(l);
    const VertexId leaf = first_leaf_vertex_ + static_cast<VertexId>(l);
    for (int k = 0; k < planes_; ++k) {
      const VertexId spine = first_spine_vertex_ + static_cast<VertexId>(pod * planes_ + k);
      const LinkId up = add_link(leaf, spine, LinkKind::leaf_up, s.uplink_bw, s.uplink_bw, t.switch_latency_s);
      const LinkId down = add_link(spine, leaf, LinkKind::leaf_down, s.uplink_bw, s.uplink_bw, t.switch_latency_s);
      leaf_up_.push_back(up);
      leaf_down_.push_back(down);
      links_[up].bundle = static_cast<BundleId>(l);
      links_[down].bundle = static_cast<BundleId>(leaves_ + l);
      bundle_links_[static_cast<std::size_t>(l)].push_back(up);
      bundle_links_[static_cast<std::size_t>(leaves_ + l)].push_back(down);
    }
  }
  for (int p = 0; core && p < pods_; ++p) {
    for (int k = 0; k < planes_; ++k) {
      const VertexId spine = first_spine_vertex_ + static_cast<VertexId>(p * planes_ + k);
      const VertexId top = first_core_vertex_ + static_cast<VertexId>(k);
      const LinkId up = add_link(spine, top, LinkKind::spine_up, s.core_bw, s.core_bw, t.switch_latency_s);
      const LinkId down = add_link(top, spine, LinkKind::spine_down, s.core_bw, s.core_bw, t.switch_latency_s);
      spine_up_.push_back(up);
      spine_down_.push_back(down);
      const auto up_bundle = static_cast<BundleId>(2 * leaves_ + p);
      const auto down_bundle = static_cast<BundleId>(2 * leaves_ + pods_ + p);
      links_[up].bundle = up_bundle;
      links_[down].bundle = down_bundle;
      bundle_links_[up_bundle].push_back(up);
      bundle_links_[down_bundle].push_back(down);
    }
  }
}

int Topology::nic_of(int gpu) const {
  return node_of(gpu) * nics_per_node_ + local_index(gpu) * nics_per_node_ / gpus_per_node_;
}

int Topology::leaf_of_nic(int nic) const {
  const int node = nic / nics_per_node_;
  switch (family_) {
    case TopologyFamily::llama3_roce: return node / nodes_per_leaf_group_;
    case TopologyFamily::rail_fat_tree: return (node / nodes_per_leaf_group_) * nics_per_node_ + rail_of_nic(nic);
    case TopologyFamily::fat_tree: return nic / nics_per_fat_leaf_;
    case TopologyFamily::single_switch: return 0;
  }
  return 0;
}

}  // namespace herd::model
