#pragma once
// Collective operations as NCCL and nccl-tests name and size them: one vocabulary for the
// workload (which collectives a step issues) and the network (how they move).
//
// Sizes follow nccl-tests: `bytes` is the buffer each rank passes, namely the full buffer for
// all-reduce, broadcast and reduce, the output buffer for all-gather, the input buffer for
// reduce-scatter, the send buffer for all-to-all (bytes/n to each peer) and the message for
// send/recv. algbw = bytes / time; busbw = algbw x bus_factor (2(n-1)/n for all-reduce,
// (n-1)/n for all-gather, reduce-scatter and all-to-all, 1 otherwise).
#include <optional>
#include <string_view>

namespace herd::model {

enum class Collective { all_gather, reduce_scatter, all_reduce, broadcast, reduce, all_to_all, send_recv };

inline constexpr Collective kCollectives[] = {Collective::all_reduce, Collective::all_gather, Collective::reduce_scatter,
                                              Collective::broadcast,  Collective::reduce,     Collective::all_to_all,
                                              Collective::send_recv};

std::string_view to_string(Collective c);
/// "all_reduce", "allreduce", "all-reduce", nccl-tests' "alltoallv", "sendrecv_perf" ...; nullopt when unknown.
std::optional<Collective> parse_collective(std::string_view text);

/// nccl-tests' bus bandwidth factor for an op over n ranks (see above). n >= 1.
double bus_factor(Collective op, int n);

}  // namespace herd::model
