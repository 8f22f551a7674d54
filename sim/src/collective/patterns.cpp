// Per-slot traffic of each collective algorithm, per byte of the operation's size.
//
// Ring (Patarasuk & Yuan 2009; NCCL): all-reduce moves 2(n-1)/n of the buffer over every ring
// hop, all-gather and reduce-scatter (n-1)/n, a broadcast or reduce pipeline 1 over every hop
// but the one back to the root. Double binary tree (Sanders, Speck & Träff 2009; NCCL 2.4):
// each tree carries half the buffer, up (reduce) and down (broadcast) every edge. NVLS: every GPU
// sends its whole buffer into the switch, which reduces, and reads back its 1/n share; the
// all-gather half multicasts each share to every GPU: (1 + 1/n) each way for all-reduce.
#include "herd/sim/collective/patterns.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace herd::sim {

namespace {

constexpr int kMaxAllToAllRanks = 4096;

bool reduction_family(model::Collective op) {
  return op == model::Collective::all_reduce || op == model::Collective::all_gather || op == model::Collective::reduce_scatter;
}

// A hop between two ranks. Between nodes of a rail-optimised fabric, the data first crosses
// NVLink to the GPU on the destination's rail (NCCL PXN), so that it never leaves its rail.
void add_hop(const Fabric& f, int a, int b, double weight, TrafficBuilder& out) {
  const model::Topology& t = f.topology();
  const int ga = a, gb = b;  // a rank runs on the GPU of the same index
  if (t.family() == model::TopologyFamily::rail_fat_tree && t.node_of(ga) != t.node_of(gb) &&
      t.rail_of_nic(t.nic_of(ga)) != t.rail_of_nic(t.nic_of(gb))) {
    const int relay = t.node_of(ga) * t.gpus_per_node() + t.local_index(gb);
    f.add_route(ga, relay, weight, out);
    f.add_route(relay, gb, weight, out);
    return;
  }
  f.add_route(ga, gb, weight, out);
}

int ring_channels(const GroupShape& s) { return s.nodes > 1 && s.max_per_node > 1 ? s.max_per_node : 1; }

// The ring of channel c: node by node, each node's ranks rotated by c, so that every channel
// enters and leaves a node through a different rank (and NIC).
std::vector<int> ring_order(const GroupShape& s, int channel) {
  std::vector<int> order;
  order.reserve(static_cast<std::size_t>(s.ranks));
  for (const auto& members : s.by_node) {
    const std::size_t size = members.size();
    for (std::size_t j = 0; j < size; ++j) order.push_back(members[(static_cast<std::size_t>(channel) + j) % size]);
  }
  return order;
}

void add_ring(const Fabric& f, const GroupShape& s, double hop_weight, int root_rank, bool chain, TrafficBuilder& out) {
  const int channels = ring_channels(s);
  for (int c = 0; c < channels; ++c) {
    std::vector<int> order = ring_order(s, c);
    if (chain) std::rotate(order.begin(), std::find(order.begin(), order.end(), root_rank), order.end());
    const std::size_t n = order.size();
    const std::size_t hops = chain ? n - 1 : (n > 1 ? n : 0);
    for (std::size_t i = 0; i < hops; ++i) add_hop(f, order[i], order[(i + 1) % n], hop_weight / channels, out);
  }
}

// In-order binary tree over 0..n-1 rooted at 0: a node's parent clears its lowest set bit and
// sets the next one up, or just clears it when that would leave the range.
int tree_parent(int x, int n) {
  const int low = x & -x;
  const int up = (x ^ low) | (low << 1);
  return up < n ? up : (x ^ low);
}

// The second tree of the pair uses the first's shape on relabelled nodes (mirrored for an even
// count, shifted by one for an odd count), so a node that is inner in one tree is a leaf in the
// other and the two trees together load every node evenly.
int relabel(int x, int n) { return n % 2 == 0 ? n - 1 - x : (x + n - 1) % n; }

// Both trees of the pair over `heads` (one rank per node): every edge carries `weight` of the
// buffer each way per tree (half the buffer up for the reduce, half down for the broadcast).
void add_tree_pair(const Fabric& f, const std::vector<int>& heads, double weight, TrafficBuilder& out) {
  const int n = static_cast<int>(heads.size());
  for (int tree = 0; tree < 2; ++tree) {
    for (int v = 1; v < n; ++v) {
      const int child = tree == 0 ? v : relabel(v, n);
      const int parent = tree == 0 ? tree_parent(v, n) : relabel(tree_parent(v, n), n);
      const int hc = heads[static_cast<std::size_t>(child)], hp = heads[static_cast<std::size_t>(parent)];
      add_hop(f, hc, hp, weight, out);
      add_hop(f, hp, hc, weight, out);
    }
  }
}

void add_double_binary_tree(const Fabric& f, const GroupShape& s, TrafficBuilder& out) {
  const int channels = ring_channels(s);
  const int n = s.nodes;
  std::vector<int> head(static_cast<std::size_t>(n));
  for (int c = 0; c < channels; ++c) {
    const double w = 1.0 / channels;
    for (int i = 0; i < n; ++i) {
      const auto& members = s.by_node[static_cast<std::size_t>(i)];
      const std::size_t size = members.size();
      head[static_cast<std::size_t>(i)] = members[static_cast<std::size_t>(c) % size];
      // Chain inside the node from its head: each tree sends half the buffer up and half down,
      // so each direction of a chain edge carries the whole buffer once.
      for (std::size_t j = 0; j + 1 < size; ++j) {
        const int x = members[(c + j) % size], y = members[(c + j + 1) % size];
        f.add_route(x, y, w, out);
        f.add_route(y, x, w, out);
      }
    }
    add_tree_pair(f, head, 0.5 * w, out);
  }
}

// In-switch reduction inside one node: what each member pushes into and reads from the switch.
void add_nvls(const Fabric& f, model::Collective op, std::span<const int> ranks, double scale, TrafficBuilder& out) {
  const double m = static_cast<double>(ranks.size());
  double up = 0, down = 0;
  switch (op) {
    case model::Collective::all_reduce: up = down = 1 + 1 / m; break;
    case model::Collective::all_gather: up = 1 / m; down = 1; break;
    case model::Collective::reduce_scatter: up = 1; down = 1 / m; break;
    default: break;
  }
  const model::Topology& t = f.topology();
  for (const int r : ranks) {
    const int g = r;
    out.add(f.slot_of(t.gpu_up_link(g)), up * scale);
    out.add(f.slot_of(t.gpu_down_link(g)), down * scale);
  }
}

void add_simple_ring(const Fabric& f, std::span<const int> ranks, double hop_weight, TrafficBuilder& out) {
  const std::size_t n = ranks.size();
  for (std::size_t i = 0; n > 1 && i < n; ++i) add_hop(f, ranks[i], ranks[(i + 1) % n], hop_weight, out);
}

// NCCL's NVLS tree for all-reduce: reduce inside each node (NVLS, or a ring without it), then
// a double binary tree between nodes per local rank on a 1/m share, then broadcast inside the
// node. All-gather and reduce-scatter have no tree in NCCL: rings between nodes per local rank.
void add_hierarchical(const Fabric& f, model::Collective op, const GroupShape& s, double nvls_scale, TrafficBuilder& out) {
  const int m = s.max_per_node, n = s.nodes;
  const bool all_reduce = op == model::Collective::all_reduce;
  for (const auto& members : s.by_node) {
    if (f.topology().nvls()) add_nvls(f, op, members, nvls_scale, out);
    else add_simple_ring(f, members, (all_reduce ? 2.0 : 1.0) * (m - 1) / m, out);
  }
  std::vector<int> rail(static_cast<std::size_t>(n));
  for (int j = 0; j < m; ++j) {
    for (int i = 0; i < n; ++i) rail[static_cast<std::size_t>(i)] = s.by_node[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
    if (all_reduce) add_tree_pair(f, rail, 0.5 / m, out);
    else add_simple_ring(f, rail, (n - 1.0) / n / m, out);
  }
}

}  // namespace

GroupShape shape_of(const Fabric& fabric, std::span<const int> group) {
  if (group.empty()) throw std::invalid_argument("herd::sim: a collective group needs at least one rank");
  std::vector<int> sorted(group.begin(), group.end());
  std::sort(sorted.begin(), sorted.end());
  if (sorted.front() < 0 || sorted.back() >= fabric.gpus())
    throw std::invalid_argument("herd::sim: rank " + std::to_string(sorted.front() < 0 ? sorted.front() : sorted.back()) +
                                " is not among the cluster's " + std::to_string(fabric.gpus()) + " GPUs");
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw std::invalid_argument("herd::sim: rank " + std::to_string(*std::adjacent_find(sorted.begin(), sorted.end())) +
                                " appears twice in a collective group");
  GroupShape s;
  s.ranks = static_cast<int>(group.size());
  if (std::is_sorted(group.begin(), group.end())) {
    // Ranks in order sit on nodes in order: a node's members are consecutive.
    for (const int r : group) {
      if (s.by_node.empty() || fabric.node_of(s.by_node.back().front()) != fabric.node_of(r)) s.by_node.emplace_back();
      s.by_node.back().push_back(r);
    }
  } else {
    std::unordered_map<int, std::size_t> index_of_node;
    for (const int r : group) {
      const auto [it, added] = index_of_node.emplace(fabric.node_of(r), s.by_node.size());
      if (added) s.by_node.emplace_back();
      s.by_node[it->second].push_back(r);
    }
  }
  s.nodes = static_cast<int>(s.by_node.size());
  for (const auto& members : s.by_node) {
    s.max_per_node = std::max(s.max_per_node, static_cast<int>(members.size()));
    s.uniform = s.uniform && members.size() == s.by_node.front().size();
  }
  for (std::size_t i = 0; s.nodes > 1 && i < s.by_node.size(); ++i) {
    const int a = s.by_node[i].front(), b = s.by_node[(i + 1) % s.by_node.size()].front();
    s.inter_node_latency_s = std::max(s.inter_node_latency_s, fabric.latency_s(a, b));
  }
  return s;
}

bool algorithm_applies(const Fabric& fabric, model::Collective op, Algorithm algorithm, const GroupShape& shape) {
  switch (algorithm) {
    case Algorithm::ring: return op != model::Collective::all_to_all && op != model::Collective::send_recv;
    case Algorithm::tree: return op == model::Collective::all_reduce;
    case Algorithm::nvls: return reduction_family(op) && shape.nodes == 1 && shape.ranks > 1 && fabric.topology().nvls();
    case Algorithm::hierarchical:
      return reduction_family(op) && shape.nodes > 1 && shape.uniform && shape.max_per_node > 1;
    case Algorithm::direct: return op == model::Collective::all_to_all || op == model::Collective::send_recv;
    case Algorithm::automatic: return false;
  }
  return false;
}

void add_pattern(const Fabric& f, model::Collective op, Algorithm algorithm, std::span<const int> group,
                 const GroupShape& s, int root, double nvls_scale, TrafficBuilder& out) {
  if (!algorithm_applies(f, op, algorithm, s))
    throw std::invalid_argument("herd::sim: the " + std::string(to_string(algorithm)) + " algorithm cannot run " +
                                std::string(to_string(op)) + " on a group of " + std::to_string(s.ranks) + " ranks on " +
                                std::to_string(s.nodes) + " nodes");
  const double n = s.ranks;
  switch (algorithm) {
    case Algorithm::ring:
      if (op == model::Collective::broadcast || op == model::Collective::reduce) {
        if (root < 0 || root >= s.ranks) throw std::invalid_argument("herd::sim: root " + std::to_string(root) + " is outside the group");
        add_ring(f, s, 1.0, group[static_cast<std::size_t>(root)], true, out);
      } else {
        add_ring(f, s, bus_factor(op, s.ranks), 0, false, out);
      }
      break;
    case Algorithm::tree: add_double_binary_tree(f, s, out); break;
    case Algorithm::nvls: add_nvls(f, op, group, nvls_scale, out); break;
    case Algorithm::hierarchical: add_hierarchical(f, op, s, nvls_scale, out); break;
    case Algorithm::direct:
      if (op == model::Collective::send_recv) {
        add_simple_ring(f, group, 1.0, out);
      } else {
        // n (n - 1) routed pairs: bounded so that a whole-cluster all-to-all fails fast.
        if (s.ranks > kMaxAllToAllRanks)
          throw std::invalid_argument("herd::sim: all-to-all over " + std::to_string(s.ranks) + " ranks; at most " +
                                      std::to_string(kMaxAllToAllRanks) + " are modelled (one route per pair)");
        for (const int a : group)
          for (const int b : group)
            if (a != b) f.add_route(a, b, 1.0 / n, out);
      }
      break;
    case Algorithm::automatic: break;
  }
}

}  // namespace herd::sim
