// Generic shortest paths over the Boost graph. Routing itself follows the Clos structure
// (topology_routing.cpp); these searches check it and serve graphs without that structure.
#include <algorithm>
#include <vector>

#include <boost/graph/breadth_first_search.hpp>

#include "herd/model/topology.hpp"

namespace herd::model {

namespace {

constexpr std::size_t kUnreached = static_cast<std::size_t>(-1);

// Hop distance of every vertex from `from` (kUnreached where none), by Boost's BFS.
std::vector<std::size_t> hop_distances(const TopologyGraph& g, VertexId from) {
  std::vector<std::size_t> distance(boost::num_vertices(g), kUnreached);
  distance[from] = 0;
  boost::breadth_first_search(
      g, from,
      boost::visitor(boost::make_bfs_visitor(boost::record_distances(distance.data(), boost::on_tree_edge()))));
  return distance;
}

}  // namespace

std::vector<LinkId> shortest_path(const Topology& topology, VertexId from, VertexId to) {
  const TopologyGraph& g = topology.graph();
  std::vector<std::size_t> predecessor(boost::num_vertices(g), kUnreached);
  predecessor[from] = from;
  boost::breadth_first_search(
      g, from,
      boost::visitor(boost::make_bfs_visitor(boost::record_predecessors(predecessor.data(), boost::on_tree_edge()))));
  if (predecessor[to] == kUnreached) return {};
  std::vector<LinkId> reversed;
  for (VertexId at = to; at != from;) {
    const auto u = static_cast<VertexId>(predecessor[at]);
    for (auto [e, end] = boost::out_edges(u, g); e != end; ++e) {
      if (boost::target(*e, g) == at) {
        reversed.push_back(g[*e].link);
        break;
      }
    }
    at = u;
  }
  return {reversed.rbegin(), reversed.rend()};
}

std::size_t count_shortest_paths(const Topology& topology, VertexId from, VertexId to) {
  const TopologyGraph& g = topology.graph();
  const auto distance = hop_distances(g, from);
  if (distance[to] == kUnreached) return 0;
  // Paths to a vertex = sum of paths to its predecessors one hop closer, in order of distance.
  std::vector<std::size_t> paths(boost::num_vertices(g), 0);
  paths[from] = 1;
  std::vector<VertexId> order;
  for (VertexId v = 0; v < boost::num_vertices(g); ++v)
    if (distance[v] != kUnreached && distance[v] <= distance[to]) order.push_back(v);
  std::stable_sort(order.begin(), order.end(), [&](VertexId a, VertexId b) { return distance[a] < distance[b]; });
  for (const VertexId u : order) {
    for (auto [e, end] = boost::out_edges(u, g); e != end; ++e) {
      const auto v = static_cast<VertexId>(boost::target(*e, g));
      if (distance[v] == distance[u] + 1) paths[v] += paths[u];
    }
  }
  return paths[to];
}

}  // namespace herd::model
