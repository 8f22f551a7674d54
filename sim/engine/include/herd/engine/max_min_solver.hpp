// Max-min fair sharing of resources among activities (progressive filling / bottleneck
// algorithm), solved incrementally.
//
// Resource j has a capacity C_j in units/s (0 and +infinity allowed). Activity i has a rate r_i
// and uses resources with weights w_ij > 0, so that for every resource
//     sum_i w_ij * r_i <= C_j.
// An activity may use many resources (a ring collective moving at the pace of its slowest link
// is one activity over all its links); listing a resource twice adds the weights. Each activity
// may carry a rate bound b_i (r_i <= b_i) and a share weight phi_i > 0: at every bottleneck,
// unfixed activities get rates in proportion to phi_i. The result is weighted max-min fair: no
// rate can grow without shrinking a rate that is already no larger (after dividing by phi).
//
// Changes (adding or removing an activity, a capacity, a bound or a share weight) only mark
// parts of the problem dirty; solve() re-solves just the connected components they touch, where
// two activities are connected when they share a resource of finite capacity.
//
// Ids are small indices; the id of a removed activity may be reused by a later add_activity().
// Using an id that names no live activity or resource, or going past 2^31 resources or live
// activities, aborts (always-on check).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "herd/engine/detail/monotone_radix_heap.hpp"

