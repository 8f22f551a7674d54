// The fluid network: transfers share links max-min fairly, rates change when transfers start
// and end, the reported bottleneck is the link that held a transfer back, and bundles of
// parallel links give the same answers as the links one by one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "herd/engine/time.hpp"
#include "test_fabrics.hpp"

using namespace herd;
using herd::test::kGiB;

namespace {

constexpr double kNic = 50e9 * 0.94;

}  // namespace

TEST_CASE("two transfers out of one NIC share it: each gets half until the first ends", "[network]") {
  // Ranks 0 -> 8 and 0 -> 16 leave through NIC 0 (47 GB/s). The small one (S) and the large one
  // (2S) run at B/2 each until the small one is done at 2S/B; the large one then has S left at
  // rate B: it ends at 3S/B. Path latencies: 3 us (same rack) and 5 us (next rack).
  const auto fabric = test::fabric_from(test::nodes_of("llama3-roce", 4));
  engine::Simulation simulation;
  sim::Network network(simulation, fabric);
  const double S = 1e9;
  sim::TransferResult small, large;
  network.send(0, 8, S, [&](const sim::TransferResult& r) { small = r; });
  network.send(0, 16, 2 * S, [&](const sim::TransferResult& r) { large = r; });
  CHECK(network.in_flight() == 2);
  simulation.run();
  CHECK(network.in_flight() == 0);
  // The large transfer starts 2 us later; until then the small one runs alone at B.
  const double head = 2e-6 * kNic;  // bytes the small one moved alone
  const double small_end = 3e-6 + 2e-6 + (S - head) / (kNic / 2);
  CHECK(small.end_s == Approx(small_end).epsilon(1e-6));
  CHECK(large.end_s == Approx(small_end + (2 * S - (small_end - 5e-6) * kNic / 2) / kNic).epsilon(1e-6));
  CHECK(small.bottleneck_name == "NIC 0 (node 0) -> ToR 0");
}

TEST_CASE("a transfer to itself or of zero bytes takes only its latency", "[network]") {
  const auto fabric = test::fabric_from(test::nodes_of("llama3-roce", 2));
  engine::Simulation simulation;
  sim::Network network(simulation, fabric);
  sim::TransferResult self, empty;
  network.send(3, 3, 1e9, [&](const sim::TransferResult& r) { self = r; });
  network.send(0, 8, 0, [&](const sim::TransferResult& r) { empty = r; });
  simulation.run();
  CHECK(self.time_s() == 0);
  CHECK(empty.time_s() == Approx(3e-6));
  CHECK_THROWS_AS(network.send(0, 16, 1, {}), std::invalid_argument);  // 16 ranks: 0..15
  CHECK_THROWS_AS(network.send(0, 1, -1, {}), std::invalid_argument);
}

TEST_CASE("bundles of parallel uplinks give the same times as the links one by one", "[network][ecmp]") {
  // Spread ECMP with 16 flows over 16 planes loads the links of a bundle equally, so a bundle at
  // 16x the capacity is the same constraint. Oversubscribe the ToRs so the uplinks matter.
  nlohmann::json doc = test::nodes_of("llama3-roce", 8);
  doc["cluster"]["topology"] = {{"pod_oversubscription", 4}, {"racks_per_pod", 2}};
  const auto bundled = test::fabric_from(doc);
  const auto separate = test::fabric_from(doc, sim::FabricOptions{false});
  REQUIRE(bundled->bundled());
  REQUIRE_FALSE(separate->bundled());
  auto ends = [](const std::shared_ptr<const sim::Fabric>& fabric) {
    engine::Simulation simulation;
    sim::Network network(simulation, fabric);
    std::vector<double> out;
    for (int src = 0; src < 16; ++src)
      network.send(src, 16 + (src * 7) % 48, 1e8 * (1 + src % 3), [&](const sim::TransferResult& r) { out.push_back(r.end_s); });
    simulation.run();
    return out;
  };
  const auto a = ends(bundled), b = ends(separate);
  REQUIRE(a.size() == b.size());
  // Completion times are whole nanoseconds, rounded up: allow 2 ns.
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).margin(2e-9));
}

