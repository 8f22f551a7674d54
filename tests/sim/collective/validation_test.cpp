// Simulated NCCL bandwidth against published measurements (../shared/reference/hardware.md;
// docs/validation.md, "Collectives", prints the same tables). The model has no knob fitted to
// these numbers: link rates come from datasheets x NCCL's and the maintainers' efficiencies,
// latencies from NCCL's tuning tables.
#include <catch2/catch.hpp>

#include <cmath>

#include "../network/test_fabrics.hpp"
#include "herd/model/placement.hpp"
#include "herd/model/scenario.hpp"

using namespace herd;
using herd::test::kGiB;
using herd::test::kMiB;

namespace {

double busbw_gbs(const std::shared_ptr<const sim::Fabric>& fabric, model::Collective op, std::vector<int> group,
                 double bytes, sim::CollectiveOptions options = {}) {
  return test::run_collective(fabric, {op, {std::move(group)}, bytes, options}).busbw() / 1e9;
}

}  // namespace

TEST_CASE("one DGX H100, all-reduce busbw against NVIDIA's published curve", "[collective][validation]") {
  // NVIDIA dgxc-benchmarking nccl README: 8 x H100, NVLS. Within +-15 % from 1 MiB, +-5 % from
  // 256 MiB. The ramp between 4 and 64 MiB is NCCL's pipeline fill (one 512 KiB slice per channel
  // through two steps), the plateau the links. `simulated` pins today's model (docs/validation.md
  // prints the same table) so that any change shows.
  struct Point {
    double bytes, published, simulated;
  };
  const auto fabric = test::fabric_from(test::nodes_of("dgx-h100-superpod", 1));
  const auto group = test::first_ranks(8);
  for (const Point p : {Point{1 * kMiB, 67, 59.2}, Point{4 * kMiB, 135, 133.6}, Point{16 * kMiB, 237, 247.1},
                        Point{64 * kMiB, 362, 378.3}, Point{128 * kMiB, 401, 415.0}, Point{512 * kMiB, 437, 447.6},
                        Point{1 * kGiB, 466, 453.5}, Point{4 * kGiB, 477, 458.1}, Point{8 * kGiB, 480, 458.9},
                        Point{16 * kGiB, 480, 459.3}}) {
    const double busbw = busbw_gbs(fabric, model::Collective::all_reduce, group, p.bytes);
    const double error = busbw / p.published - 1;
    INFO(p.bytes / kMiB << " MiB: " << busbw << " GB/s, error " << 100 * error << " %");
    CHECK(std::abs(error) <= (p.bytes >= 256 * kMiB ? 0.05 : 0.15));
    CHECK(busbw == Approx(p.simulated).epsilon(0.002));
  }
}

TEST_CASE("1, 2 and 4 DGX H100 nodes: peak all-reduce busbw", "[collective][validation]") {
  // NVIDIA/nccl-tests issue #309: ~480 / ~470 / ~366 GB/s with 8 NDR NICs per node.
  struct Case {
    int nodes;
    double published;
  };
  for (const Case c : {Case{1, 480}, Case{2, 470}, Case{4, 366}}) {
    const auto fabric = test::fabric_from(test::nodes_of("dgx-h100-superpod", c.nodes));
    const double busbw = busbw_gbs(fabric, model::Collective::all_reduce, test::first_ranks(8 * c.nodes), 8 * kGiB);
    INFO(c.nodes << " nodes: " << busbw << " GB/s");
    CHECK(busbw == Approx(c.published).epsilon(0.05));
  }
}

TEST_CASE("multi-node rings over 400 Gb/s NICs move 46-48 GB/s per NIC", "[collective][validation]") {
  // NCCL maintainers (NVIDIA/nccl-tests #290, #119): 46-48 GB/s busbw per 400 Gb/s NIC, ring.
  sim::CollectiveOptions ring;
  ring.algorithm = sim::Algorithm::ring;
  const auto two_nodes = test::fabric_from(test::nodes_of("llama3-roce", 2));
  for (const auto op : {model::Collective::all_reduce, model::Collective::all_gather}) {
    const double per_nic = busbw_gbs(two_nodes, op, test::first_ranks(16), 16 * kGiB, ring) / 8;
    INFO(to_string(op) << ": " << per_nic << " GB/s per NIC");
    CHECK(per_nic >= 46);
    CHECK(per_nic <= 48);
  }
  // One GPU per node (a DP group of the Llama 3 layout): the NIC is the whole story.
  const auto sixteen = test::fabric_from(test::nodes_of("llama3-roce", 16));
  std::vector<int> one_per_node;
  for (int node = 0; node < 16; ++node) one_per_node.push_back(8 * node);
  const auto result = test::run_collective(sixteen, {model::Collective::all_gather, {one_per_node}, 16 * kGiB});
  CHECK(result.busbw() / 1e9 >= 46);
  CHECK(result.busbw() / 1e9 <= 48);
  CHECK(result.bottleneck_name.find("NIC") == 0);
}

TEST_CASE("128 concurrent DP all-gathers of the Llama 3 16K plan: contention at the aggregation layer",
          "[collective][validation][contention]") {
  auto run = [](const std::vector<model::Override>& overrides, bool all) {
    const auto scenario = model::load_scenario("llama3-405b-16k", overrides);
    const auto fabric = std::make_shared<const sim::Fabric>(scenario.cluster);
    auto groups = model::RankLayout(scenario.plan, scenario.cluster).groups(model::Axis::dp);
    if (!all) groups.resize(1);
    return test::run_collective(fabric, {model::Collective::all_gather, groups, kGiB});
  };
  SECTION("published 1:7 aggregation: each pod sends 128 x 47 GB/s of its 21.9 TB/s; no slowdown") {
    const auto alone = run({}, false), together = run({}, true);
    CHECK(together.groups == 128);
    CHECK(together.time_s() == Approx(alone.time_s()).epsilon(0.01));
    CHECK(together.bottleneck_name.find("NIC") == 0);
  }
  SECTION("1:32 aggregation (4.8 TB/s per pod): slower together, an aggregation link is the bottleneck") {
    const std::vector<model::Override> thin{model::parse_override("cluster.topology.aggregation_oversubscription=32")};
    const auto alone = run(thin, false), together = run(thin, true);
    INFO("alone " << alone.time_s() << " s, together " << together.time_s() << " s, bottleneck " << together.bottleneck_name);
    CHECK(together.time_s() > 1.1 * alone.time_s());
    CHECK(together.bottleneck_name.find("aggregation switch") != std::string::npos);  // up- or downlinks
    SECTION("placing each DP group inside a pod (rank order [tp, dp, cp, pp]) removes the slowdown") {
      auto in_pod = thin;
      in_pod.push_back(model::parse_override(R"(plan.rank_order=["tp","dp","cp","pp"])"));
      const auto pod_alone = run(in_pod, false), pod_together = run(in_pod, true);
      CHECK(pod_together.time_s() == Approx(pod_alone.time_s()).epsilon(0.01));
      CHECK(pod_together.time_s() < together.time_s() / 1.1);
    }
  }
}