namespace herd::engine {

enum class ResourceId : std::uint32_t {};
enum class ActivityId : std::uint32_t {};

// "No resource": the bottleneck of an activity limited by its own rate bound, or by nothing.
inline constexpr ResourceId kNoResource{0xFFFF'FFFFu};

inline constexpr double kUnlimited = std::numeric_limits<double>::infinity();

struct ResourceUse {
  ResourceId resource;
  double weight = 1.0;  // capacity units consumed per unit of the activity's rate; > 0
};

struct SharingOptions {
  double rate_bound = kUnlimited;  // r_i <= rate_bound; >= 0
  double share_weight = 1.0;       // phi_i; > 0 and finite
};

struct SolveStats {
  std::size_t components = 0;     // connected components re-solved
  std::size_t activities = 0;     // activities whose rate was recomputed
  std::size_t resource_uses = 0;  // activity-resource pairs in those components
};

class MaxMinSolver {
 public:
  // Adds a resource. Throws std::invalid_argument if capacity is negative or NaN.
  ResourceId add_resource(double capacity);
  // Changes a capacity (units/s). Throws std::invalid_argument if negative or NaN.
  void set_capacity(ResourceId resource, double capacity);
  [[nodiscard]] double capacity(ResourceId resource) const;

  // Adds an activity over `uses` (may be empty: its rate is then its bound, or +infinity).
  // Throws std::invalid_argument for an unknown resource, a weight that is not finite and > 0,
  // or invalid options; nothing is changed then.
  ActivityId add_activity(std::span<const ResourceUse> uses, SharingOptions options = {});
  // Throws exactly what add_activity would for these arguments; changes nothing.
  void check_activity(std::span<const ResourceUse> uses, SharingOptions options) const;
  void remove_activity(ActivityId activity);
  // Throws std::invalid_argument like add_activity.
  void set_rate_bound(ActivityId activity, double rate_bound);
  void set_share_weight(ActivityId activity, double share_weight);

  // Recomputes the rates of every component touched since the last solve.
  void solve();
  // Recomputes every rate, as if nothing had been solved before (for checks and tests).
  void solve_from_scratch();
  [[nodiscard]] bool needs_solve() const noexcept {
    return !dirty_activities_.empty() || !dirty_resources_.empty();
  }

  // Rate (units/s, may be +infinity) as of the last solve(); 0 for an activity added since.
  [[nodiscard]] double rate(ActivityId activity) const;
  // The saturated resource that fixed the activity's rate in the last solve(), or kNoResource
  // when its own bound fixed it, or nothing did (rate +infinity).
  [[nodiscard]] ResourceId bottleneck(ActivityId activity) const;
  // sum_i w_ij * r_i over the rates of the last solve (units/s).
  [[nodiscard]] double load(ResourceId resource) const;

  // The activities whose rates the last solve() recomputed, and what it cost.
  [[nodiscard]] std::span<const ActivityId> last_solved() const noexcept { return last_solved_; }
  [[nodiscard]] const SolveStats& last_solve_stats() const noexcept { return last_stats_; }

  // Appends what decides every later solve: capacities, the live activities in the order given
  // (`order`: every live activity once) with their uses, rates and cached limits, and the order
  // of each resource's users, naming activities by their place in `order`. The solve never
  // compares ids, so it goes on the same way for any numbering. False, with nothing written,
  // while a solve is pending or `order` is not the live activities.
  bool snapshot(std::vector<std::uint64_t>& out, std::span<const ActivityId> order) const;

  [[nodiscard]] bool contains(ActivityId activity) const noexcept;
  [[nodiscard]] std::size_t activity_count() const noexcept { return live_activities_; }
  [[nodiscard]] std::size_t resource_count() const noexcept { return resources_.size(); }

 private:
  struct Incidence {  // one activity using a resource; lives in users_[resource]
    std::uint32_t activity;
    std::uint32_t use;      // index into uses_
    double weighted_share;  // w_ij * phi_i, what the activity adds to the resource's level divisor
  };
  struct Use {  // one resource used by an activity; lives in uses_
    std::uint32_t resource;
    std::uint32_t position;  // index into users_[resource]
    std::uint32_t activity;  // kDeadUse once the activity is removed
    bool sole_user;          // the activity is the resource's only user
    double weight;
  };
  // 32 bytes, two to a cache line: the solve's random accesses mostly land here.
  struct Resource {
    double capacity = 0;
    // Progressive-filling state, meaningful during a solve only.
    double remaining = 0;
    double unfixed_weight = 0;  // sum of w_ij * phi_i over activities not yet fixed
    std::uint32_t unfixed_count = 0;
    std::uint32_t visit_stamp = 0;
  };
  struct Activity {
    std::uint32_t first_use = 0;
    std::uint32_t use_count = 0;
    double rate_bound = kUnlimited;
    double share_weight = 1.0;
    double rate = 0;
    ResourceId bottleneck = kNoResource;
    // min(capacity / weight) over the finite resources this activity alone uses, cached until
    // one of them gains a user, loses one or changes capacity.
    ResourceId sole_limit_resource = kNoResource;
    double sole_limit = kUnlimited;
    std::uint32_t visit_stamp = 0;
    std::uint32_t fixed_stamp = 0;
    bool live = false;
    bool dirty = false;
    bool sole_limit_stale = true;
  };

  static constexpr std::uint32_t kDeadUse = 0xFFFF'FFFFu;
  static constexpr std::uint32_t kOwnLimitTag = detail::MonotoneRadixHeap::kLateBit;

  std::uint32_t checked_index(ResourceId id) const;
  Activity& activity_at(ActivityId id);
  const Activity& activity_at(ActivityId id) const;
  std::span<const Use> uses_of(const Activity& activity) const noexcept {
    return {uses_.data() + activity.first_use, activity.use_count};
  }
  void mark_dirty(std::uint32_t activity);
  void mark_resource_dirty(std::uint32_t resource);
  void compact_uses();

  // Component discovery and progressive filling (progressive_filling.cpp).
  void next_stamp();
  void solve_component_of_activity(std::uint32_t seed);
  void solve_component_of_resource(std::uint32_t seed);
  void visit_activity(std::uint32_t activity);
  void visit_shared_resource(std::uint32_t resource);
  void collect_component();
  void fill_component();
  void fix(std::uint32_t activity, double rate, ResourceId bottleneck);

  std::vector<Resource> resources_;
  std::vector<std::vector<Incidence>> users_;  // per resource
  std::vector<std::uint8_t> resource_dirty_;   // per resource
  std::vector<Activity> activities_;
  std::vector<Use> uses_;
  std::size_t dead_uses_ = 0;
  std::vector<std::uint32_t> free_activities_;
  std::size_t live_activities_ = 0;
  std::vector<std::uint32_t> dirty_activities_;
  std::vector<std::uint32_t> dirty_resources_;

  // Scratch reused by every solve, so that a solve allocates only while these grow.
  std::uint32_t stamp_ = 0;
  std::vector<std::uint32_t> component_activities_;
  // Candidate levels: a resource id, or kOwnLimitTag | activity for an activity's own limit.
  detail::MonotoneRadixHeap candidates_;
  std::vector<ResourceUse> merged_uses_;
  std::vector<ActivityId> last_solved_;
  SolveStats last_stats_;
};

}  // namespace herd::engine
