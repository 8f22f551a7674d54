#include "herd/sim/step/trace_export.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace herd::sim {

namespace {

constexpr model::Stream kStreamOrder[] = {model::Stream::compute, model::Stream::tp_comm, model::Stream::cp_comm,
                                          model::Stream::pp_comm, model::Stream::dp_comm};

nlohmann::json args_of(const TraceSpan& span, const TraceOp& op) {
  nlohmann::json a;
  a["kind"] = model::to_string(op.kind);
  a["pass"] = model::to_string(op.pass);
  if (span.microbatch >= 0) a["microbatch"] = span.microbatch;
  if (span.chunk >= 0) a["chunk"] = span.chunk;
  if (span.layer >= 0) a["layer"] = span.layer;
  if (op.kind == model::OpKind::gemm) a["shape"] = {{"m", op.gemm.m}, {"n", op.gemm.n}, {"k", op.gemm.k}};
  if (op.kind == model::OpKind::attention)
    a["shape"] = {{"batch", op.attention.batch}, {"heads_q", op.attention.heads_q}, {"heads_kv", op.attention.heads_kv},
                  {"seq_q", op.attention.seq_q}, {"seq_kv", op.attention.seq_kv}, {"head_dim", op.attention.head_dim}};
  if (op.flops > 0) a["flops"] = op.flops;
  if (op.hbm_bytes > 0) a["hbm_bytes"] = op.hbm_bytes;
  if (span.stream != model::Stream::compute) {
    a["bytes"] = span.bytes;
    a["group"] = to_string(span.group);
    a["collective"] = model::to_string(op.collective);
  }
  return a;
}

std::string rank_name(int rank, bool per_rank) { return (per_rank ? "rank " : "stage ") + std::to_string(rank); }

nlohmann::json process_event(int pid, const std::string& name) {
  return {{"name", "process_name"}, {"ph", "M"}, {"pid", pid}, {"args", {{"name", name}}}};
}

nlohmann::json thread_event(int pid, model::Stream s) {
  return {{"name", "thread_name"}, {"ph", "M"}, {"pid", pid}, {"tid", model::index_of(s)}, {"args", {{"name", model::to_string(s)}}}};
}

nlohmann::json span_event(const TraceSpan& span, const TraceOp& op) {
  return {{"name", op.name}, {"cat", model::to_string(op.kind)}, {"ph", "X"},
          {"ts", span.start_s * 1e6}, {"dur", (span.end_s - span.start_s) * 1e6}, {"pid", span.rank},
          {"tid", model::index_of(span.stream)}, {"args", args_of(span, op)}};
}

// A span's event as text, byte for byte what nlohmann::json dumps for span_event() (keys sorted,
// numbers as its serializer writes them; a test holds the two together), without building the
// JSON value: the trace of a big per-rank step is mostly these.
void put_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void put_double(std::string& out, double x) {
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  char buffer[64];
  out.append(buffer, nlohmann::detail::to_chars(buffer, buffer + sizeof buffer, x));
}

void put_int(std::string& out, std::int64_t x) {
  char buffer[24];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, x).ptr);
}

void put_key(std::string& out, std::string_view key, bool& first) {
  out += first ? "\"" : ",\"";
  first = false;
  out += key;
  out += "\":";
}

void put_span_event(std::string& out, const TraceSpan& span, const TraceOp& op) {
  bool first = true;
  out += "{\"args\":{";
  const bool comm = span.stream != model::Stream::compute;
  if (comm) {
    put_key(out, "bytes", first);
    put_double(out, span.bytes);
  }
  if (span.chunk >= 0) {
    put_key(out, "chunk", first);
    put_int(out, span.chunk);
  }
  if (comm) {
    put_key(out, "collective", first);
    put_string(out, model::to_string(op.collective));
  }
  if (op.flops > 0) {
    put_key(out, "flops", first);
    put_double(out, op.flops);
  }
  if (comm) {
    put_key(out, "group", first);
    put_string(out, to_string(span.group));
  }
  if (op.hbm_bytes > 0) {
    put_key(out, "hbm_bytes", first);
    put_double(out, op.hbm_bytes);
  }
  put_key(out, "kind", first);
  put_string(out, model::to_string(op.kind));
  if (span.layer >= 0) {
    put_key(out, "layer", first);
    put_int(out, span.layer);
  }
  if (span.microbatch >= 0) {
    put_key(out, "microbatch", first);
    put_int(out, span.microbatch);
  }
  put_key(out, "pass", first);
  put_string(out, model::to_string(op.pass));
  if (op.kind == model::OpKind::gemm) {
    out += ",\"shape\":{\"k\":";
    put_int(out, op.gemm.k);
    out += ",\"m\":";
    put_int(out, op.gemm.m);
    out += ",\"n\":";
    put_int(out, op.gemm.n);
    out += '}';
  } else if (op.kind == model::OpKind::attention) {
    const auto& a = op.attention;
    out += ",\"shape\":{\"batch\":";
    put_int(out, a.batch);
    out += ",\"head_dim\":";
    put_int(out, a.head_dim);
    out += ",\"heads_kv\":";
    put_int(out, a.heads_kv);
    out += ",\"heads_q\":";
    put_int(out, a.heads_q);
    out += ",\"seq_kv\":";
    put_int(out, a.seq_kv);
    out += ",\"seq_q\":";
    put_int(out, a.seq_q);
    out += '}';
  }
  out += "},\"cat\":";
  put_string(out, model::to_string(op.kind));
  out += ",\"dur\":";
  put_double(out, (span.end_s - span.start_s) * 1e6);
  out += ",\"name\":";
  put_string(out, op.name);
  out += ",\"ph\":\"X\",\"pid\":";
  put_int(out, span.rank);
  out += ",\"tid\":";
  put_int(out, model::index_of(span.stream));
  out += ",\"ts\":";
  put_double(out, span.start_s * 1e6);
  out += '}';
}

