#include "herd/gui/saved_step.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "herd/model/error.hpp"
#include "herd/model/io.hpp"

namespace herd::gui {

namespace {

/// The enum value whose name is `text`, among `count` values from 0.
template <class E>
E enum_named(const std::string& text, int count, const std::string& source, const std::string& pointer, const char* what) {
  for (int i = 0; i < count; ++i)
    if (to_string(static_cast<E>(i)) == text) return static_cast<E>(i);
  throw model::InputError(source, pointer, std::string("unknown ") + what + " \"" + text + "\"");
}

template <class T>
T field(const nlohmann::json& object, const char* key, const std::string& source, const std::string& pointer, T fallback) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw model::InputError(source, pointer + "/" + key, "not the expected type");
  }
}

/// The simulated rank whose GPU power counter is named `name` ("stage 3 GPU power", "rank 17 GPU
/// power"), -1 for another name.
int power_counter_rank(const std::string& name) {
  static const std::string kSuffix = " GPU power";
  if (name.size() <= kSuffix.size() || name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) return -1;
  std::size_t begin = 0;
  if (name.rfind("stage ", 0) == 0) begin = 6;
  else if (name.rfind("rank ", 0) == 0) begin = 5;
  else return -1;
  const std::string digits = name.substr(begin, name.size() - kSuffix.size() - begin);
  if (digits.empty() || digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoi(digits);
}

struct Sample {
  double t_s = 0, w = 0;
};

/// Counter samples (one per bin and one closing the last) back into bins: the values but the last.
std::vector<double> bins_of(std::vector<Sample> samples) {
  std::stable_sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) { return a.t_s < b.t_s; });
  std::vector<double> out;
  for (std::size_t i = 0; i + 1 < samples.size(); ++i) out.push_back(samples[i].w);
  return out;
}

}  // namespace

bool is_chrome_trace(const nlohmann::json& doc) { return doc.is_object() && doc.contains("traceEvents"); }

