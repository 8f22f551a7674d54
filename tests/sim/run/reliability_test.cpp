// The reliability section: Llama 3 Table 5 defaults, component counts, overrides, errors.
#include <catch2/catch.hpp>

#include <map>

#include "herd/model/error.hpp"
#include "herd/sim/run/reliability.hpp"

using namespace herd::sim::run;
using herd::model::Override;

namespace {

herd::model::Scenario scenario_with(std::vector<Override> sets = {}) { return herd::model::default_scenario(sets); }

Override set(const std::string& path, nlohmann::json value) { return {path, std::move(value), path + "=" + value.dump()}; }

}  // namespace

TEST_CASE("the Llama 3 16K cluster's component counts", "[run][reliability]") {
  // Section 3.3.1: 8 GPUs and 8 NICs per server, 2 servers per rack under one ToR switch.
  const auto counts = component_counts(scenario_with().cluster);
  CHECK(counts.gpu == 16384);
  CHECK(counts.node == 2048);
  CHECK(counts.nic == 16384);
  CHECK(counts.leaf_switch == 1024);
  CHECK(counts.job == 1);
}

TEST_CASE("default classes give Table 5's counts in 54 days on 16,384 GPUs", "[run][reliability]") {
  // Expected: the counts of Table 5 (arXiv:2407.21783), per category, summing to 419.
  const std::map<std::string, double> table5 = {{"GPU", 148 + 72 + 19 + 17 + 6 + 6}, {"dependency", 54 + 2},
                                                {"network", 35},  {"unplanned maintenance", 32},
                                                {"host", 7 + 3 + 3 + 2 + 2 + 2 + 2}, {"unknown", 7}};
  const auto counts = component_counts(scenario_with().cluster);
  std::map<std::string, double> expected_in_54_days;
  double total = 0;
  for (const auto& f : llama3_failure_classes()) {
    const double n = f.rate_per_s * counts.of(f.component) * 54 * 86400;
    expected_in_54_days[f.category] += n;
    total += n;
  }
  CHECK(total == Approx(419));
  for (const auto& [category, count] : table5) CHECK(expected_in_54_days[category] == Approx(count));
  CHECK(llama3_planned_rate_per_s() * 54 * 86400 == Approx(47));
  CHECK(llama3_failure_classes().size() == 18);
}

TEST_CASE("reading the reliability section", "[run][reliability]") {
  SECTION("defaults") {
    const auto spec = read_reliability(scenario_with());
    CHECK(spec.failures.size() == 18);
    CHECK(spec.detection_s == Approx(34));         // 4.096 us x 2^20 x 8 = 34.4 s
    CHECK(spec.restart_s == Approx(300));
    CHECK(spec.communicator_setup_per_gpu_s == Approx(2.7e-3));
    CHECK(spec.checkpoint.mode == CheckpointMode::sync);
    CHECK(spec.checkpoint.interval_s == 0);        // the simulated optimum
    CHECK(spec.checkpoint.host_copy_bandwidth == Approx(64e9));
    CHECK(spec.spares.nodes < 0);
    CHECK(spec.planned_rate_per_s == Approx(llama3_planned_rate_per_s()));
  }
  SECTION("an entry named like a default class changes only what it gives") {
    const auto base = llama3_failure_classes().front();
    const auto spec = read_reliability(scenario_with({set("reliability.failures.faulty_gpu.multiplier", 2)}));
    const auto& f = spec.failures.front();
    CHECK(f.name == "faulty_gpu");
    CHECK(f.multiplier == 2);
    CHECK(f.rate_per_s == base.rate_per_s);
    CHECK(f.category == "GPU");
    CHECK(f.replaces_node);
  }
  SECTION("a new class needs a rate and takes the table's defaults") {
    const auto spec = read_reliability(scenario_with({set("reliability.failure_defaults", "none"),
                                                      set("reliability.failures.cosmic.rate", "1e-6 /h"),
                                                      set("reliability.failures.cosmic.component", "node")}));
    REQUIRE(spec.failures.size() == 1);
    CHECK(spec.failures[0].rate_per_s == Approx(1e-6 / 3600));
    CHECK(spec.failures[0].component == Component::node);
    CHECK(spec.failures[0].category == "unknown");
    CHECK(spec.failures[0].replaces_node);
    CHECK(spec.failures[0].distribution == Distribution::exponential);
  }
  SECTION("errors name the pointer") {
    try {
      read_reliability(scenario_with({set("reliability.failures.cosmic.multiplier", 2)}));
      FAIL("no error");
    } catch (const herd::model::InputError& e) {
      CHECK(e.pointer() == "/reliability/failures/cosmic/rate");
      CHECK(e.message() == "is required for a new failure class");
    }
    CHECK_THROWS_AS(read_reliability(scenario_with({set("reliability.spares.nodes", 4),
                                                    set("reliability.spares.when_exhausted", "wait")})),
                    herd::model::InputError);
    CHECK_THROWS_AS(scenario_with({set("reliability.failures.faulty_gpu.distribution", "lognormal")}),
                    herd::model::InputError);
  }
}

TEST_CASE("leaf switch counts per topology family", "[run][reliability]") {
  auto c = scenario_with().cluster;
  c.topology.family = herd::model::TopologyFamily::rail_fat_tree;
  c.topology.nodes_per_unit = 32;  // DGX SuperPOD scalable unit: 32 nodes, one leaf per rail
  CHECK(leaf_switches(c) == 2048 / 32 * 8);
  c.topology.family = herd::model::TopologyFamily::fat_tree;
  c.topology.switch_radix = 64;    // half the ports face down
  CHECK(leaf_switches(c) == 16384 / 32);
  c.topology.family = herd::model::TopologyFamily::single_switch;
  CHECK(leaf_switches(c) == 1);
}
