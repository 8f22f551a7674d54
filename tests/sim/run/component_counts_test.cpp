// Component counts per topology family: what the failure rates are counted per.
#include <catch2/catch.hpp>

#include "herd/model/scenario.hpp"
#include "herd/sim/run/component_counts.hpp"

using namespace herd::sim::run;

TEST_CASE("the Llama 3 16K cluster's component counts", "[run][reliability]") {
  // Section 3.3.1: 8 GPUs and 8 NICs per server, 2 servers per rack under one ToR switch.
  const auto counts = component_counts(herd::model::default_scenario().cluster);
  CHECK(counts.gpu == 16384);
  CHECK(counts.node == 2048);
  CHECK(counts.nic == 16384);
  CHECK(counts.leaf_switch == 1024);
  CHECK(counts.job == 1);
  CHECK(counts.of(herd::model::Component::leaf_switch) == 1024);
}

TEST_CASE("leaf switch counts per topology family", "[run][reliability]") {
  auto c = herd::model::default_scenario().cluster;
  c.topology.family = herd::model::TopologyFamily::rail_fat_tree;
  c.topology.nodes_per_unit = 32;  // DGX SuperPOD scalable unit: 32 nodes, one leaf per rail
  CHECK(leaf_switches(c) == 2048 / 32 * 8);
  c.topology.family = herd::model::TopologyFamily::fat_tree;
  c.topology.switch_radix = 64;    // half the ports face down
  CHECK(leaf_switches(c) == 16384 / 32);
  c.topology.family = herd::model::TopologyFamily::single_switch;
  CHECK(leaf_switches(c) == 1);
}
