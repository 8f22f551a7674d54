// Each algorithm against its textbook closed form on a fabric with no other traffic. Latencies
// are pinned through cluster.collectives.* so that every term of the formula is known:
//   base = 5 us, per-step latency over NVLink a_nv = 2 us, over the network a_net = 10 us plus
//   twice the one-way path latency for the Simple protocol (NCCL adds it again for the flush):
//   single switch path = NIC 2 us + switch 1 us = 3 us, so a_net = 10 + 2 x 3 = 16 us.
// Link rates: NVLink 450 GB/s x 0.824 = 370.8 GB/s; NIC 50 GB/s x 0.94 = 47 GB/s.
#include <catch2/catch.hpp>

#include <algorithm>

#include "../network/test_fabrics.hpp"

using namespace herd;
using herd::test::kGiB;

namespace {

constexpr double kBase = 5e-6, kAlphaNvlink = 2e-6, kAlphaNet = 16e-6;
constexpr double kNvlink = 450e9 * 0.824, kNic = 50e9 * 0.94;

nlohmann::json pinned(nlohmann::json doc, const char* algorithm, const char* protocol = "simple") {
  doc["cluster"]["collectives"] = {{"base_latency", "5 us"},
                                   {"intra_step_latency", "2 us"},
                                   {"inter_step_latency", "10 us"},
                                   {"algorithm", algorithm},
                                   {"protocol", protocol}};
  return doc;
}

double simulated(const nlohmann::json& doc, model::Collective op, int n, double bytes) {
  const auto fabric = test::fabric_from(doc);
  return test::run_collective(fabric, {op, {test::first_ranks(n)}, bytes}).time_s();
}

}  // namespace

TEST_CASE("ring all-reduce in one node: base + 2(n-1) a + 2(n-1)/n S/B", "[collective][closed_form]") {
  const int n = 8;
  const double S = kGiB;
  const double expected = kBase + 2 * (n - 1) * kAlphaNvlink + 2.0 * (n - 1) / n * S / kNvlink;
  const double actual = simulated(pinned(test::nodes_of("dgx-h100-superpod", 1), "ring"), model::Collective::all_reduce, n, S);
  INFO("expected " << expected * 1e6 << " us, simulated " << actual * 1e6 << " us");
  CHECK(actual == Approx(expected).epsilon(0.01));
}

TEST_CASE("ring all-gather and reduce-scatter across nodes: base + (n-1) a + (n-1)/n S/B", "[collective][closed_form]") {
  const int n = 16;
  const double S = kGiB;
  const double expected = kBase + (n - 1) * kAlphaNet + (n - 1.0) / n * S / kNic;
  for (const auto op : {model::Collective::all_gather, model::Collective::reduce_scatter}) {
    const double actual = simulated(pinned(test::single_switch(n), "ring"), op, n, S);
    INFO(to_string(op) << ": expected " << expected * 1e6 << " us, simulated " << actual * 1e6 << " us");
    CHECK(actual == Approx(expected).epsilon(0.01));
  }
}

TEST_CASE("ring all-reduce across nodes: NCCL's x1.4 ring plateau on the latency", "[collective][closed_form]") {
  // NCCL tuning.cc multiplies the latency of a multi-node Simple ring all-reduce by 1.4 once each
  // rank gets >= 64 bytes per channel ("plateau effect of ring").
  const int n = 16;
  const double S = kGiB;
  const double expected = 1.4 * (kBase + 2 * (n - 1) * kAlphaNet) + 2.0 * (n - 1) / n * S / kNic;
  const double actual = simulated(pinned(test::single_switch(n), "ring"), model::Collective::all_reduce, n, S);
  CHECK(actual == Approx(expected).epsilon(0.01));
}

