// Incremental solves against a from-scratch solve and against an independent, naive reference,
// on random problems from a fixed-seed generator.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "herd/engine/max_min_solver.hpp"
#include "reference_max_min.hpp"

using namespace herd::engine;
using herd::engine::testing::reference_rates;
using herd::engine::testing::ToyActivity;

namespace {

bool close(double actual, double expected) {
  if (std::isinf(expected)) return actual == expected;
  return std::abs(actual - expected) <= 1e-9 * std::max(1.0, std::abs(expected));
}

// Max-min fairness, checked from its definition: every resource is within capacity, and every
// activity below its bound has a saturated bottleneck on which no one gets more rate per share.
void check_max_min_fair(const MaxMinSolver& solver, const std::vector<ActivityId>& live,
                        const std::vector<ToyActivity>& toys) {
  for (std::uint32_t j = 0; j < solver.resource_count(); ++j) {
    const double capacity = solver.capacity(ResourceId{j});
    if (std::isfinite(capacity)) CHECK(solver.load(ResourceId{j}) <= capacity * (1 + 1e-9) + 1e-9);
  }
  for (std::size_t k = 0; k < live.size(); ++k) {
    const double rate = solver.rate(live[k]);
    if (close(rate, toys[k].sharing.rate_bound)) continue;
    const ResourceId bottleneck = solver.bottleneck(live[k]);
    REQUIRE(bottleneck != kNoResource);
    CHECK(close(solver.load(bottleneck), solver.capacity(bottleneck)));
    for (std::size_t other = 0; other < live.size(); ++other) {
      for (const ResourceUse& use : toys[other].uses) {
        if (use.resource != bottleneck) continue;
        CHECK(solver.rate(live[other]) / toys[other].sharing.share_weight <=
              rate / toys[k].sharing.share_weight * (1 + 1e-9) + 1e-12);
      }
    }
  }
}

class RandomProblem {
 public:
  explicit RandomProblem(unsigned seed, std::uint32_t resources) : random_(seed) {
    for (std::uint32_t j = 0; j < resources; ++j) capacities_.push_back(random_capacity());
    for (double capacity : capacities_) solver_.add_resource(capacity);
  }

  // One random change: add, remove, or change a capacity, a bound or a share weight.
  void change() {
    const double dice = uniform(0, 1);
    if (dice < 0.4 || live_.empty()) {
      ToyActivity toy;
      const int use_count = static_cast<int>(random_() % 5);
      for (int u = 0; u < use_count; ++u) {
        const auto resource = static_cast<std::uint32_t>(random_() % capacities_.size());
        toy.uses.push_back({ResourceId{resource}, uniform(0, 1) < 0.5 ? 1.0 : uniform(0.25, 3)});
      }
      toy.sharing = random_sharing();
      live_.push_back(solver_.add_activity(toy.uses, toy.sharing));
      toys_.push_back(toy);
    } else if (dice < 0.7) {
      const std::size_t k = random_() % live_.size();
      solver_.remove_activity(live_[k]);
      live_.erase(live_.begin() + static_cast<std::ptrdiff_t>(k));
      toys_.erase(toys_.begin() + static_cast<std::ptrdiff_t>(k));
    } else if (dice < 0.85) {
      const std::size_t j = random_() % capacities_.size();
      capacities_[j] = random_capacity();
      solver_.set_capacity(ResourceId{static_cast<std::uint32_t>(j)}, capacities_[j]);
    } else {
      const std::size_t k = random_() % live_.size();
      toys_[k].sharing = random_sharing();
      solver_.set_rate_bound(live_[k], toys_[k].sharing.rate_bound);
      solver_.set_share_weight(live_[k], toys_[k].sharing.share_weight);
    }
  }

  MaxMinSolver& solver() { return solver_; }
  const std::vector<ActivityId>& live() const { return live_; }
  const std::vector<ToyActivity>& toys() const { return toys_; }
  const std::vector<double>& capacities() const { return capacities_; }

 private:
  double uniform(double low, double high) {
    return std::uniform_real_distribution<double>(low, high)(random_);
  }
  double random_capacity() {
    const double dice = uniform(0, 1);
    return dice < 0.05 ? 0.0 : dice < 0.15 ? kUnlimited : uniform(1, 100);
  }
  SharingOptions random_sharing() {
    return {uniform(0, 1) < 0.2 ? uniform(0, 50) : kUnlimited,
            uniform(0, 1) < 0.3 ? uniform(0.5, 4) : 1.0};
  }

