#pragma once
// Collective operations as NCCL and nccl-tests name and size them.
//
// Sizes follow nccl-tests: `bytes` is the buffer each rank passes, namely the full buffer for
// all-reduce, broadcast and reduce, the output buffer for all-gather, the input buffer for
// reduce-scatter, the send buffer for all-to-all (bytes/n to each peer) and the message for
// send/recv. algbw = bytes / time; busbw = algbw x bus_factor (2(n-1)/n for all-reduce,
// (n-1)/n for all-gather, reduce-scatter and all-to-all, 1 otherwise).
#include <optional>
#include <string>
#include <string_view>

#include "herd/model/hardware.hpp"

namespace herd::sim {

enum class CollectiveOp { all_reduce, all_gather, reduce_scatter, broadcast, reduce, all_to_all, send_recv };

/// ring: NCCL's ring (rings enter and leave each node once per channel, NVLink inside).
/// tree: NCCL's double binary tree over nodes with a chain inside each node (all-reduce only).
/// nvls: in-switch reduction and multicast inside one NVSwitch domain (NVLink SHARP).
/// hierarchical: inside each node (NVLS or ring), then between nodes on rank-aligned rails.
/// direct: one transfer per peer, all at once (all-to-all, send/recv).
enum class Algorithm { automatic, ring, tree, nvls, hierarchical, direct };

/// NCCL protocols: LL (8-byte stores, 4 bytes of data and a flag), LL128 (128-byte lines, 120 of
/// data), Simple (bulk copies with a fence per chunk).
enum class Protocol { automatic, ll, ll128, simple };

std::string_view to_string(CollectiveOp op);
std::string_view to_string(Algorithm algorithm);
std::string_view to_string(Protocol protocol);
/// "all_reduce", "allreduce", "all-reduce" ... ; nullopt when unknown.
std::optional<CollectiveOp> parse_collective_op(std::string_view text);

Algorithm from_model(model::CollectiveAlgorithm algorithm);
Protocol from_model(model::CollectiveProtocol protocol);

/// nccl-tests' bus bandwidth factor for an op over n ranks (see above). n >= 1.
double bus_factor(CollectiveOp op, int n);

/// What a caller may force; anything left automatic falls back to the cluster's
/// `cluster.collectives.*` setting, then to the NCCL-style choice.
struct CollectiveOptions {
  Algorithm algorithm = Algorithm::automatic;
  Protocol protocol = Protocol::automatic;
  int channels = 0;  ///< 0: automatic
  int root = 0;      ///< broadcast / reduce: index of the root within each group
};

}  // namespace herd::sim
