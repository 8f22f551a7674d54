#pragma once
// NCCL's cost model, as far as the network model needs it: the latency of a collective per
// algorithm and protocol, what a protocol costs in bandwidth, per-channel bandwidth ceilings, and
// how many channels a call uses. Constants are NCCL's own (src/graph/tuning.cc at commit
// b6475625 of github.com/NVIDIA/nccl; NVLS efficiency from src/tuning/nvls.cc of later releases;
// thresholds from src/include/comm.h and device.h; the NVLS pipeline fill from
// src/tuning/pipeline_model); docs/models/network.md lists them.
// Bandwidth itself is not NCCL's estimate: it comes from the links the traffic crosses.
#include "herd/sim/collective/algorithm.hpp"
#include "herd/sim/collective/patterns.hpp"
#include "herd/sim/fabric/fabric.hpp"

namespace herd::sim {

/// What a protocol does to an algorithm's bandwidth.
struct ProtocolCost {
  double load_scale = 1;  ///< wire bytes per data byte (LL: flags; LL128: 128/120), x 1/efficiency,
                          ///< x pipeline_factor() (NVLS)
  double algbw_cap = 0;   ///< bytes/s of the operation's size; +inf when only links limit it
};

class NcclTuning {
 public:
  /// Reads `cluster.collectives.*` and the GPU generation of the fabric.
  explicit NcclTuning(const Fabric& fabric);

  /// Whether NCCL would consider this protocol for this algorithm (NVLS and hierarchical: Simple
  /// only; LL128: NVLink nodes of one GPU generation).
  [[nodiscard]] bool enabled(Algorithm algorithm, Protocol protocol) const;
  /// Channels a call of `bytes` uses: NCCL drops channels while each would get less than its
  /// thread-count x per-thread threshold (enqueue.cc); NVLS always uses nvls_channels.
  [[nodiscard]] int channels(Algorithm algorithm, Protocol protocol, const GroupShape& shape, double bytes) const;
  /// Seconds before data flows: NCCL's baseLat + per-step hardware latencies, with the fabric's
  /// one-way network latency added to each step between nodes.
  [[nodiscard]] double latency_s(model::Collective op, Algorithm algorithm, Protocol protocol, const GroupShape& shape,
                                 double bytes, int channels) const;
  /// Protocol overhead and NCCL's bandwidth ceilings for this call.
  [[nodiscard]] ProtocolCost protocol_cost(model::Collective op, Algorithm algorithm, Protocol protocol,
                                           const GroupShape& shape, double bytes, int channels) const;
  /// 1 / (NVLS efficiency x (channels - 1) / channels): how much more NVLink traffic in-switch
  /// reduction costs than its ideal byte count.
  [[nodiscard]] double nvls_scale(int channels) const;
  /// NCCL's pipeline model (src/tuning/pipeline_model): each of the `channels` moves its share of
  /// `bytes` in slices of min(512 KiB, share), and the first slice crosses every step of the
  /// algorithm (NVLS all-reduce: 2, into the switch and out of it) before the next can follow.
  /// Returns the resulting time over the time of `bytes` at the channels' full rate,
  /// (share + (steps - 1) x slice) / share: 2 for an NVLS all-reduce up to 512 KiB per channel,
  /// then falling towards 1. 1 for single-step NVLS (all-gather, reduce-scatter), for the other
  /// algorithms (their latency tables stand for their pipelines) and for bytes <= 0.
  [[nodiscard]] double pipeline_factor(model::Collective op, Algorithm algorithm, int channels, double bytes) const;

 private:
  [[nodiscard]] double base_latency_us(Algorithm a, Protocol p) const;
  [[nodiscard]] double intra_step_us(Algorithm a, Protocol p) const;
  [[nodiscard]] double inter_step_us(Algorithm a, Protocol p) const;

  model::CollectiveSpec spec_;
  bool hopper_ = true;
  bool nvlink_ = true;
  bool nvls_ = false;
};

}  // namespace herd::sim
