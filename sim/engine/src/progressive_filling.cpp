// The solve of MaxMinSolver: find the components touched since the last solve, then run
// progressive filling on each.
//
// Progressive filling raises a common level lambda; unfixed activity i runs at phi_i * lambda.
// Resource j saturates at lambda_j = remaining_j / sum(w_ij * phi_i over unfixed i), a bound at
// b_i / phi_i. The smallest candidate is the bottleneck: its activities are fixed, their use is
// subtracted from their other resources, and the filling goes on. Fixing activities only ever
// raises the other candidates (remaining and the weight sum both drop, and the remaining share
// per unit weight was at least lambda), so a heap entry is a lower bound of its resource's
// current level. Entries are therefore refreshed lazily: a popped entry whose level has risen
// goes back in with the new level; one that has not is the true minimum.
#include <algorithm>
#include <cmath>

#include "herd/engine/max_min_solver.hpp"

namespace herd::engine {
namespace {

// Min-heap order on (level, id): ties broken by id keep the solve deterministic, and putting
// resources (ids without kBoundTag) first names the saturated resource as the bottleneck when
// a bound and a resource give the same rate.
struct HigherLevel {
  template <class Level>
  bool operator()(const Level& a, const Level& b) const noexcept {
    return a.level != b.level ? a.level > b.level : a.id > b.id;
  }
};

}  // namespace

void MaxMinSolver::solve() {
  last_solved_.clear();
  last_stats_ = {};
  if (!needs_solve()) return;
  next_stamp();
  for (const std::uint32_t resource : dirty_resources_) {
    resources_[resource].dirty = false;
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
  activities_[seed].visit_stamp = stamp_;
  component_activities_.assign(1, seed);
  component_resources_.clear();
  collect_component();
  fill_component();
}

void MaxMinSolver::solve_component_of_resource(std::uint32_t seed) {
  Resource& resource = resources_[seed];
  if (!std::isfinite(resource.capacity)) {
    // An unlimited resource links nobody: each of its users may head a separate component.
    for (const Incidence& user : resource.users) solve_component_of_activity(user.activity);
    return;
  }
  if (resource.visit_stamp == stamp_ || resource.users.empty()) return;
  resource.visit_stamp = stamp_;
  component_activities_.clear();
  component_resources_.assign(1, seed);
  for (const Incidence& user : resource.users) {
    if (activities_[user.activity].visit_stamp == stamp_) continue;
    activities_[user.activity].visit_stamp = stamp_;
    component_activities_.push_back(user.activity);
  }
  collect_component();
  fill_component();
}

// Breadth-first over activity -> finite resource -> activity, using component_activities_ as
// the queue.
void MaxMinSolver::collect_component() {
  for (std::size_t next = 0; next < component_activities_.size(); ++next) {
    for (const Use& use : uses_of(activities_[component_activities_[next]])) {
      Resource& resource = resources_[use.resource];
      if (resource.visit_stamp == stamp_ || !std::isfinite(resource.capacity)) continue;
      resource.visit_stamp = stamp_;
      component_resources_.push_back(use.resource);
      for (const Incidence& user : resource.users) {
        if (activities_[user.activity].visit_stamp == stamp_) continue;
        activities_[user.activity].visit_stamp = stamp_;
        component_activities_.push_back(user.activity);
      }
    }
  }
}

void MaxMinSolver::fill_component() {
  levels_.clear();
  std::size_t uses_in_component = 0;
  for (const std::uint32_t r : component_resources_) {
    Resource& resource = resources_[r];
    resource.remaining = resource.capacity;
    resource.unfixed_weight = 0;
    for (const Incidence& user : resource.users) {
      resource.unfixed_weight += user.weight * activities_[user.activity].share_weight;
    }
    resource.unfixed_count = static_cast<std::uint32_t>(resource.users.size());
    uses_in_component += resource.users.size();
    levels_.push_back(Level{resource.capacity / resource.unfixed_weight, r});
  }
  for (const std::uint32_t a : component_activities_) {
    const Activity& activity = activities_[a];
    if (std::isfinite(activity.rate_bound)) {
      levels_.push_back(Level{activity.rate_bound / activity.share_weight, kBoundTag | a});
    }
  }
  std::make_heap(levels_.begin(), levels_.end(), HigherLevel{});

  while (!levels_.empty()) {
    std::pop_heap(levels_.begin(), levels_.end(), HigherLevel{});
    const Level candidate = levels_.back();
    levels_.pop_back();
    if ((candidate.id & kBoundTag) != 0) {
      const std::uint32_t a = candidate.id & ~kBoundTag;
      if (activities_[a].fixed_stamp != stamp_) fix(a, activities_[a].rate_bound, kNoResource);
      continue;
    }
    Resource& resource = resources_[candidate.id];
    if (resource.unfixed_count == 0) continue;
    if (!(resource.unfixed_weight > 0)) {
      // Subtraction drift on wildly different weights; recount rather than divide by ~0.
      resource.unfixed_weight = 0;
      for (const Incidence& user : resource.users) {
        const Activity& activity = activities_[user.activity];
        if (activity.fixed_stamp != stamp_)
          resource.unfixed_weight += user.weight * activity.share_weight;
      }
    }
    const double level = std::max(resource.remaining, 0.0) / resource.unfixed_weight;
    if (level > candidate.level) {
      levels_.push_back(Level{level, candidate.id});
      std::push_heap(levels_.begin(), levels_.end(), HigherLevel{});
      continue;
    }
    for (const Incidence& user : resource.users) {
      Activity& activity = activities_[user.activity];
      if (activity.fixed_stamp != stamp_) {
        fix(user.activity, activity.share_weight * level, ResourceId{candidate.id});
      }
    }
  }
  // Whatever is left touches only unlimited resources and has no bound.
  for (const std::uint32_t a : component_activities_) {
    if (activities_[a].fixed_stamp != stamp_) {
      activities_[a].fixed_stamp = stamp_;
      activities_[a].rate = kUnlimited;
      activities_[a].bottleneck = kNoResource;
    }
    last_solved_.push_back(ActivityId{a});
  }
  ++last_stats_.components;
  last_stats_.activities += component_activities_.size();
  last_stats_.resource_uses += uses_in_component;
}

void MaxMinSolver::fix(std::uint32_t a, double rate, ResourceId bottleneck) {
  Activity& activity = activities_[a];
  activity.fixed_stamp = stamp_;
  activity.rate = rate;
  activity.bottleneck = bottleneck;
  for (const Use& use : uses_of(activity)) {
    Resource& resource = resources_[use.resource];
    if (!std::isfinite(resource.capacity)) continue;
    resource.remaining -= use.weight * rate;
    resource.unfixed_weight -= use.weight * activity.share_weight;
    --resource.unfixed_count;
  }
}

}  // namespace herd::engine