SavedStep read_saved_step(const nlohmann::json& doc, const std::string& source) {
  if (!is_chrome_trace(doc) || !doc["traceEvents"].is_array())
    throw model::InputError(source, "/traceEvents", "not a Chrome trace (no traceEvents array)");
  SavedStep saved;
  auto names = std::make_shared<std::deque<std::string>>();
  sim::StepReport& r = saved.report;
  const auto& other = doc.value("otherData", nlohmann::json::object());
  r.scenario = field<std::string>(other, "scenario", source, "/otherData", source);
  r.step_time_s = field<double>(other, "step_time_s", source, "/otherData", 0.0);
  std::map<std::tuple<std::string, int, int, double, double>, int> op_index;
  const auto& events = doc["traceEvents"];
  double last_end = -1;
  std::vector<Sample> cluster_power;
  std::map<int, std::vector<Sample>> rank_power;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const std::string at = "/traceEvents/" + std::to_string(i);
    if (!e.is_object()) throw model::InputError(source, at, "not an object");
    const std::string ph = field<std::string>(e, "ph", source, at, "");
    const int pid = field<int>(e, "pid", source, at, 0);
    if (ph == "M" && field<std::string>(e, "name", source, at, "") == "process_name") {
      const auto name = e.value("args", nlohmann::json::object()).value("name", std::string());
      if (name == "power") continue;  // the counter tracks' process (sim::chrome_trace_json), not a rank
      if (name.rfind("rank ", 0) == 0) r.per_rank = true;
      r.simulated_ranks = std::max(r.simulated_ranks, pid + 1);
      continue;
    }
    if (ph == "C") {  // the power process' counters (sim::chrome_trace_json)
      const std::string name = field<std::string>(e, "name", source, at, "");
      const auto& args = e.value("args", nlohmann::json::object());
      const double t = field<double>(e, "ts", source, at, 0.0) * 1e-6;
      if (name == "cluster power (IT)") cluster_power.push_back({t, field<double>(args, "MW", source, at + "/args", 0.0) * 1e6});
      else if (const int rank = power_counter_rank(name); rank >= 0)
        rank_power[rank].push_back({t, field<double>(args, "W", source, at + "/args", 0.0)});
      continue;
    }
    if (ph != "X") continue;
    const auto& args = e.value("args", nlohmann::json::object());
    const std::string args_at = at + "/args";
    sim::TraceOp op;
    const std::string name = field<std::string>(e, "name", source, at, "");
    op.kind = enum_named<model::OpKind>(field<std::string>(args, "kind", source, args_at, "elementwise"), 7, source, args_at + "/kind", "op kind");
    op.pass = enum_named<model::Pass>(field<std::string>(args, "pass", source, args_at, "forward"), 4, source, args_at + "/pass", "pass");
    op.flops = field<double>(args, "flops", source, args_at, 0.0);
    op.hbm_bytes = field<double>(args, "hbm_bytes", source, args_at, 0.0);
    const auto key = std::make_tuple(name, static_cast<int>(op.kind), static_cast<int>(op.pass), op.flops, op.hbm_bytes);
    auto found = op_index.find(key);
    if (found == op_index.end()) {
      names->push_back(name);
      op.name = names->back();
      r.trace_ops.push_back(op);
      found = op_index.emplace(key, static_cast<int>(r.trace_ops.size()) - 1).first;
    }
    sim::TraceSpan span;
    span.rank = pid;
    const int tid = field<int>(e, "tid", source, at, 0);
    if (tid < 0 || tid > 4) throw model::InputError(source, at + "/tid", "stream " + std::to_string(tid) + " is not 0-4");
    span.stream = static_cast<model::Stream>(tid);
    span.op = found->second;
    span.start_s = field<double>(e, "ts", source, at, 0.0) * 1e-6;
    span.end_s = span.start_s + field<double>(e, "dur", source, at, 0.0) * 1e-6;
    span.bytes = field<double>(args, "bytes", source, args_at, 0.0);
    span.microbatch = field<int>(args, "microbatch", source, args_at, -1);
    span.chunk = field<int>(args, "chunk", source, args_at, -1);
    span.layer = field<int>(args, "layer", source, args_at, -1);
    span.backward = op.pass == model::Pass::backward;
    if (args.contains("group"))
      span.group = enum_named<sim::CommGroup>(field<std::string>(args, "group", source, args_at, "tp"), 5, source, args_at + "/group", "group");
    r.simulated_ranks = std::max(r.simulated_ranks, pid + 1);
    if (span.end_s > last_end) {
      last_end = span.end_s;
      r.critical_rank = pid;
    }
    r.trace.push_back(span);
  }
  if (r.trace.empty()) throw model::InputError(source, "/traceEvents", "no op (no \"ph\": \"X\" event)");
  if (r.step_time_s <= 0) r.step_time_s = last_end;
  r.critical_stage = r.per_rank ? -1 : r.critical_rank;
  if (cluster_power.size() >= 2) {
    sim::StepPower power;
    power.step_time_s = r.step_time_s;
    std::stable_sort(cluster_power.begin(), cluster_power.end(), [](const Sample& a, const Sample& b) { return a.t_s < b.t_s; });
    power.bin_s = cluster_power[1].t_s - cluster_power[0].t_s;
    if (!(power.bin_s > 0))
      throw model::InputError(source, "/traceEvents", "the \"cluster power (IT)\" counter's first two samples are at the same time");
    power.cluster_w = bins_of(std::move(cluster_power));
    // Each rank's series, when every rank up to the last has one of the cluster's length.
    for (int rank = 0; rank < static_cast<int>(rank_power.size()); ++rank) {
      const auto it = rank_power.find(rank);
      if (it == rank_power.end()) break;
      auto bins = bins_of(std::move(it->second));
      if (bins.size() != power.cluster_w.size()) break;
      power.rank_w.push_back(std::move(bins));
    }
    if (power.rank_w.size() != rank_power.size()) power.rank_w.clear();
    saved.power = std::move(power);
  }
  saved.names = std::move(names);
  return saved;
}

SavedStep read_saved_step_file(const std::filesystem::path& file) {
  const std::string source = file.string();
  return read_saved_step(model::parse_json(model::read_text_file(file, "trace"), source), source);
}

}  // namespace herd::gui
