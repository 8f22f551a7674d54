// NCCL collectives over every local GPU from one process (ncclCommInitAll), timed the way
// nccl-tests times them: `iterations` back-to-back calls after `warmup`, wall clock around them
// with every stream synchronised, divided by the count. Three such batches give times_s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ostream>

#include <nccl.h>

#include "cuda_common.hpp"
#include "herd/calibrate/cuda_backend.hpp"
#include "herd/calibrate/import.hpp"

namespace herd::calibrate::cuda {

namespace {

void check_nccl(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) throw std::runtime_error(std::string(what) + ": " + ncclGetErrorString(r));
}

struct Rank {
  int device = 0;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  float* send = nullptr;
  float* recv = nullptr;
};

// One call of `collective` on every rank; `bytes` is nccl-tests' size (all_gather: the output,
// reduce_scatter: the input).
void launch(const std::string& collective, std::vector<Rank>& ranks, double bytes, bool in_place) {
  const int n = static_cast<int>(ranks.size());
  const auto total = static_cast<std::size_t>(bytes / sizeof(float));
  check_nccl(ncclGroupStart(), "ncclGroupStart");
  for (int i = 0; i < n; ++i) {
    Rank& r = ranks[static_cast<std::size_t>(i)];
    float* out = in_place ? r.send : r.recv;
    if (collective == "all_reduce") {
      check_nccl(ncclAllReduce(r.send, out, total, ncclFloat, ncclSum, r.comm, r.stream), "ncclAllReduce");
    } else if (collective == "all_gather") {  // in place: this rank's slice already sits in the output
      float* in = in_place ? r.send + static_cast<std::size_t>(i) * (total / n) : r.send;
      check_nccl(ncclAllGather(in, out, total / n, ncclFloat, r.comm, r.stream), "ncclAllGather");
    } else if (collective == "reduce_scatter") {
      float* dst = in_place ? r.send + static_cast<std::size_t>(i) * (total / n) : r.recv;
      check_nccl(ncclReduceScatter(r.send, dst, total / n, ncclFloat, ncclSum, r.comm, r.stream), "ncclReduceScatter");
    } else if (collective == "broadcast") {
      check_nccl(ncclBroadcast(r.send, out, total, ncclFloat, 0, r.comm, r.stream), "ncclBroadcast");
    } else {  // send_recv: a ring, each rank sends to the next and receives from the previous
      check_nccl(ncclSend(r.send, total, ncclFloat, (i + 1) % n, r.comm, r.stream), "ncclSend");
      check_nccl(ncclRecv(r.recv, total, ncclFloat, (i + n - 1) % n, r.comm, r.stream), "ncclRecv");
    }
  }
  check_nccl(ncclGroupEnd(), "ncclGroupEnd");
}

void synchronize(const std::vector<Rank>& ranks) {
  for (const Rank& r : ranks) {
    check(cudaSetDevice(r.device), "cudaSetDevice");
    check(cudaStreamSynchronize(r.stream), "cudaStreamSynchronize");
  }
}

double seconds_per_call(const std::string& c, std::vector<Rank>& ranks, double bytes, bool in_place, int calls) {
  synchronize(ranks);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) launch(c, ranks, bytes, in_place);
  synchronize(ranks);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls;
}

}  // namespace

MeasurementSet nccl_sweep(const NcclSweepOptions& o, std::ostream& progress) {
  MeasurementSet set;
  const int n = device_count();
  set.device.devices = n;
  int version = 0;
  ncclGetVersion(&version);
  set.device.details["nccl"] = std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) + "." +
                               std::to_string(version % 100);
  if (n < 2) {
    set.notes.push_back("one GPU visible: the NCCL sweep needs two or more and was skipped");
    progress << "herd-calibrate: one GPU visible, NCCL sweep skipped\n";
    return set;
  }
  std::vector<Rank> ranks(static_cast<std::size_t>(n));
  std::vector<ncclComm_t> comms(static_cast<std::size_t>(n));
  check_nccl(ncclCommInitAll(comms.data(), n, nullptr), "ncclCommInitAll");
  // Two buffers per GPU of the largest size that leaves room: at most max_bytes, at most a third
  // of the free memory each.
  double max_bytes = o.max_bytes;
  for (int i = 0; i < n; ++i) {
    check(cudaSetDevice(i), "cudaSetDevice");
    std::size_t free = 0, total = 0;
    check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
    while (max_bytes > double(free) / 3) max_bytes /= 2;
  }
  for (int i = 0; i < n; ++i) {
    Rank& r = ranks[static_cast<std::size_t>(i)];
    r.device = i;
    r.comm = comms[static_cast<std::size_t>(i)];
    check(cudaSetDevice(i), "cudaSetDevice");
    check(cudaStreamCreateWithFlags(&r.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaMalloc(&r.send, static_cast<std::size_t>(max_bytes)), "cudaMalloc");
    check(cudaMalloc(&r.recv, static_cast<std::size_t>(max_bytes)), "cudaMalloc");
    check(cudaMemset(r.send, 0, static_cast<std::size_t>(max_bytes)), "cudaMemset");
  }
  if (max_bytes < o.max_bytes)
    set.notes.push_back("NCCL sweep capped at " + std::to_string(static_cast<long long>(max_bytes)) + " bytes by free memory");
  for (const std::string& c : std::vector<std::string>{"all_reduce", "all_gather", "reduce_scatter", "broadcast", "send_recv"}) {
    for (double bytes = o.min_bytes; bytes <= max_bytes; bytes *= 2) {
      // all_gather and reduce_scatter need one float per rank at least.
      const bool sliced = c == "all_gather" || c == "reduce_scatter";
      if (bytes < sizeof(float) * (sliced ? n : 1)) continue;
      const double size = sliced ? std::floor(bytes / (sizeof(float) * n)) * sizeof(float) * n : bytes;
      for (bool in_place : {false, true}) {
        if (in_place && c == "send_recv") continue;  // one buffer cannot be both ends of a transfer
        for (int i = 0; i < o.warmup; ++i) launch(c, ranks, size, in_place);
        std::vector<double> times;
        for (int batch = 0; batch < 3; ++batch) times.push_back(seconds_per_call(c, ranks, size, in_place, o.iterations));
        Record r;
        r.kind = RecordKind::collective;
        r.op = c;
        r.dtype = "float";
        r.impl = "nccl";
        r.collective = {size, n, 1, in_place};
        r.set_times(times);
        char line[160];
        const double algbw = size / r.median_s / 1e9;
        std::snprintf(line, sizeof line, "%-15s %14.0f B %-12s %10.2f us  algbw %8.2f  busbw %8.2f GB/s\n", c.c_str(), size,
                      in_place ? "in-place" : "out-of-place", r.median_s * 1e6, algbw, algbw * bus_bandwidth_factor(c, n));
        progress << line;
        set.records.push_back(std::move(r));
      }
    }
  }
  for (Rank& r : ranks) {
    cudaSetDevice(r.device);
    cudaFree(r.send);
    cudaFree(r.recv);
    cudaStreamDestroy(r.stream);
    ncclCommDestroy(r.comm);
  }
  set.notes.push_back("NCCL sweep over " + std::to_string(n) + " local GPUs from one process (ncclCommInitAll), FP32 sum; "
                      "each time is the median of 3 batches of " + std::to_string(o.iterations) + " calls");
  return set;
}

}  // namespace herd::calibrate::cuda
