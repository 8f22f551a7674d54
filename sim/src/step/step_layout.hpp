#pragma once
// Rank coordinates under the plan's rank order (innermost first), for per-rank simulation.
#include <algorithm>
#include <array>
#include <vector>

#include "herd/model/plan.hpp"
#include "herd/sim/step/step_program.hpp"

namespace herd::sim::detail {

class RankLayout {
 public:
  explicit RankLayout(const model::PlanSpec& p) {
    int stride = 1;
    for (auto a : p.rank_order) {
      stride_[static_cast<std::size_t>(a)] = stride;
      degree_[static_cast<std::size_t>(a)] = p.degree(a);
      stride *= p.degree(a);
    }
  }
  int coord(int rank, model::Axis a) const {
    return (rank / stride_[static_cast<std::size_t>(a)]) % degree_[static_cast<std::size_t>(a)];
  }
  int stage_of(int rank) const { return coord(rank, model::Axis::pp); }
  int with_stage(int rank, int stage) const {
    return rank + (stage - stage_of(rank)) * stride_[static_cast<std::size_t>(model::Axis::pp)];
  }
  /// The member of `rank`'s group with coordinate 0 on the group's axes: identifies the group.
  int group_base(int rank, CommGroup g) const {
    int base = rank;
    for (auto a : axes(g)) base -= coord(rank, a) * stride_[static_cast<std::size_t>(a)];
    return base;
  }
  std::vector<int> group_members(int rank, CommGroup g) const {
    std::vector<int> members{group_base(rank, g)};
    for (auto a : axes(g)) {
      std::vector<int> next;
      for (int m : members)
        for (int i = 0; i < degree_[static_cast<std::size_t>(a)]; ++i) next.push_back(m + i * stride_[static_cast<std::size_t>(a)]);
      members.swap(next);
    }
    std::sort(members.begin(), members.end());  // communicators order their ranks as the job does
    return members;
  }

 private:
  static std::vector<model::Axis> axes(CommGroup g) {
    switch (g) {
      case CommGroup::tp: return {model::Axis::tp};
      case CommGroup::cp: return {model::Axis::cp};
      case CommGroup::pp: return {model::Axis::pp};
      case CommGroup::dp: return {model::Axis::dp};
      case CommGroup::dp_cp: return {model::Axis::cp, model::Axis::dp};
    }
    return {};
  }
  std::array<int, 4> stride_{1, 1, 1, 1};
  std::array<int, 4> degree_{1, 1, 1, 1};
};

}  // namespace herd::sim::detail
