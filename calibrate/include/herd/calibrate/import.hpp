#pragma once
// Importers of measurements users already have:
//  * nccl-tests text output (all_reduce_perf, all_gather_perf, reduce_scatter_perf, broadcast_perf,
//    reduce_perf, sendrecv_perf, alltoall_perf; any version's column layout) -> collective records,
//    out-of-place and in-place;
//  * a PyTorch profiler (Kineto) Chrome trace recorded with record_shapes=True -> GEMM records from
//    aten::mm / addmm / bmm / baddbmm / _scaled_mm and Transformer Engine's te_gemm_ts / te_gemm /
//    generic_gemm, attention records from scaled-dot-product and flash-attn ops, each with the dtype
//    of its "Input type", matched to their kernels through the trace's External ids; every other
//    kernel is tallied in MeasurementSet::skipped by op and reason (docs/calibration.md).
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "herd/calibrate/measurement.hpp"

namespace herd::calibrate {

/// nccl-tests' bus-bandwidth factor (busbw = algbw x factor; doc/PERFORMANCE.md of nccl-tests):
/// all_reduce 2(n-1)/n; all_gather, reduce_scatter, all_to_all (n-1)/n; broadcast, reduce, send_recv 1.
double bus_bandwidth_factor(std::string_view collective, int ranks);

/// Parses nccl-tests output. `collective` ("all_reduce", ...) may be empty: it is then read from
/// the "Collective test starting" line or the source name ("all_gather_perf.txt"). Ranks and hosts
/// come from the "# Rank N ... on HOST device D [..] NAME" lines (else from busbw / algbw).
/// Throws model::ValueError ("line N: ...") when nothing can be read or the collective is unknown.
MeasurementSet import_nccl_tests(std::string_view text, const std::string& source_name, std::string collective = "");
/// Reads a file; throws model::InputError naming it.
MeasurementSet import_nccl_tests_file(const std::filesystem::path& file, const std::string& collective = "");

/// Converts a Kineto trace. The device's peaks come from the GPU preset matching the trace's
/// deviceProperties name (0 when none matches: the fit then refuses compute records).
/// Throws model::ValueError with the JSON pointer at fault.
MeasurementSet import_kineto_trace(const nlohmann::json& trace);
/// Reads a file; throws model::InputError naming it.
MeasurementSet import_kineto_file(const std::filesystem::path& file);

}  // namespace herd::calibrate
