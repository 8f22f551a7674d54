#pragma once
// The discrete-event executor behind simulate_step (internal).
#include <array>
#include <deque>
#include <unordered_map>
#include <vector>

#include "herd/engine/simulation.hpp"
#include "herd/sim/step/step_simulation.hpp"

namespace herd::sim::detail {

enum class Wait : std::uint8_t { none, tp, cp, dp, pp, bubble };

struct OpRef {
  std::int32_t inst = 0;
  std::int32_t op = 0;
};

/// One run of a WorkProgram (a piece of work, or the step's start or end) on one rank.
struct Instance {
  const WorkProgram* prog = nullptr;
  std::vector<std::uint8_t> done;
  std::int32_t remaining = 0;
  std::int32_t microbatch = -1;
  std::int32_t vchunk = -1;
  bool backward = false;
};

inline constexpr int kCommStreams = 4;  // tp_comm, cp_comm, pp_comm, dp_comm

struct RankState {
  int index = 0;   ///< position in Executor::ranks
  int stage = 0;
  int global = 0;  ///< global rank (per-rank mode) or the stage (symmetric mode)
  double slowdown = 1.0;
  std::vector<Instance> inst;  ///< 0: step_start, 1..W: work in order, W+1: step_end
  int cur = 0, next_op = 0;
  bool ended = false;
  // compute stream
  bool computing = false;
  OpRef compute_op;
  int compute_last = 0;  ///< last op of the run in flight
  engine::EventId compute_event;
  double compute_remaining_s = 0;  ///< uncontended seconds still to run
  engine::Time compute_since = 0, compute_start = 0;
  double comm_sm = 0;
  // communication streams
  std::array<std::deque<OpRef>, kCommStreams> streams;
  std::array<bool, kCommStreams> stream_busy{};
  std::array<engine::Time, kCommStreams> stream_start{};
  std::array<double, kCommStreams> stream_sm{};
  // waiting, for the breakdown
  Wait wait = Wait::none;
  engine::Time wait_since = 0;
  std::uint64_t waiting_for_arrival = 0;
  std::unordered_map<std::uint64_t, engine::Time> arrived;  ///< transfers delivered, by key
  std::unordered_map<std::uint64_t, engine::Time> sending;  ///< transfers under way, by key
  std::array<std::uint32_t, 5> collective_seq{};
  StepBreakdown spent;
  engine::Time finish = -1;
};

}  // namespace herd::sim::detail
