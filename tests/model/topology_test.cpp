// The fabric graph: sizes of each family, link rates, up/down routing checked against a generic
// breadth-first search over the Boost graph, ECMP splitting and path latency.
#include <catch2/catch.hpp>

#include <numeric>

#include "herd/model/error.hpp"
#include "herd/model/scenario.hpp"
#include "herd/model/topology.hpp"
#include "herd/model/units.hpp"

using namespace herd::model;

namespace {

ClusterSpec llama3_cluster(int gpus) {
  ClusterSpec c = default_scenario().cluster;  // llama3-roce preset: 400 Gb/s RoCE, 16 flows per pair
  c.num_gpus = gpus;
  return c;
}

ClusterSpec small_cluster(TopologyFamily family, int gpus, int gpus_per_node, int radix = 4) {
  ClusterSpec c = default_scenario().cluster;
  c.num_gpus = gpus;
  c.gpus_per_node = gpus_per_node;
  c.nics_per_node = gpus_per_node;
  c.topology.family = family;
  c.topology.switch_radix = radix;
  c.topology.nodes_per_rack = 2;
  c.topology.racks_per_pod = 2;
  c.topology.nodes_per_unit = 2;
  c.topology.ecmp_flows = 1;
  return c;
}

double sum_fractions(const std::vector<LinkShare>& shares, const Topology& t, LinkKind kind) {
  double sum = 0;
  for (const auto& s : shares)
    if (t.link(s.link).kind == kind) sum += s.fraction;
  return sum;
}

}  // namespace

TEST_CASE("the Llama 3 cluster of 24,576 GPUs: racks, pods, planes and link rates", "[topology]") {
  const Topology t(llama3_cluster(24576));
  CHECK(t.num_nodes() == 3072);
  CHECK(t.num_nics() == 24576);
  CHECK(t.num_leaves() == 1536);  // 2 servers (16 GPUs) per ToR
  CHECK(t.num_pods() == 8);       // 192 racks, 3,072 GPUs per pod
  CHECK(t.planes() == 16);        // one uplink per NIC of the rack at 1:1
  const auto path = t.path(0, 24575);
  REQUIRE(path.size() == 8);      // GPU-NIC-ToR-cluster-aggregation-cluster-ToR-NIC-GPU
  CHECK(t.link(path[1]).kind == LinkKind::nic_up);
  CHECK(t.link(path[1]).capacity == Approx(50e9 * 0.94));  // 400 Gb/s x NIC efficiency
  CHECK(t.link(path[2]).capacity == Approx(50e9));         // ToR uplink at line rate
  // Aggregation: a pod's 192 x 16 uplinks of 50 GB/s over 16 planes, divided by 7.
  CHECK(t.link(path[3]).kind == LinkKind::spine_up);
  CHECK(t.link(path[3]).capacity == Approx(192 * 50e9 / 7));
}

TEST_CASE("paths climb only as high as the two GPUs' lowest common switch", "[topology]") {
  const Topology t(llama3_cluster(16384));
  CHECK(t.path(0, 7).size() == 2);             // same server: NVLink up, NVLink down
  CHECK(t.path(0, 8).size() == 4);             // same rack: through the ToR
  CHECK(t.path(0, 16).size() == 6);            // same pod: ToR, cluster switch, ToR
  CHECK(t.path(0, 3072).size() == 8);          // next pod: through aggregation
  CHECK(t.path(5, 5).empty());
  // One switch per hop up or down, plus the NIC's host latency: 5 x 1 us + 2 us across pods.
  CHECK(t.latency_s(0, 3072) == Approx(7e-6));
  CHECK(t.latency_s(0, 8) == Approx(3e-6));
  CHECK(t.latency_s(0, 1) == Approx(1e-6));   // intra-node latency
  CHECK_THROWS_AS(t.path(0, 16384), std::out_of_range);
}

TEST_CASE("structured routes are shortest paths and ECMP sees every plane", "[topology]") {
  // 2 pods x 2 racks x 2 servers x 2 GPUs: small enough for an exhaustive BFS comparison.
  ClusterSpec c = small_cluster(TopologyFamily::llama3_roce, 16, 2);
  const Topology t(c);
  REQUIRE(t.num_pods() == 2);
  REQUIRE(t.planes() == 4);
  for (int a = 0; a < 16; ++a) {
    for (int b = 0; b < 16; ++b) {
      if (a == b) continue;
      const auto structured = t.path(a, b);
      const auto searched = shortest_path(t, t.gpu_vertex(a), t.gpu_vertex(b));
      CHECK(structured.size() == searched.size());
      CHECK(count_shortest_paths(t, t.gpu_vertex(a), t.gpu_vertex(b)) ==
            static_cast<std::size_t>(t.equal_cost_paths(a, b)));
      // Consecutive links meet: each starts where the previous one ends.
      for (std::size_t i = 1; i < structured.size(); ++i)
        CHECK(t.link(structured[i]).from == t.link(structured[i - 1]).to);
    }
  }
}

