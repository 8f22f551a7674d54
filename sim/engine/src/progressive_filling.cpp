// The solve of MaxMinSolver: find the components touched since the last solve, then run
// progressive filling on each.
//
// Progressive filling raises a common level lambda; unfixed activity i runs at phi_i * lambda.
// Resource j saturates at lambda_j = remaining_j / sum(w_ij * phi_i over unfixed i), activity
// i's own limit (its bound) at b_i / phi_i. The smallest candidate is the bottleneck: its
// activities are fixed, their use is subtracted from their other resources, and the filling
// goes on. Fixing activities only ever raises the other candidates (remaining and the divisor
// both drop, and the remaining share per unit weight was at least lambda), so a heap entry is a
// lower bound of its resource's current level. Entries are therefore refreshed lazily: a popped
// entry whose level has risen goes back in with the new level; one that has not is the true
// minimum.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "herd/engine/max_min_solver.hpp"

namespace herd::engine {
namespace {

// Levels are >= +0 (never -0 or NaN), and the bits of non-negative doubles order like the
// numbers, so the radix heap can key on them.
std::uint64_t key_of(double level) noexcept { return std::bit_cast<std::uint64_t>(level); }
double level_of(std::uint64_t key) noexcept { return std::bit_cast<double>(key); }

}  // namespace

void MaxMinSolver::solve() {
  last_solved_.clear();
  last_stats_ = {};
  if (!needs_solve()) return;
  next_stamp();
  for (const std::uint32_t resource : dirty_resources_) {
    resource_dirty_[resource] = 0;
    solve_component_of_resource(resource);
  }
  for (const std::uint32_t activity : dirty_activities_) {
    activities_[activity].dirty = false;
    if (activities_[activity].live) solve_component_of_activity(activity);
  }
  dirty_resources_.clear();
  dirty_activities_.clear();
}

void MaxMinSolver::solve_from_scratch() {
  for (std::uint32_t a = 0; a < activities_.size(); ++a) {
    if (activities_[a].live) mark_dirty(a);
  }
  solve();
}

// Stamps tell "visited in this solve" without clearing per-element flags between solves.
void MaxMinSolver::next_stamp() {
  if (++stamp_ != 0) return;
  for (Resource& resource : resources_) resource.visit_stamp = 0;
  for (Activity& activity : activities_) activity.visit_stamp = activity.fixed_stamp = 0;
  stamp_ = 1;
}

void MaxMinSolver::solve_component_of_activity(std::uint32_t seed) {
  if (activities_[seed].visit_stamp == stamp_) return;
  component_activities_.clear();
  candidates_.clear();
  visit_activity(seed);
  collect_component();
  fill_component();
}

// A finite resource belongs to the component of any of its users; an unlimited one links
// nobody, so each of its users may head a separate component.
void MaxMinSolver::solve_component_of_resource(std::uint32_t seed) {
  const std::vector<Incidence>& users = users_[seed];
  if (std::isfinite(resources_[seed].capacity)) {
    if (!users.empty()) solve_component_of_activity(users.front().activity);
    return;
  }
  for (const Incidence& user : users) solve_component_of_activity(user.activity);
}

// A resource with a single user never changes level until that user is fixed, so it acts as a
// bound on the user: it is folded into the user's "sole limit" instead of taking a heap entry,
// and the solve never reads its user list nor updates its state. Links used by one transfer
// (NIC ports, hops of one ring) are common, and this keeps the work to the resources that are
// really shared. The sole limit is cached across solves: recomputing it reads every such
// resource, which is most of the memory traffic of a component made of long rings.
void MaxMinSolver::visit_activity(std::uint32_t a) {
  Activity& activity = activities_[a];
  activity.visit_stamp = stamp_;
  component_activities_.push_back(a);
  if (!activity.sole_limit_stale) return;
  activity.sole_limit_stale = false;
  activity.sole_limit = kUnlimited;
  activity.sole_limit_resource = kNoResource;
  for (const Use& use : uses_of(activity)) {
    if (!use.sole_user) continue;
    const double limit = resources_[use.resource].capacity / use.weight;
    if (limit < activity.sole_limit) {
      activity.sole_limit = limit;
      activity.sole_limit_resource = ResourceId{use.resource};
    }
  }
}

// Breadth-first over activity -> shared finite resource -> activity, using
// component_activities_ as the queue.
void MaxMinSolver::collect_component() {
  for (std::size_t next = 0; next < component_activities_.size(); ++next) {
    const Activity& activity = activities_[component_activities_[next]];
    last_stats_.resource_uses += activity.use_count;
    for (const Use& use : uses_of(activity)) {
      if (use.sole_user) continue;
      const Resource& resource = resources_[use.resource];
      if (resource.visit_stamp != stamp_ && std::isfinite(resource.capacity)) {
        visit_shared_resource(use.resource);
      }
    }
  }
}

void MaxMinSolver::visit_shared_resource(std::uint32_t r) {
  Resource& resource = resources_[r];
  resource.visit_stamp = stamp_;
  const std::vector<Incidence>& users = users_[r];
  double unfixed_weight = 0;
  for (const Incidence& user : users) {
    if (activities_[user.activity].visit_stamp != stamp_) visit_activity(user.activity);
    unfixed_weight += user.weighted_share;
  }
  resource.remaining = resource.capacity;
  resource.unfixed_weight = unfixed_weight;
  resource.unfixed_count = static_cast<std::uint32_t>(users.size());
  candidates_.push(key_of(resource.capacity / unfixed_weight), r);
}

void MaxMinSolver::fill_component() {
  for (const std::uint32_t a : component_activities_) {
    const Activity& activity = activities_[a];
    const double own_limit = std::min(activity.rate_bound, activity.sole_limit);
    if (std::isfinite(own_limit)) {
      candidates_.push(key_of(own_limit / activity.share_weight), kOwnLimitTag | a);
    }
  }
  // Candidates leave in level order; at equal levels resources come before own limits (tagged
  // late), so a resource rather than a bound is named the bottleneck at a tie.
  while (!candidates_.empty()) {
    const detail::MonotoneRadixHeap::Entry candidate = candidates_.pop();
    if ((candidate.id & kOwnLimitTag) != 0) {
      const std::uint32_t a = candidate.id & ~kOwnLimitTag;
      Activity& activity = activities_[a];
      if (activity.fixed_stamp != stamp_) {
        // At a tie, name the resource rather than the bound as the bottleneck.
        const bool resource_limited = activity.sole_limit <= activity.rate_bound;
        fix(a, resource_limited ? activity.sole_limit : activity.rate_bound,
            resource_limited ? activity.sole_limit_resource : kNoResource);
      }
      continue;
    }
    Resource& resource = resources_[candidate.id];
    if (resource.unfixed_count == 0) continue;
    if (!(resource.unfixed_weight > 0)) {
      // Subtraction drift on wildly different weights; recount rather than divide by ~0.
      resource.unfixed_weight = 0;
      for (const Incidence& user : users_[candidate.id]) {
        if (activities_[user.activity].fixed_stamp != stamp_) {
          resource.unfixed_weight += user.weighted_share;
        }
      }
    }
    // Not std::max(remaining, 0.0): that keeps a -0, whose bits would sort last.
    const double level =
        (resource.remaining > 0 ? resource.remaining : 0.0) / resource.unfixed_weight;
    if (level > level_of(candidate.key)) {
      candidates_.push(key_of(level), candidate.id);
      continue;
    }
    for (const Incidence& user : users_[candidate.id]) {
      Activity& activity = activities_[user.activity];
      if (activity.fixed_stamp != stamp_) {
        fix(user.activity, activity.share_weight * level, ResourceId{candidate.id});
      }
    }
  }
  // Whatever is left touches only unlimited resources and has no bound.
  for (const std::uint32_t a : component_activities_) {
    Activity& activity = activities_[a];
    if (activity.fixed_stamp != stamp_) {
      activity.fixed_stamp = stamp_;
      activity.rate = kUnlimited;
      activity.bottleneck = kNoResource;
    }
    last_solved_.push_back(ActivityId{a});
  }
  ++last_stats_.components;
  last_stats_.activities += component_activities_.size();
}

void MaxMinSolver::fix(std::uint32_t a, double rate, ResourceId bottleneck) {
  Activity& activity = activities_[a];
  activity.fixed_stamp = stamp_;
  activity.rate = rate;
  activity.bottleneck = bottleneck;
  for (const Use& use : uses_of(activity)) {
    if (use.sole_user) continue;
    Resource& resource = resources_[use.resource];
    if (!std::isfinite(resource.capacity)) continue;
    resource.remaining -= use.weight * rate;
    resource.unfixed_weight -= use.weight * activity.share_weight;
    --resource.unfixed_count;
  }
}

}  // namespace herd::engine
