// The default failure classes: Llama 3 Table 5 (arXiv:2407.21783) turned into rates.
#include <catch2/catch.hpp>

#include <map>

#include "herd/model/reliability.hpp"

using namespace herd::model;

TEST_CASE("default classes give Table 5's counts in 54 days on 16,384 GPUs", "[reliability]") {
  // Expected: the counts of Table 5 per category, summing to 419, on the job of section 3.3.1:
  // 16,384 GPUs, 2,048 servers of 8, one NIC per GPU, one ToR switch per rack of 2 servers.
  const std::map<std::string, double> table5 = {{"GPU", 148 + 72 + 19 + 17 + 6 + 6}, {"dependency", 54 + 2},
                                                {"network", 35},  {"unplanned maintenance", 32},
                                                {"host", 7 + 3 + 3 + 2 + 2 + 2 + 2}, {"unknown", 7}};
  const std::map<Component, double> job = {{Component::gpu, 16384}, {Component::node, 2048}, {Component::nic, 16384},
                                           {Component::leaf_switch, 1024}, {Component::job, 1}};
  std::map<std::string, double> expected_in_54_days;
  double total = 0;
  for (const auto& f : llama3_failure_classes()) {
    const double n = f.rate_per_s * job.at(f.component) * 54 * 86400;
    expected_in_54_days[f.category] += n;
    total += n;
  }
  CHECK(total == Approx(419));
  for (const auto& [category, count] : table5) CHECK(expected_in_54_days[category] == Approx(count));
  CHECK(llama3_planned_rate_per_s() * 54 * 86400 == Approx(47));
  CHECK(llama3_failure_classes().size() == 18);
}

TEST_CASE("the defaults are exponential and unscaled, and hangs are seen when the NCCL watchdog fires", "[reliability]") {
  for (const auto& f : llama3_failure_classes()) {
    INFO(f.name);
    CHECK(f.detection_s == (f.name == "nccl_watchdog_timeout" ? 600.0 : -1.0));
    CHECK(f.distribution == Distribution::exponential);
    CHECK(f.multiplier == 1);
  }
  CHECK(to_string(Component::leaf_switch) == "switch");
}