TEST_CASE("a transfer split over 16 flows spreads evenly over the 16 uplinks", "[topology][ecmp]") {
  const Topology t(llama3_cluster(16384));
  std::vector<LinkShare> shares;
  t.route(0, 3072 + 16, shares);
  CHECK(sum_fractions(shares, t, LinkKind::leaf_up) == Approx(1.0));
  CHECK(sum_fractions(shares, t, LinkKind::spine_up) == Approx(1.0));
  for (const auto& s : shares)
    if (t.link(s.link).kind == LinkKind::leaf_up) CHECK(s.fraction == Approx(1.0 / 16));
  CHECK(t.bundles_are_uniform());

  ClusterSpec hashed = llama3_cluster(16384);
  hashed.topology.ecmp_hash = EcmpHash::hash;  // each flow hashed on its own: collisions may stack flows
  const Topology h(hashed);
  CHECK_FALSE(h.bundles_are_uniform());
  shares.clear();
  h.route(0, 3072 + 16, shares);
  CHECK(sum_fractions(shares, h, LinkKind::leaf_up) == Approx(1.0));
  double largest = 0;
  for (const auto& s : shares)
    if (h.link(s.link).kind == LinkKind::leaf_up) largest = std::max(largest, s.fraction);
  CHECK(largest >= 1.0 / 16);
  // Deterministic: the same pair hashes the same way every time.
  std::vector<LinkShare> again;
  h.route(0, 3072 + 16, again);
  REQUIRE(again.size() == shares.size());
  for (std::size_t i = 0; i < again.size(); ++i) CHECK(again[i].link == shares[i].link);
}

TEST_CASE("adaptive routing spreads every transfer evenly over all equal-cost uplinks", "[topology][ecmp]") {
  // Whatever ecmp_flows says, each of the 16 planes carries 1/16 of the transfer.
  ClusterSpec c = llama3_cluster(16384);
  c.topology.ecmp_hash = EcmpHash::adaptive;
  c.topology.ecmp_flows = 1;
  const Topology t(c);
  CHECK(t.bundles_are_uniform());
  std::vector<LinkShare> shares;
  t.route(0, 3072 + 16, shares);
  int uplinks = 0;
  for (const auto& s : shares)
    if (t.link(s.link).kind == LinkKind::leaf_up) {
      ++uplinks;
      CHECK(s.fraction == Approx(1.0 / 16));
    }
  CHECK(uplinks == 16);
  CHECK(sum_fractions(shares, t, LinkKind::spine_up) == Approx(1.0));
  CHECK(to_string(EcmpHash::adaptive) == "adaptive");
}

TEST_CASE("rail-optimised SuperPOD: same rail stays on its leaf, other rails cross a spine", "[topology]") {
  ClusterSpec c = llama3_cluster(1024);
  c.topology.family = TopologyFamily::rail_fat_tree;
  c.topology.nodes_per_unit = 32;
  c.topology.switch_radix = 64;
  const Topology t(c);
  CHECK(t.num_leaves() == 32);  // 4 scalable units x 8 rails
  CHECK(t.num_pods() == 1);
  CHECK(t.planes() == 32);
  CHECK(t.path(3, 31 * 8 + 3).size() == 4);  // GPU 3 of nodes 0 and 31: rail-3 leaf of unit 0
  CHECK(t.path(3, 32 * 8 + 3).size() == 6);  // next unit: leaf, spine, leaf
  CHECK(t.path(3, 8 + 4).size() == 6);       // another rail: leaf, spine, leaf
}

TEST_CASE("k-ary fat tree and single switch", "[topology]") {
  const Topology fat(small_cluster(TopologyFamily::fat_tree, 16, 1, 4));
  CHECK(fat.num_leaves() == 8);  // 2 hosts per leaf
  CHECK(fat.num_pods() == 4);    // 2 leaves per pod
  CHECK(fat.planes() == 2);
  CHECK(count_shortest_paths(fat, fat.gpu_vertex(0), fat.gpu_vertex(15)) == 2);
  CHECK(fat.path(0, 15).size() == 8);
  const Topology one(small_cluster(TopologyFamily::single_switch, 16, 2));
  CHECK(one.num_leaves() == 1);
  CHECK(one.path(0, 15).size() == 4);
}

TEST_CASE("a fabric that cannot be built names the key at fault", "[topology][errors]") {
  ClusterSpec c = llama3_cluster(64);
  c.nics_per_node = 3;
  try {
    Topology t(c);
    FAIL("expected a ValueError");
  } catch (const ValueError& e) {
    CHECK(e.pointer() == "/cluster/nic/per_node");
    CHECK(e.message() == "3 NICs per node must divide 8 GPUs per node");
  }
}

TEST_CASE("link and bundle names say where they are", "[topology]") {
  const Topology t(llama3_cluster(16384));
  const auto path = t.path(0, 3072);
  CHECK(t.link_name(path[1]) == "NIC 0 (node 0) -> ToR 0");
  CHECK(t.link_name(path[0]) == "node 0 GPU 0 -> NIC 0 (node 0)");
  const BundleId pod_up = t.link(path[3]).bundle;
  CHECK(t.bundle_name(pod_up) == "pod 0 aggregation switch uplinks (16 x " +
                                     format_bandwidth(192 * 50e9 / 7) + ")");
}
