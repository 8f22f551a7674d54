// An independent, naive max-min fair solver used as the expected value in property tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "herd/engine/max_min_solver.hpp"

namespace herd::engine::testing {

struct ToyActivity {
  std::vector<ResourceUse> uses;
  SharingOptions sharing;
};

// The textbook algorithm, written for clarity: at each round compute every resource's fair
// level over the unfixed activities, take the smallest level (or bound / phi), fix every
// activity it constrains at phi * level, repeat. O(rounds * problem size).
inline std::vector<double> reference_rates(const std::vector<double>& capacities,
                                           const std::vector<ToyActivity>& activities) {
  const std::size_t n = activities.size();
  std::vector<double> rates(n, 0);
  std::vector<bool> fixed(n, false);
  std::vector<double> remaining = capacities;
  std::size_t left = n;
  while (left > 0) {
    std::vector<double> unfixed_weight(capacities.size(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (fixed[i]) continue;
      for (const ResourceUse& use : activities[i].uses) {
        unfixed_weight[static_cast<std::size_t>(use.resource)] +=
            use.weight * activities[i].sharing.share_weight;
      }
    }
    std::vector<double> level(capacities.size(), kUnlimited);
    double lowest = kUnlimited;
    for (std::size_t j = 0; j < capacities.size(); ++j) {
      if (unfixed_weight[j] > 0 && std::isfinite(capacities[j])) {
        level[j] = std::max(remaining[j], 0.0) / unfixed_weight[j];
        lowest = std::min(lowest, level[j]);
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!fixed[i])
        lowest =
            std::min(lowest, activities[i].sharing.rate_bound / activities[i].sharing.share_weight);
    }
    const double tie = lowest * (1 + 1e-12);
    std::vector<std::size_t> fixing;
    for (std::size_t i = 0; i < n; ++i) {
      if (fixed[i]) continue;
      bool constrained =
          std::isinf(lowest) ||
          activities[i].sharing.rate_bound / activities[i].sharing.share_weight <= tie;
      for (const ResourceUse& use : activities[i].uses) {
        constrained = constrained || level[static_cast<std::size_t>(use.resource)] <= tie;
      }
      if (constrained) fixing.push_back(i);
    }
    for (std::size_t i : fixing) {
      fixed[i] = true;
      --left;
      rates[i] =
          std::min(activities[i].sharing.share_weight * lowest, activities[i].sharing.rate_bound);
      if (std::isinf(rates[i])) continue;
      for (const ResourceUse& use : activities[i].uses) {
        remaining[static_cast<std::size_t>(use.resource)] -= use.weight * rates[i];
      }
    }
  }
  return rates;
}

}  // namespace herd::engine::testing
