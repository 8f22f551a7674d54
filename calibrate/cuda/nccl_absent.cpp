// Built instead of nccl_sweep.cpp when NCCL was not found at configure time.
#include <ostream>

#include "herd/calibrate/cuda_backend.hpp"

namespace herd::calibrate::cuda {

MeasurementSet nccl_sweep(const NcclSweepOptions&, std::ostream& progress) {
  MeasurementSet set;
  set.device.devices = device_count();
  set.notes.push_back("herd-calibrate was built without NCCL: no collectives were measured");
  progress << "herd-calibrate: built without NCCL, collectives not measured\n";
  return set;
}

}  // namespace herd::calibrate::cuda
