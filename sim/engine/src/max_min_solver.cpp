// Problem structure of MaxMinSolver: resources, activities, their incidence, dirty marks.
// The solve itself is in progressive_filling.cpp.
#include "herd/engine/max_min_solver.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>

#include "free_slots.hpp"
#include "herd/engine/check.hpp"

namespace herd::engine {
namespace {

constexpr std::size_t kMinDeadUsesToCompact = 1024;

void check_capacity(double capacity) {
  if (!(capacity >= 0)) {
    throw std::invalid_argument("herd::engine: resource capacity " + std::to_string(capacity) +
                                " must be >= 0 (units/s, +infinity allowed)");
  }
}

void check_rate_bound(double rate_bound) {
  if (!(rate_bound >= 0)) {
    throw std::invalid_argument("herd::engine: rate bound " + std::to_string(rate_bound) +
                                " must be >= 0 (units/s, +infinity for none)");
  }
}

void check_share_weight(double share_weight) {
  if (!(share_weight > 0) || !std::isfinite(share_weight)) {
    throw std::invalid_argument("herd::engine: share weight " + std::to_string(share_weight) +
                                " must be finite and > 0");
  }
}

std::uint32_t index(ResourceId id) { return static_cast<std::uint32_t>(id); }
std::uint32_t index(ActivityId id) { return static_cast<std::uint32_t>(id); }

}  // namespace

std::uint32_t MaxMinSolver::checked_index(ResourceId id) const {
  if (index(id) >= resources_.size()) {
    invariant_failure("unknown resource id " + std::to_string(index(id)));
  }
  return index(id);
}

MaxMinSolver::Activity& MaxMinSolver::activity_at(ActivityId id) {
  if (!contains(id)) invariant_failure("no live activity with id " + std::to_string(index(id)));
  return activities_[index(id)];
}

const MaxMinSolver::Activity& MaxMinSolver::activity_at(ActivityId id) const {
  return const_cast<MaxMinSolver*>(this)->activity_at(id);
}

bool MaxMinSolver::contains(ActivityId id) const noexcept {
  return index(id) < activities_.size() && activities_[index(id)].live;
}

ResourceId MaxMinSolver::add_resource(double capacity) {
  check_capacity(capacity);
  // Ids share 31 bits with a tag in the solve's candidate queue.
  if (resources_.size() >= kOwnLimitTag) invariant_failure("more than 2^31 resources");
  resources_.emplace_back().capacity = capacity + 0.0;  // + 0.0 turns -0 into +0
  users_.emplace_back();
  resource_dirty_.push_back(0);
  return ResourceId{static_cast<std::uint32_t>(resources_.size() - 1)};
}

void MaxMinSolver::set_capacity(ResourceId id, double capacity) {
  check_capacity(capacity);
  Resource& resource = resources_[checked_index(id)];
  if (resource.capacity == capacity) return;
  resource.capacity = capacity + 0.0;
  const std::vector<Incidence>& users = users_[index(id)];
  if (users.size() == 1) activities_[users[0].activity].sole_limit_stale = true;
  mark_resource_dirty(index(id));
}

double MaxMinSolver::capacity(ResourceId id) const {
  return resources_[checked_index(id)].capacity;
}

void MaxMinSolver::check_activity(std::span<const ResourceUse> uses, SharingOptions options) const {
  check_rate_bound(options.rate_bound);
  check_share_weight(options.share_weight);
  for (const ResourceUse& use : uses) {
    if (index(use.resource) >= resources_.size()) {
      throw std::invalid_argument("herd::engine: activity uses unknown resource id " +
                                  std::to_string(index(use.resource)));
    }
    if (!(use.weight > 0) || !std::isfinite(use.weight)) {
      throw std::invalid_argument("herd::engine: resource use weight " +
                                  std::to_string(use.weight) + " must be finite and > 0");
    }
  }
}

ActivityId MaxMinSolver::add_activity(std::span<const ResourceUse> uses, SharingOptions options) {
  check_activity(uses, options);
  // Merge repeated resources into one use: the constraint only sees the summed weight, and one
  // incidence per (activity, resource) keeps the solve's bookkeeping simple.
  merged_uses_.assign(uses.begin(), uses.end());
  std::sort(merged_uses_.begin(), merged_uses_.end(),
            [](const ResourceUse& a, const ResourceUse& b) { return a.resource < b.resource; });
  std::size_t merged = 0;
  for (const ResourceUse& use : merged_uses_) {
    if (merged > 0 && merged_uses_[merged - 1].resource == use.resource) {
      merged_uses_[merged - 1].weight += use.weight;
    } else {
      merged_uses_[merged++] = use;
    }
  }
  merged_uses_.resize(merged);

  if (live_activities_ >= kOwnLimitTag) invariant_failure("more than 2^31 activities");
  const std::uint32_t id = acquire_slot(activities_, free_activities_);
  Activity& activity = activities_[id];
  activity.first_use = static_cast<std::uint32_t>(uses_.size());
  activity.use_count = static_cast<std::uint32_t>(merged);
  activity.rate_bound = options.rate_bound + 0.0;  // + 0.0 turns -0 into +0
  activity.share_weight = options.share_weight;
  activity.rate = 0;
  activity.bottleneck = kNoResource;
  activity.live = true;
  activity.sole_limit_stale = true;
  for (const ResourceUse& use : merged_uses_) {
    std::vector<Incidence>& users = users_[index(use.resource)];
    if (users.size() == 1) {
      uses_[users[0].use].sole_user = false;
      activities_[users[0].activity].sole_limit_stale = true;
    }
    const auto use_index = static_cast<std::uint32_t>(uses_.size());
    uses_.push_back(Use{index(use.resource), static_cast<std::uint32_t>(users.size()), id,
                        users.empty(), use.weight});
    users.push_back(Incidence{id, use_index, use.weight * options.share_weight});
  }
  ++live_activities_;
  mark_dirty(id);
  return ActivityId{id};
}

void MaxMinSolver::remove_activity(ActivityId id) {
  Activity& activity = activity_at(id);
  for (std::uint32_t u = activity.first_use; u < activity.first_use + activity.use_count; ++u) {
    Use& use = uses_[u];
    std::vector<Incidence>& users = users_[use.resource];
    // Swap-remove the incidence and repoint the use of the incidence that moved into its place.
    const Incidence moved = users.back();
    users[use.position] = moved;
    uses_[moved.use].position = use.position;
    users.pop_back();
    if (users.size() == 1) {
      uses_[users[0].use].sole_user = true;
      activities_[users[0].activity].sole_limit_stale = true;
    }
    use.activity = kDeadUse;
    // The activities left on this resource may gain rate, and its component may split.
    if (std::isfinite(resources_[use.resource].capacity)) mark_resource_dirty(use.resource);
  }
  dead_uses_ += activity.use_count;
  activity.live = false;
  activity.use_count = 0;
  free_activities_.push_back(index(id));
  --live_activities_;
  if (dead_uses_ >= kMinDeadUsesToCompact && dead_uses_ * 2 > uses_.size()) compact_uses();
}

void MaxMinSolver::set_rate_bound(ActivityId id, double rate_bound) {
  check_rate_bound(rate_bound);
  Activity& activity = activity_at(id);
  if (activity.rate_bound == rate_bound) return;
  activity.rate_bound = rate_bound + 0.0;
  mark_dirty(index(id));
}

void MaxMinSolver::set_share_weight(ActivityId id, double share_weight) {
  check_share_weight(share_weight);
  Activity& activity = activity_at(id);
  if (activity.share_weight == share_weight) return;
  activity.share_weight = share_weight;
  for (const Use& use : uses_of(activity)) {
    users_[use.resource][use.position].weighted_share = use.weight * share_weight;
  }
  mark_dirty(index(id));
}

double MaxMinSolver::rate(ActivityId id) const { return activity_at(id).rate; }

ResourceId MaxMinSolver::bottleneck(ActivityId id) const { return activity_at(id).bottleneck; }

double MaxMinSolver::load(ResourceId id) const {
  double load = 0;
  for (const Incidence& user : users_[checked_index(id)]) {
    load += uses_[user.use].weight * activities_[user.activity].rate;
  }
  return load;
}

bool MaxMinSolver::snapshot(std::vector<std::uint64_t>& out, std::span<const ActivityId> order) const {
  if (needs_solve() || order.size() != live_activities_) return false;
  constexpr std::uint32_t kUnnamed = 0xFFFF'FFFFu;
  std::vector<std::uint32_t> place(activities_.size(), kUnnamed);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::uint32_t a = index(order[i]);
    if (a >= activities_.size() || !activities_[a].live || place[a] != kUnnamed) return false;
    place[a] = static_cast<std::uint32_t>(i);
  }
  auto bits = [&out](double v) { out.push_back(std::bit_cast<std::uint64_t>(v)); };
  out.push_back(resources_.size());
  for (std::size_t r = 0; r < resources_.size(); ++r) {
    bits(resources_[r].capacity);
    out.push_back(users_[r].size());
    for (const Incidence& user : users_[r]) {
      out.push_back(place[user.activity]);
      bits(user.weighted_share);
    }
  }
  for (const ActivityId id : order) {
    const Activity& a = activities_[index(id)];
    out.push_back(std::uint64_t{a.sole_limit_stale});
    for (const double v : {a.rate_bound, a.share_weight, a.rate, a.sole_limit}) bits(v);
    out.push_back(index(a.bottleneck));
    out.push_back(index(a.sole_limit_resource));
    out.push_back(a.use_count);
    for (const Use& use : uses_of(a)) {
      out.push_back(std::uint64_t{use.resource} << 33 | std::uint64_t{use.position} << 1 | std::uint64_t{use.sole_user});
      bits(use.weight);
    }
  }
  return true;
}

void MaxMinSolver::mark_dirty(std::uint32_t activity) {
  if (activities_[activity].dirty) return;
  activities_[activity].dirty = true;
  dirty_activities_.push_back(activity);
}

void MaxMinSolver::mark_resource_dirty(std::uint32_t resource) {
  if (resource_dirty_[resource] != 0) return;
  resource_dirty_[resource] = 1;
  dirty_resources_.push_back(resource);
}

// Removed activities leave holes in uses_; squeezing them out once they are half the arena keeps
// the arena within twice the live size at amortised O(1) per removed use.
void MaxMinSolver::compact_uses() {
  std::size_t kept = 0;
  for (std::size_t u = 0; u < uses_.size(); ++u) {
    const Use use = uses_[u];
    if (use.activity == kDeadUse) continue;
    Activity& activity = activities_[use.activity];
    if (activity.first_use == u) activity.first_use = static_cast<std::uint32_t>(kept);
    users_[use.resource][use.position].use = static_cast<std::uint32_t>(kept);
    uses_[kept++] = use;
  }
  uses_.resize(kept);
  dead_uses_ = 0;
}

}  // namespace herd::engine
