// The same targets under libFuzzer (Clang, -fsanitize=fuzzer; HERD_FUZZ_ENGINE=libfuzzer): the
// oracle aborts on a finding so that libFuzzer keeps the input, and Herd's mutator is offered as
// the custom mutator, since most byte-level mutants of a scenario never get past the JSON parser.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "fuzz_target.hpp"
#include "mutator.hpp"

namespace {

struct State {
  herd::fuzz::Target target = herd::fuzz::make_target();
  std::string work_dir;
  std::vector<std::string> sources;
  State() {
    const auto dir = std::filesystem::temp_directory_path() / ("herd-fuzz-" + target.name + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    work_dir = dir.string();
    sources = target.sources(work_dir);
  }
};

State& state() {
  static State s;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  State& s = state();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const herd::fuzz::Outcome outcome = s.target.run(input, s.work_dir);
  if (const std::string why = herd::fuzz::judge(outcome, s.sources); !why.empty()) {
    std::cerr << "herd_fuzz_" << s.target.name << ": " << why << "\n";
    std::abort();
  }
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed) {
  State& s = state();
  const std::string input(reinterpret_cast<const char*>(data), size);
  herd::fuzz::Mutator mutator(s.target, seed, {max_size});
  const std::string out = mutator.mutate(input, {input});
  std::memcpy(data, out.data(), out.size());
  return out.size();
}