/// The power process' events, in order, to `emit`; `keep_rank`: which ranks' series to show.
template <typename Emit, typename Keep>
void power_events(const StepPower& power, int pid, bool per_rank, Keep keep_rank, Emit emit) {
  emit(process_event(pid, "power"));
  const auto& cw = power.cluster_w;
  for (std::size_t i = 0; i <= cw.size(); ++i) {
    // A last sample at the step's end closes the final bin.
    const double w = cw[std::min(i, cw.size() - 1)];
    const double ts = std::min(double(i) * power.bin_s, power.step_time_s) * 1e6;
    emit(nlohmann::json{{"name", "cluster power (IT)"}, {"ph", "C"}, {"pid", pid}, {"ts", ts}, {"args", {{"MW", w / 1e6}}}});
    for (std::size_t r = 0; r < power.rank_w.size(); ++r)
      if (keep_rank(static_cast<int>(r)))
        emit(nlohmann::json{{"name", rank_name(static_cast<int>(r), per_rank) + " GPU power"},
                            {"ph", "C"}, {"pid", pid}, {"ts", ts}, {"args", {{"W", power.rank_w[r][std::min(i, cw.size() - 1)]}}}});
  }
}

nlohmann::json other_data(const std::string& scenario, double step_time_s) {
  return {{"scenario", scenario}, {"step_time_s", step_time_s}};
}

}  // namespace

std::string chrome_trace_json(const StepReport& report, const StepPower* power) {
  nlohmann::json events = nlohmann::json::array();
  const int ranks = report.simulated_ranks;
  for (int r = 0; r < ranks; ++r) {
    events.push_back(process_event(r, rank_name(r, report.per_rank)));
    for (auto s : kStreamOrder) events.push_back(thread_event(r, s));
  }
  for (const auto& span : report.trace) events.push_back(span_event(span, report.trace_ops[static_cast<std::size_t>(span.op)]));
  if (power) power_events(*power, ranks, report.per_rank, [](int) { return true; }, [&](nlohmann::json e) { events.push_back(std::move(e)); });
  nlohmann::json doc{{"traceEvents", events}, {"displayTimeUnit", "ms"}, {"otherData", other_data(report.scenario, report.step_time_s)}};
  return doc.dump();
}

bool TraceFilter::keeps_rank(int rank) const {
  return ranks.empty() || std::find(ranks.begin(), ranks.end(), rank) != ranks.end();
}

ChromeTraceWriter::ChromeTraceWriter(const std::filesystem::path& path, const std::string& scenario, int ranks,
                                     bool per_rank, TraceFilter filter)
    : file_(path), scenario_(scenario), ranks_(ranks), per_rank_(per_rank), filter_(std::move(filter)),
      keep_rank_(static_cast<std::size_t>(std::max(0, ranks)), filter_.ranks.empty()) {
  for (int r : filter_.ranks)
    if (r >= 0 && r < ranks) keep_rank_[static_cast<std::size_t>(r)] = true;
  file_.write("{\"traceEvents\":[");
  for (int r = 0; r < ranks; ++r) {
    if (!keep_rank_[static_cast<std::size_t>(r)]) continue;
    event(process_event(r, rank_name(r, per_rank)));
    for (auto s : kStreamOrder)
      if (filter_.streams[static_cast<std::size_t>(model::index_of(s))]) event(thread_event(r, s));
  }
}

void ChromeTraceWriter::event(const nlohmann::json& e) {
  line_.clear();
  line_ += events_ == 0 ? "\n" : ",\n";
  line_ += e.dump();
  file_.write(line_);
  ++events_;
}

void ChromeTraceWriter::span(const TraceSpan& span, const TraceOp& op) {
  if (span.rank < 0 || span.rank >= ranks_ || !keep_rank_[static_cast<std::size_t>(span.rank)]) return;
  if (!filter_.streams[static_cast<std::size_t>(model::index_of(span.stream))]) return;
  line_.clear();
  line_ += events_ == 0 ? "\n" : ",\n";
  put_span_event(line_, span, op);
  file_.write(line_);
  ++events_;
}

void ChromeTraceWriter::finish(double step_time_s, const StepPower* power) {
  if (power)
    power_events(*power, ranks_, per_rank_,
                 [this](int r) { return r < ranks_ && keep_rank_[static_cast<std::size_t>(r)]; },
                 [this](const nlohmann::json& e) { event(e); });
  file_.write("\n],\"displayTimeUnit\":\"ms\",\"otherData\":" + other_data(scenario_, step_time_s).dump() + "}\n");
  file_.commit();
}

}  // namespace herd::sim
