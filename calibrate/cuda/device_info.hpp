#pragma once
// What is known about a GPU: name, peaks (and where they come from), versions, clocks, date.
#include "herd/calibrate/measurement.hpp"

namespace herd::calibrate::cuda {

/// Reads the device's properties and the driver's clocks now (nvidia-smi, when present).
DeviceInfo describe_device(int device);

/// Dense BF16 tensor-core FLOP per clock per SM for a compute capability; 0 when not known.
int bf16_flops_per_clock_per_sm(int major, int minor);

}  // namespace herd::calibrate::cuda