TEST_CASE("adaptive routing gives concurrent transfers over a spine their full rate, hashing collides", "[network][ecmp]") {
  // DGX H100 SuperPOD, two scalable units of 32 nodes: GPU 0 of node j (rail-0 leaf of unit 0)
  // sends S to GPU 0 of node 32 + j (rail-0 leaf of unit 1), j = 0..31, all at once. Each crosses
  // leaf, one of the 32 spine planes, leaf. The leaf's 32 uplinks at line rate L = 50 GB/s carry
  // what its 32 NICs send, at most 32 x B_nic (B_nic = 0.94 L): not oversubscribed.
  // Adaptive routing spreads every transfer over the 32 planes: each gets min(B_nic, L) = B_nic,
  // and all end with the transfer alone, latency + S / B_nic.
  // One flow per pair hashed to a plane: m transfers on one plane get L / m each, and the slowest
  // ends at latency + S / min(B_nic, L / m_max), m_max the most pairs any plane carries.
  const double S = 1e9, L = 50e9;
  auto ends = [&](const char* hash, int transfers) {
    nlohmann::json doc = test::nodes_of("dgx-h100-superpod", 64);
    doc["cluster"]["topology"] = {{"ecmp_hash", hash}, {"ecmp_flows", 1}};
    const auto fabric = test::fabric_from(doc);
    engine::Simulation simulation;
    sim::Network network(simulation, fabric);
    std::vector<double> out;
    for (int j = 0; j < transfers; ++j)
      network.send(8 * j, 8 * (32 + j), S, [&](const sim::TransferResult& r) { out.push_back(r.end_s); });
    simulation.run();
    return std::pair{out, fabric};
  };
  const auto [alone, adaptive_fabric] = ends("adaptive", 1);
  REQUIRE(alone.size() == 1);
  CHECK(adaptive_fabric->topology().planes() == 32);
  const double latency = alone[0] - S / kNic;
  CHECK(latency > 0);
  CHECK(latency < 20e-6);
  const auto [adaptive, unused] = ends("adaptive", 32);
  for (double end : adaptive) CHECK(end == Approx(alone[0]).margin(2e-9));

  const auto [hashed, hashed_fabric] = ends("spread", 32);
  std::map<model::LinkId, int> per_plane;  // transfers on each leaf uplink
  int m_max = 0;
  for (int j = 0; j < 32; ++j)
    for (model::LinkId link : hashed_fabric->topology().path(8 * j, 8 * (32 + j)))
      if (hashed_fabric->topology().link(link).kind == model::LinkKind::leaf_up) m_max = std::max(m_max, ++per_plane[link]);
  REQUIRE(m_max >= 2);  // 32 pairs hashed onto 32 planes collide
  const double slowest = *std::max_element(hashed.begin(), hashed.end());
  CHECK(slowest == Approx(latency + S / std::min(kNic, L / m_max)).epsilon(1e-6));
}

TEST_CASE("the same calls give the same results, run after run", "[network][determinism]") {
  const auto fabric = test::fabric_from(test::nodes_of("llama3-roce", 8));
  auto run = [&] {
    engine::Simulation simulation;
    sim::Network network(simulation, fabric);
    std::vector<double> out;
    network.start_collective({model::Collective::all_reduce, {test::first_ranks(64)}, kGiB},
                             [&](const sim::CollectiveResult& r) { out.push_back(r.end_s); });
    for (int i = 0; i < 32; ++i)
      network.send(i, 63 - i, 1e7 * (i + 1), [&](const sim::TransferResult& r) { out.push_back(r.end_s); });
    simulation.run();
    return out;
  };
  CHECK(run() == run());
}

TEST_CASE("busiest slots report load against capacity", "[network]") {
  const auto fabric = test::fabric_from(test::nodes_of("llama3-roce", 2));
  engine::Simulation simulation;
  sim::Network network(simulation, fabric);
  network.send(0, 8, 1e9, {});
  simulation.run_until(engine::from_seconds(10e-6));
  const auto busiest = network.busiest_slots(3);
  REQUIRE_FALSE(busiest.empty());
  CHECK(busiest.front().load == Approx(kNic));
  CHECK(busiest.front().load == Approx(busiest.front().capacity));
}
