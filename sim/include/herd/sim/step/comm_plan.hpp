#pragma once
// The network side of a lowered step, prepared once before the step runs: for every network
// operation of the plan (StepPlan::net_ops) the slots it loads per byte, its latency and protocol
// ceiling, and which slots can ever be contended.
//
// Symmetric mode prepares one operation per NetOp that stands for every copy in the stage (all
// the stage's groups of that kind, or every rank's transfer to its peer stage): its load on each
// slot is the sum over the copies, exact when they progress together, as they do by symmetry.
// Per-rank mode prepares one operation per group (or per sending rank), each loading only its own
// links, so groups that run at different times contend only while they overlap.
//
// An operation inside one NVSwitch node takes its uncontended time (nothing else crosses those
// links). A "user" is what issues operations one at a time (a stage's stream; in per-rank mode a
// group's or a rank's); a slot that only one user loads cannot be contended and becomes part of
// that operation's rate bound, and a shared slot that the users together can never fill is
// dropped. What remains are the contended slots, one fluid resource each.
//
// Preparing routes every copy's traffic, the costly part of a step at scale; a CommCache keeps
// prepared operations by what they depend on (the fabric, the rank layout, the mode and the
// operation), so layouts that share them (a planner varying micro-batch, recomputation or the
// schedule) prepare them once. Both are safe to share between threads.
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "herd/model/scenario.hpp"
#include "herd/sim/fabric/fabric.hpp"
#include "herd/sim/step/step_program.hpp"

namespace herd::sim {

/// Bytes per slot per byte of an operation's size. Operations that load the fabric alike (a
/// stage's data-parallel gathers of different sizes) share one, and are analysed once.
using Traffic = std::vector<SlotLoad>;

/// One network operation prepared on the fabric.
struct PreparedOp {
  int user = 0;              ///< issuer; never runs two operations at once
  bool inside_node = false;  ///< only NVLink: `seconds`, as a timer
  double seconds = 0;        ///< uncontended time (collectives)
  int channels = 1;          ///< NCCL channels (thread blocks, one SM each)
  double latency_s = 0;      ///< before data flows (largest over the copies)
  double rate_bound = std::numeric_limits<double>::infinity();  ///< protocol ceiling, bytes/s of the size
  std::shared_ptr<const Traffic> loads;  ///< summed over the copies; never null (empty inside a node)
};

/// The prepared operations of one NetOp: one in symmetric mode, one per group (or sending rank) of
/// the stage in per-rank mode, in ordinal order (sim/src/step/step_groups.hpp).
using PreparedBlock = std::vector<PreparedOp>;

/// The contended part of a step's network: for each operation that leaves its node (in plan
/// order), its rate bound with the slots only it can load, and the contended resources it
/// uses; the slot standing for each resource.
struct ContendedNetwork {
  std::vector<double> rate_bound;                                    ///< bytes/s, by network operation
  std::vector<std::vector<std::pair<std::uint32_t, double>>> uses;  ///< (resource, weight), by network operation
  std::vector<SlotId> resources;                                     ///< a slot per resource
};

class CommCache {
 public:
  /// Keeps the prepared operations of the `layouts` most recently used rank layouts.
  explicit CommCache(std::size_t layouts = 16);
  ~CommCache();
  CommCache(const CommCache&) = delete;
  CommCache& operator=(const CommCache&) = delete;

  struct Key;
  struct NetworkKey;
  class Store;
  /// The block for `key`, prepared by `make` when absent (outside the lock: two threads may both
  /// prepare it; the results are identical and the first one stays).
  std::shared_ptr<const PreparedBlock> block(const Key& key, const std::function<PreparedBlock()>& make);
  /// The contended network of a set of operations, found by `make` when absent.
  std::shared_ptr<const ContendedNetwork> network(const NetworkKey& key,
                                                  const std::function<ContendedNetwork()>& make);
  [[nodiscard]] std::uint64_t hits() const;
  [[nodiscard]] std::uint64_t misses() const;

 private:
  std::unique_ptr<Store> store_;
};

/// What one step's fabric communication runs on.
struct CommPlan {
  struct Entry {
    const PreparedOp* op = nullptr;
    int network = -1;  ///< index in `network`, -1 inside a node
    double sm = 0;     ///< fraction of the GPU's SMs its channels hold (one thread block each)
  };
  std::vector<std::shared_ptr<const PreparedBlock>> blocks;  ///< by NetOp; owns what entries point to
  std::vector<std::uint32_t> first;   ///< by NetOp: its first entry
  std::vector<Entry> entries;         ///< one per prepared operation
  std::shared_ptr<const ContendedNetwork> network;
  bool per_rank = false;

  const Entry& entry(int net, int ordinal) const {
    return entries[first[static_cast<std::size_t>(net)] + static_cast<std::uint32_t>(per_rank ? ordinal : 0)];
  }
};

/// Prepares `plan`'s network operations for symmetric or per-rank mode. `cache` may be null.
/// Prepared blocks are cached by layout and operation, the contended network by layout and the
/// list of operations that leave their node.
/// Throws model::ValueError (pointer /plan) when the plan needs more GPUs than the fabric has.
std::shared_ptr<const CommPlan> prepare_comm(const Fabric& fabric, const model::Scenario& s, const StepPlan& plan,
                                             bool per_rank, CommCache* cache = nullptr);

}  // namespace herd::sim
