// Rank placement: the plan's rank order (innermost first) decides which ranks share a server,
// a rack and a pod.
#include <catch2/catch.hpp>

#include <set>

#include "herd/model/error.hpp"
#include "herd/model/placement.hpp"
#include "herd/model/scenario.hpp"

using namespace herd::model;

TEST_CASE("Llama 3 16K order [tp, cp, pp, dp]: TP in a server, DP across pods", "[placement]") {
  const Scenario s = default_scenario();  // TP 8, CP 1, PP 16, DP 128
  const RankLayout layout(s.plan, s.cluster);
  CHECK(layout.ranks() == 16384);
  CHECK(layout.stride(Axis::tp) == 1);
  CHECK(layout.stride(Axis::pp) == 8);
  CHECK(layout.stride(Axis::dp) == 128);
  const auto tp = layout.group_of(0, Axis::tp);
  for (int r : tp) CHECK(layout.node(r) == 0);
  const auto dp = layout.group_of(0, Axis::dp);
  REQUIRE(dp.size() == 128);
  CHECK(dp[1] == 128);
  CHECK(dp.back() == 127 * 128);
  std::set<int> pods;  // 3,072 GPUs per pod
  for (int r : dp) pods.insert(layout.gpu(r) / 3072);
  CHECK(pods.size() == 6);
  const auto groups = layout.groups(Axis::dp);
  CHECK(groups.size() == 128);
  std::set<int> seen;
  for (const auto& g : groups) {
    CHECK(g.size() == 128);
    seen.insert(g.begin(), g.end());
  }
  CHECK(seen.size() == 16384);  // the groups partition the ranks
}

TEST_CASE("order [tp, dp, cp, pp] keeps each DP group inside one pod", "[placement]") {
  const Scenario s = default_scenario({{parse_override(R"(plan.rank_order=["tp","dp","cp","pp"])")}});
  const RankLayout layout(s.plan, s.cluster);
  CHECK(layout.stride(Axis::dp) == 8);
  for (const auto& g : layout.groups(Axis::dp)) {
    std::set<int> pods;
    for (int r : g) pods.insert(layout.gpu(r) / 3072);
    CHECK(pods.size() == 1);
  }
}

TEST_CASE("coordinates and ranks are inverse, combined-axis groups", "[placement]") {
  const Scenario s = load_scenario("llama3-405b-128k");  // TP 8, CP 16, PP 16, DP 8
  const RankLayout layout(s.plan, s.cluster);
  for (int r : {0, 1, 9, 77, 1234, 16383}) CHECK(layout.rank(layout.coords(r)) == r);
  const Axis grad[] = {Axis::dp, Axis::cp};
  const auto groups = layout.groups(grad);
  CHECK(groups.size() == 16384 / 128);
  CHECK(groups.front().size() == 128);
  CHECK_THROWS_AS(layout.coords(16384), std::out_of_range);
}

TEST_CASE("a plan larger than the cluster is rejected", "[placement][errors]") {
  const Scenario s = default_scenario();
  ClusterSpec small = s.cluster;
  small.num_gpus = 8192;
  try {
    RankLayout layout(s.plan, small);
    FAIL("expected a ValueError");
  } catch (const ValueError& e) {
    CHECK(e.pointer() == "/plan");
  }
}
