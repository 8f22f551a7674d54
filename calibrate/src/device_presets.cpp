// Which GPU preset a measured device is, for the "before calibration" prediction.
#include <cctype>
#include <set>

#include "herd/calibrate/fit.hpp"
#include "herd/model/presets.hpp"
#include "herd/model/scenario.hpp"

namespace herd::calibrate {

namespace {

std::set<std::string> tokens(const std::string& name) {
  std::set<std::string> out;
  std::string t;
  for (char c : name + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    else if (!t.empty()) out.insert(t), t.clear();
  }
  return out;
}

// "H100", "A100", "H200": a letter and three digits names the product.
bool is_product(const std::string& t) {
  return t.size() == 4 && std::isalpha(static_cast<unsigned char>(t[0])) &&
         std::isdigit(static_cast<unsigned char>(t[1])) && std::isdigit(static_cast<unsigned char>(t[2])) &&
         std::isdigit(static_cast<unsigned char>(t[3]));
}

}  // namespace

std::optional<model::GpuSpec> matching_gpu_preset(const std::string& device_name) {
  const auto device = tokens(device_name);
  std::string best;
  std::size_t best_shared = 0;
  for (const std::string& preset : model::preset_names(model::PresetKind::gpu)) {
    const auto doc = model::find_preset(model::PresetKind::gpu, preset);
    if (!doc || !doc->contains("name")) continue;
    const auto names = tokens((*doc)["name"].get<std::string>());
    bool product = false;
    std::size_t shared = 0;
    for (const auto& t : names)
      if (device.count(t)) ++shared, product = product || is_product(t);
    if (product && shared > best_shared) best = preset, best_shared = shared;
  }
  if (best.empty()) return std::nullopt;
  const model::Override gpu = model::parse_override("cluster.gpu=" + best);
  return model::default_scenario({&gpu, 1}).cluster.gpu;
}

model::GpuSpec measured_gpu_spec(const DeviceInfo& d) {
  model::GpuSpec g;
  g.name = d.name;
  g.source = "measured: " + d.peak_source + "; " + d.bandwidth_source;
  g.peak_bf16_flops = d.peak_flops;
  g.hbm_bandwidth = d.memory_bandwidth;
  g.sms = std::max(1, d.parallel_units);
  return g;
}

}  // namespace herd::calibrate
