// Assembling a scenario document: --set overrides, presets (which a scenario names by string or by a
// "preset" key, and which may name further presets), Hugging Face imports, then validation.
#include <charconv>
#include <fstream>
#include <sstream>

#include "herd/model/error.hpp"
#include "herd/model/hf_import.hpp"
#include "herd/model/io.hpp"
#include "herd/model/memory.hpp"
#include "herd/model/params.hpp"
#include "herd/model/presets.hpp"
#include "herd/model/scenario.hpp"
#include "scenario_build.hpp"

namespace herd::model {

namespace {

using nlohmann::json;
using Provenance = std::map<std::string, std::string>;

struct PresetSlot {
  const char* pointer;
  PresetKind kind;
};
// Order matters: a cluster preset names its GPU, which is expanded after it.
constexpr PresetSlot kSlots[] = {{"/cluster", PresetKind::cluster},
                                 {"/cluster/gpu", PresetKind::gpu},
                                 {"/model", PresetKind::model}};

bool is_preset_slot(const std::string& pointer) {
  for (const auto& s : kSlots)
    if (pointer == s.pointer) return true;
  return false;
}

json lookup_preset(PresetKind kind, const json& name, const std::string& pointer) {
  if (!name.is_string()) throw ValueError(pointer, "expected a preset name, got " + show_value(name));
  auto found = find_preset(kind, name.get<std::string>());
  if (!found) {
    std::string message = "unknown " + std::string(to_string(kind)) + " preset " + show_value(name);
    const std::string guess = closest_spelling(name.get<std::string>(), preset_names(kind));
    message += guess.empty() ? " (see herd scenario --list)" : " (did you mean \"" + guess + "\"?)";
    throw ValueError(pointer, message);
  }
  return *found;
}

// A string or an object with "preset" replaces what it overrides instead of merging into it.
bool replaces(const json& overlay) { return !overlay.is_object() || overlay.contains("preset"); }

// Deep-merges `overlay` over `base`; keys only `base` has are marked as coming from `base_source`.
json merge(json base, const json& overlay, const std::string& base_source, const std::string& pointer,
           Provenance& prov) {
  if (!base.is_object() || replaces(overlay)) {
    // What the base had here is gone: so is its provenance.
    const std::string prefix = pointer + "/";
    for (auto it = prov.lower_bound(prefix); it != prov.end() && it->first.rfind(prefix, 0) == 0;) it = prov.erase(it);
    return overlay;
  }
  for (auto& [key, value] : base.items())
    if (!overlay.contains(key)) prov.try_emplace(pointer + "/" + key, base_source);
  for (const auto& [key, value] : overlay.items())
    base[key] = base.contains(key) ? merge(base[key], value, base_source, pointer + "/" + key, prov) : value;
  return base;
}

void expand_slots(json& doc, const std::filesystem::path& base_dir, Provenance& prov);

// Replaces the preset named at `pointer` (a string, or an object's "preset" / "hf_config" key) by
// its content with the object's own keys merged over it.
void expand_slot(json& doc, const PresetSlot& slot, const std::filesystem::path& base_dir, Provenance& prov) {
  const json::json_pointer ptr{slot.pointer};
  if (!doc.contains(ptr)) return;
  json& node = doc[ptr];
  if (node.is_string()) node = json{{"preset", node}};
  if (!node.is_object()) return;  // validation reports the type
  if (node.contains("preset")) {
    const std::string name = node["preset"].is_string() ? node["preset"].get<std::string>() : "";
    json base = lookup_preset(slot.kind, node["preset"], std::string(slot.pointer) + "/preset");
    json own = node;
    own.erase("preset");
    // Nested presets (a cluster's GPU) expand in the base's own coordinates, which match ours.
    json wrapper;
    wrapper[ptr] = base;
    expand_slots(wrapper, base_dir, prov);
    node = merge(wrapper[ptr], own, "preset " + name, slot.pointer, prov);
  }
  if (slot.kind == PresetKind::model && node.is_object() && node.contains("hf_config")) {
    if (!node["hf_config"].is_string()) throw ValueError("/model/hf_config", "expected a file name, got " + show_value(node["hf_config"]));
    const std::filesystem::path file = base_dir / node["hf_config"].get<std::string>();
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
      throw ValueError("/model/hf_config", "no Hugging Face config " + show_value(json(file.string())));
    json own = node;
    own.erase("hf_config");
    node = merge(import_hf_config(file), own, "Hugging Face config " + file.string(), "/model", prov);
  }
}

void expand_slots(json& doc, const std::filesystem::path& base_dir, Provenance& prov) {
  for (const auto& slot : kSlots) expand_slot(doc, slot, base_dir, prov);
}

// "run.batch_schedule.0.seq_len" -> pointer tokens; numeric tokens index arrays.
void apply_override(json& doc, const Override& o) {
  json* node = &doc;
  std::string pointer;
  std::string_view rest = o.path;
  while (true) {
    const auto dot = rest.find('.');
    const std::string key(rest.substr(0, dot));
    if (key.empty()) throw ValueError("", "empty key in \"" + o.path + "\"");
    if (node->is_string() && is_preset_slot(pointer)) *node = json{{"preset", *node}};
    if (node->is_null()) *node = json::object();
    json* child = nullptr;
    if (node->is_array()) {
      std::size_t index = 0;
      auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
      if (ec != std::errc() || p != key.data() + key.size() || index >= node->size())
        throw ValueError(pointer, "has no element \"" + key + "\"");
      child = &(*node)[index];
    } else if (node->is_object()) {
      child = &(*node)[key];
    } else {
      throw ValueError(pointer, "is not an object, cannot set \"" + key + "\" in it");
    }
    // Naming another preset for a slot starts that slot afresh from it.
    if (dot == std::string_view::npos && key == "preset" && is_preset_slot(pointer)) {
      *node = json{{"preset", o.value}};
      return;
    }
    pointer += "/" + key;
    node = child;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  *node = o.value;
}

void erase_provenance_under(Provenance& prov, const std::string& pointer) {
  const std::string prefix = pointer + "/";
  for (auto it = prov.lower_bound(prefix); it != prov.end() && it->first.rfind(prefix, 0) == 0;) it = prov.erase(it);
}

std::string pointer_of_path(std::string_view dotted) {
  std::string p;
  for (char c : dotted) p += c == '.' ? '/' : c;
  return "/" + p;
}

}  // namespace

namespace {
std::string clipped(std::string_view text) {
  return text.size() <= 80 ? std::string(text) : std::string(text.substr(0, 80)) + "\u2026";
}
}  // namespace

Override parse_override(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw InputError("--set " + std::string(text), "", "expected path=value, e.g. plan.tp=4");
  Override o;
  o.text = std::string(text);
  o.path = std::string(text.substr(0, eq));
  const std::string value(text.substr(eq + 1));
  if (auto bad = utf8_error(text); !bad.empty()) throw InputError("--set", "", bad + " of the override");
  if (auto deep = nesting_error(value); !deep.empty())
    throw InputError("--set " + clipped(text), "", deep);
  try {
    o.value = json::accept(value) ? json::parse(value) : json(value);
  } catch (const json::exception& e) {  // "1e400": valid syntax, no double holds it
    throw InputError("--set " + clipped(text), "", "not a number a double holds");
  }
  return o;
}

std::string Scenario::source_of(const std::string& pointer) const {
  std::string p = pointer;
  while (true) {
    if (auto it = provenance.find(p); it != provenance.end()) return it->second;
    const auto slash = p.rfind('/');
    if (slash == std::string::npos || p.empty()) return source;
    p.resize(slash);
  }
}

void Scenario::fail(const std::string& pointer, const std::string& message) const {
  throw InputError(source_of(pointer), pointer, message);
}

Scenario scenario_from_json(json doc, std::string source, std::filesystem::path base_dir,
                            std::span<const Override> overrides) {
  Scenario s;
  s.source = std::move(source);
  s.base_dir = std::move(base_dir);
  try {
    if (!doc.is_object()) throw ValueError("", "a scenario must be a JSON object");
    auto apply = [&](const Override& o) {
      try {
        apply_override(doc, o);
      } catch (const ValueError& e) {
        throw InputError("--set " + o.text, e.pointer(), e.message());
      }
      erase_provenance_under(s.provenance, pointer_of_path(o.path));
      s.provenance[pointer_of_path(o.path)] = "--set " + o.text;
    };
    // A different base scenario first; then presets are expanded so that overrides can reach keys
    // that only a preset holds (an element of a preset's list); then presets named by overrides.
    for (const auto& o : overrides)
      if (o.path == "preset") apply(o);
    if (doc.contains("preset")) {
      const std::string name = doc["preset"].is_string() ? doc["preset"].get<std::string>() : "";
      json base = lookup_preset(PresetKind::scenario, doc["preset"], "/preset");
      expand_slots(base, s.base_dir, s.provenance);
      doc.erase("preset");
      doc = merge(base, doc, "built-in " + name, "", s.provenance);
    }
    expand_slots(doc, s.base_dir, s.provenance);
    for (const auto& o : overrides)
      if (o.path != "preset") apply(o);
    expand_slots(doc, s.base_dir, s.provenance);
    for (const auto& o : overrides) s.provenance[pointer_of_path(o.path)] = "--set " + o.text;
    validate_against_schema(doc);
    s.resolved = std::move(doc);
    detail::build_scenario(s);
  } catch (const ValueError& e) {
    s.fail(e.pointer(), e.message());
  }
  return s;
}

Scenario load_scenario(std::string_view file_or_name, std::span<const Override> overrides) {
  const std::filesystem::path path{std::string(file_or_name)};
  if (file_or_name == kStdinFile) {
    // Standard input: named "<stdin>"; files it names (hf_config) are found from the working directory.
    const std::string source = source_name(path);
    return scenario_from_json(parse_json(read_text_file(path, "scenario"), source), source, std::filesystem::path("."),
                              overrides);
  }
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) {
    return scenario_from_json(parse_json(read_text_file(path, "file"), path.string()), path.string(), path.parent_path(),
                              overrides);
  }
  const std::string name(file_or_name);
  if (find_preset(PresetKind::scenario, name))
    return scenario_from_json(json{{"preset", name}}, "built-in " + name, {}, overrides);
  if (find_preset(PresetKind::model, name)) {
    // A bare model runs on the default scenario's cluster, with its global batch of sequences, at
    // TP 8 and the shallowest pipeline (1, 2, 4, ... stages, 1F1B, as many micro-batches as stages)
    // whose memory fits; data parallelism over the rest. Its own model's name gives the default
    // scenario itself (Llama 3's published layout).
    const json base = *find_preset(PresetKind::scenario, kDefaultScenario);
    if (base.value("model", json()) == json(name)) return load_scenario(kDefaultScenario, overrides);
    const int gpus = default_scenario().cluster.num_gpus;
    Scenario first;
    for (int pp = 1; pp <= 64; pp *= 2) {
      const int dp = gpus / (8 * pp);
      if (dp < 1 || dp * 8 * pp != gpus) break;
      // One sequence per data-parallel rank per stage: the same global batch (GPUs / 8) at every depth.
      const json plan = pp == 1 ? json{{"tp", 8}} : json{{"tp", 8}, {"pp", pp}, {"dp", dp}, {"global_batch", dp * pp}};
      Scenario s;
      try {
        s = scenario_from_json(json{{"cluster", base["cluster"]}, {"model", name}, {"plan", plan}}, "built-in " + name, {}, overrides);
      } catch (const InputError&) {
        if (pp == 1) throw;  // the user's overrides at fault: say so for the plain layout
        break;
      }
      if (pp == 1) first = s;
      if (analyse_memory(s).fits) return s;
    }
    return first;
  }
  std::vector<std::string> known = preset_names(PresetKind::scenario);
  for (auto& m : preset_names(PresetKind::model)) known.push_back(m);
  std::string message = "no such file, built-in scenario or model preset";
  if (auto guess = closest_spelling(name, known); !guess.empty()) message += " (did you mean \"" + guess + "\"?)";
  throw InputError(name, "", message);
}

Scenario default_scenario(std::span<const Override> overrides) { return load_scenario(kDefaultScenario, overrides); }

Scenario with_overrides(const Scenario& base, const json& dotted_values, const std::string& source) {
  std::vector<Override> extra;
  for (const auto& [path, value] : dotted_values.items()) extra.push_back({path, value, path + "=" + show_value(value)});
  json doc = base.resolved;
  Scenario s;
  try {
    s = scenario_from_json(doc, base.source, base.base_dir, extra);
  } catch (const InputError& e) {
    throw InputError(e.source().rfind("--set", 0) == 0 ? source : e.source(), e.pointer(), e.message());
  }
  for (const auto& [pointer, from] : base.provenance) s.provenance.try_emplace(pointer, from);
  return s;
}

}  // namespace herd::model