TEST_CASE("NVLS all-reduce: a + (S + min(S, c x 512 KiB)) (1 + 1/n) / (eta (c-1)/c B)", "[collective][closed_form]") {
  // Each GPU pushes its buffer into the switch and reads back its reduced 1/n (reduce-scatter),
  // then pushes its 1/n and receives all n shares (multicast all-gather): (1 + 1/n) S each way.
  // eta = 0.85 (NCCL nvlsEfficiency, Hopper), c = 16 NVLS channels. NCCL's pipeline model: each
  // channel moves S/c in slices of min(512 KiB, S/c) through 2 steps, so one slice per channel
  // more crosses the links than the buffer holds.
  const int n = 8, c = 16;
  const double slice = 512.0 * 1024;
  const double rate = 0.85 * (c - 1.0) / c * kNvlink / (1 + 1.0 / n);
  const auto doc = pinned(test::nodes_of("dgx-h100-superpod", 1), "nvls");
  for (const double S : {4 * test::kMiB, 64 * test::kMiB, kGiB}) {
    const double expected = kAlphaNvlink + (S + std::min(S, c * slice)) / rate;
    const double actual = simulated(doc, model::Collective::all_reduce, n, S);
    INFO(S / test::kMiB << " MiB: expected " << expected * 1e6 << " us, simulated " << actual * 1e6 << " us");
    CHECK(actual == Approx(expected).epsilon(0.01));
  }
}

TEST_CASE("NVLS all-gather: one pipeline step, a + S / (eta (c-1)/c B)", "[collective][closed_form]") {
  // Each GPU pushes its 1/n share and receives all of S; a single step pipelines without a fill.
  const int n = 8, c = 16;
  const double S = 64 * test::kMiB;
  const double expected = kAlphaNvlink + S / (0.85 * (c - 1.0) / c * kNvlink);
  const double actual = simulated(pinned(test::nodes_of("dgx-h100-superpod", 1), "nvls"), model::Collective::all_gather, n, S);
  CHECK(actual == Approx(expected).epsilon(0.01));
}

TEST_CASE("double binary tree over 4 nodes: the busiest node sends the buffer twice", "[collective][closed_form]") {
  // Tree 0 over nodes 0..3 has edges 0-2, 2-1, 2-3; tree 1 relabels x -> 3 - x: edges 1-2, 1-3,
  // 0-1. Each tree carries half the buffer up and half down every edge, so nodes 1 and 2 (four
  // edges between the two trees) each send 4 x S/2 = 2 S. NCCL's trees reach 0.92 of the links.
  // Latency: base + 2 log2(4) a_net with one GPU per node.
  const int n = 4;
  const double S = kGiB;
  const double expected = kBase + 2 * 2 * kAlphaNet + 2.0 * S / (0.92 * kNic);
  const double actual = simulated(pinned(test::single_switch(n), "tree"), model::Collective::all_reduce, n, S);
  CHECK(actual == Approx(expected).epsilon(0.01));
}

TEST_CASE("broadcast pipeline from the root: base + (n-1) a + S/B", "[collective][closed_form]") {
  const int n = 8;
  const double S = kGiB;
  const double expected = kBase + (n - 1) * kAlphaNet + S / kNic;
  const double actual = simulated(pinned(test::single_switch(n), "ring"), model::Collective::broadcast, n, S);
  CHECK(actual == Approx(expected).epsilon(0.01));
}

TEST_CASE("all-to-all: every rank sends S/n to each peer through its NIC: a + (n-1)/n S/B", "[collective][closed_form]") {
  const int n = 8;
  const double S = kGiB;
  const double expected = kBase + kAlphaNet + (n - 1.0) / n * S / kNic;
  const double actual = simulated(pinned(test::single_switch(n), "auto"), model::Collective::all_to_all, n, S);
  CHECK(actual == Approx(expected).epsilon(0.01));
}

TEST_CASE("point-to-point: path latency + S / B", "[network][closed_form]") {
  const auto fabric = test::fabric_from(test::nodes_of("llama3-roce", 4));
  const double S = test::kMiB;  // small enough that the latency shows
  struct Case {
    int src, dst;
    double latency, rate;
  };
  // Same node: NVLink with 1 us; other server of the rack: NIC 2 us + ToR 1 us at 47 GB/s;
  // next rack: NIC + ToR + cluster switch + ToR = 5 us.
  for (const Case c : {Case{0, 5, 1e-6, kNvlink}, Case{0, 8, 3e-6, kNic}, Case{3, 17, 5e-6, kNic}}) {
    engine::Simulation simulation;
    sim::Network network(simulation, fabric);
    sim::TransferResult result;
    network.send(c.src, c.dst, S, [&](const sim::TransferResult& r) { result = r; });
    simulation.run();
    CHECK(result.time_s() == Approx(c.latency + S / c.rate).epsilon(0.001));
  }
}