  std::mt19937_64 random_;
  std::vector<double> capacities_;
  MaxMinSolver solver_;
  std::vector<ActivityId> live_;
  std::vector<ToyActivity> toys_;
};

}  // namespace

TEST_CASE("incremental solves match a from-scratch solve and the reference",
          "[progressive_filling]") {
  for (unsigned seed : {1u, 2u, 3u, 4u, 5u}) {
    RandomProblem problem(seed, 40);
    for (int round = 0; round < 150; ++round) {
      const int changes = 1 + round % 4;
      for (int c = 0; c < changes; ++c) problem.change();
      problem.solver().solve();
      MaxMinSolver scratch = problem.solver();
      scratch.solve_from_scratch();
      const std::vector<double> expected = reference_rates(problem.capacities(), problem.toys());
      for (std::size_t k = 0; k < problem.live().size(); ++k) {
        const ActivityId id = problem.live()[k];
        INFO("seed " << seed << " round " << round << " activity " << static_cast<unsigned>(id));
        CHECK(close(problem.solver().rate(id), scratch.rate(id)));
        CHECK(close(problem.solver().rate(id), expected[k]));
      }
      check_max_min_fair(problem.solver(), problem.live(), problem.toys());
    }
  }
}

TEST_CASE("the same changes give bit-identical rates", "[progressive_filling]") {
  auto final_rates = [] {
    RandomProblem problem(99, 60);
    for (int round = 0; round < 400; ++round) {
      problem.change();
      if (round % 3 == 0) problem.solver().solve();
    }
    problem.solver().solve();
    std::vector<double> rates;
    for (ActivityId id : problem.live()) rates.push_back(problem.solver().rate(id));
    return rates;
  };
  CHECK(final_rates() == final_rates());
}

TEST_CASE("removing the activity that joined two components splits them", "[progressive_filling]") {
  // a on r1 (C = 4), c on r2 (C = 6), bridge on both. With the bridge: r1 level 2, r2 level 3,
  // so a = bridge = 2 and c = 6 - 2 = 4. Without it: a = 4, c = 6, and they are independent.
  MaxMinSolver solver;
  const ResourceId r1 = solver.add_resource(4);
  const ResourceId r2 = solver.add_resource(6);
  const ActivityId a = solver.add_activity(std::vector<ResourceUse>{{r1}});
  const ActivityId bridge = solver.add_activity(std::vector<ResourceUse>{{r1}, {r2}});
  const ActivityId c = solver.add_activity(std::vector<ResourceUse>{{r2}});
  solver.solve();
  CHECK(solver.last_solve_stats().components == 1);
  CHECK(solver.rate(a) == 2);
  CHECK(solver.rate(bridge) == 2);
  CHECK(solver.rate(c) == 4);
  solver.remove_activity(bridge);
  solver.solve();
  CHECK(solver.last_solve_stats().components == 2);
  CHECK(solver.rate(a) == 4);
  CHECK(solver.rate(c) == 6);
  solver.set_capacity(r1, 5);
  solver.solve();
  CHECK(solver.last_solve_stats().activities == 1);
  CHECK(solver.rate(a) == 5);
}

TEST_CASE("an unlimited resource does not join its users into one component",
          "[progressive_filling]") {
  // Both activities cross the unlimited switch, each also has its own port of capacity 3.
  MaxMinSolver solver;
  const ResourceId fabric = solver.add_resource(kUnlimited);
  const ResourceId port_a = solver.add_resource(3);
  const ResourceId port_b = solver.add_resource(3);
  const ActivityId a = solver.add_activity(std::vector<ResourceUse>{{fabric}, {port_a}});
  solver.add_activity(std::vector<ResourceUse>{{fabric}, {port_b}});
  solver.solve();
  CHECK(solver.last_solve_stats().components == 2);
  // Once the fabric is finite (C = 4) it is shared: level 4 / 2 = 2 < 3.
  solver.set_capacity(fabric, 4);
  solver.solve();
  CHECK(solver.last_solve_stats().components == 1);
  CHECK(solver.rate(a) == 2);
  CHECK(solver.bottleneck(a) == fabric);
  solver.set_capacity(fabric, kUnlimited);
  solver.solve();
  CHECK(solver.last_solve_stats().components == 2);
  CHECK(solver.rate(a) == 3);
}
