// Traffic patterns: bytes per slot per byte of the collective, derived by hand.
#include <catch2/catch.hpp>

#include <map>

#include "../network/test_fabrics.hpp"
#include "herd/sim/collective/patterns.hpp"

using namespace herd;

namespace {

std::map<model::LinkKind, std::vector<double>> loads_by_kind(const sim::Fabric& f, model::Collective op, sim::Algorithm a,
                                                              const std::vector<int>& group) {
  sim::TrafficBuilder traffic(f.slot_count());
  sim::add_pattern(f, op, a, group, sim::shape_of(f, group), 0, 1.0, traffic);
  std::map<model::LinkKind, std::vector<double>> out;
  for (const auto& load : traffic.take())
    if (!f.slot_is_bundle(load.slot)) out[f.topology().link(load.slot).kind].push_back(load.weight);
  return out;
}

}  // namespace

TEST_CASE("ring over 2 nodes x 8 GPUs: 8 channels, each NIC carries 1/8 of the ring", "[collective][patterns]") {
  // Per byte of an all-gather, every ring hop carries (n-1)/n = 15/16. Channel c enters each
  // node at local rank c and leaves at local rank c-1, so over 8 channels each GPU sends 7/8 of
  // its hops over NVLink and 1/8 through its NIC.
  const auto fabric = test::fabric_from(test::nodes_of("llama3-roce", 2));
  auto loads = loads_by_kind(*fabric, model::Collective::all_gather, sim::Algorithm::ring, test::first_ranks(16));
  REQUIRE(loads[model::LinkKind::nic_up].size() == 16);
  for (const double w : loads[model::LinkKind::nic_up]) CHECK(w == Approx(15.0 / 16 / 8));
  for (const double w : loads[model::LinkKind::gpu_up]) CHECK(w == Approx(15.0 / 16 * 7 / 8));
}

TEST_CASE("NVLS all-reduce loads every GPU port by (1 + 1/n) each way", "[collective][patterns]") {
  const auto fabric = test::fabric_from(test::nodes_of("dgx-h100-superpod", 1));
  auto loads = loads_by_kind(*fabric, model::Collective::all_reduce, sim::Algorithm::nvls, test::first_ranks(8));
  REQUIRE(loads[model::LinkKind::gpu_up].size() == 8);
  for (const double w : loads[model::LinkKind::gpu_up]) CHECK(w == Approx(1.125));
  for (const double w : loads[model::LinkKind::gpu_down]) CHECK(w == Approx(1.125));
}

TEST_CASE("hierarchical all-reduce: NVLS in the node, trees between nodes on 1/8 shares", "[collective][patterns]") {
  // Two nodes: each tree is one edge, carrying half the shard each way; two trees: the whole
  // 1/8 shard each way through every NIC.
  const auto fabric = test::fabric_from(test::nodes_of("dgx-h100-superpod", 2));
  auto loads = loads_by_kind(*fabric, model::Collective::all_reduce, sim::Algorithm::hierarchical, test::first_ranks(16));
  REQUIRE(loads[model::LinkKind::nic_up].size() == 16);
  for (const double w : loads[model::LinkKind::nic_up]) CHECK(w == Approx(1.0 / 8));
  for (const double w : loads[model::LinkKind::gpu_up]) CHECK(w == Approx(1.125));
}

TEST_CASE("all-to-all sends 1/n of the buffer to every peer", "[collective][patterns]") {
  const auto fabric = test::fabric_from(test::single_switch(4));
  auto loads = loads_by_kind(*fabric, model::Collective::all_to_all, sim::Algorithm::direct, test::first_ranks(4));
  REQUIRE(loads[model::LinkKind::nic_up].size() == 4);
  for (const double w : loads[model::LinkKind::nic_up]) CHECK(w == Approx(3.0 / 4));
}
