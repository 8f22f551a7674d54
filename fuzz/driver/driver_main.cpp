// Herd's own fuzzing driver, one program per target (herd_fuzz_<target>): replays the seed inputs
// given as files or directories, then runs mutants of them until --runs or --max-seconds is reached.
// Every execution goes through the command that reads the input; a finding (a crash, a hang past
// --timeout, exit 1, or a bad-input message that is not one line naming its source) is written to
// the artifacts directory and ends the run with exit 1. Same --seed, same inputs. docs/fuzzing.md.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fcntl.h>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "fuzz_target.hpp"
#include "mutator.hpp"

namespace fs = std::filesystem;
using herd::fuzz::Outcome;

namespace {

struct Options {
  long long runs = 0;
  double max_seconds = 0;  // 0: no limit
  std::uint64_t seed = 1;
  double timeout = 60;
  std::size_t max_len = 1 << 20;
  long long max_memory_mb = 4096;
  std::string artifacts = ".";
  std::vector<std::string> seeds;
};

// The input being executed, for the crash handler (which may only make async-signal-safe calls).
std::string g_current;
char g_crash_path[4096];

void on_crash(int sig) {
  const int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    const char* p = g_current.data();
    std::size_t left = g_current.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::close(fd);
  }
  const char msg[] = "herd-fuzz: crash; the input is in ";
  (void)!::write(2, msg, sizeof msg - 1);
  (void)!::write(2, g_crash_path, std::strlen(g_crash_path));
  (void)!::write(2, "\n", 1);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_crash_handlers() {
  // An alternate stack, so that a stack overflow still reaches the handler.
  static std::vector<char> alt(1 << 16);
  stack_t ss{};
  ss.ss_sp = alt.data();
  ss.ss_size = alt.size();
  sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_handler = on_crash;
  sa.sa_flags = SA_ONSTACK;
  for (const int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) sigaction(sig, &sa, nullptr);
}

std::string hex_hash(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (const unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int usage(const char* argv0) {
  std::cerr << "usage: " << argv0
            << " [--runs N] [--max-seconds S] [--seed K] [--timeout S] [--max-len BYTES] [--max-memory-mb MB]"
               " [--artifacts DIR] SEED_FILE_OR_DIR...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--runs") opt.runs = std::stoll(value());
      else if (a == "--max-seconds") opt.max_seconds = std::stod(value());
      else if (a == "--seed") opt.seed = std::stoull(value());
      else if (a == "--timeout") opt.timeout = std::stod(value());
      else if (a == "--max-len") opt.max_len = std::stoull(value());
      else if (a == "--max-memory-mb") opt.max_memory_mb = std::stoll(value());
      else if (a == "--artifacts") opt.artifacts = value();
      else if (a.starts_with("-")) return usage(argv[0]);
      else opt.seeds.push_back(a);
    } catch (const std::exception& e) {
      std::cerr << argv[0] << ": " << e.what() << "\n";
      return usage(argv[0]);
    }
  }
  const herd::fuzz::Target target = herd::fuzz::make_target();
  const std::string tool = "herd_fuzz_" + target.name;

  std::vector<std::string> corpus;
  for (const auto& s : opt.seeds) {
    if (fs::is_directory(s)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::recursive_directory_iterator(s))
        if (entry.is_regular_file()) files.push_back(entry.path());
      std::sort(files.begin(), files.end());  // directory order differs between machines
      for (const auto& f : files) corpus.push_back(read_file(f));
    } else if (fs::is_regular_file(s)) {
      corpus.push_back(read_file(s));
    } else {
      std::cerr << tool << ": no seed file or directory " << s << "\n";
      return 2;
    }
  }
  if (corpus.empty()) {
    std::cerr << tool << ": no seed inputs\n";
    return 2;
  }

#if !defined(__SANITIZE_ADDRESS__)
  if (opt.max_memory_mb > 0) {  // a blow-up becomes bad_alloc, which the command must not meet on bad input
    const rlim_t bytes = static_cast<rlim_t>(opt.max_memory_mb) << 20;
    rlimit lim{bytes, bytes};
    setrlimit(RLIMIT_AS, &lim);
  }
#endif

  fs::create_directories(opt.artifacts);
  const fs::path work = fs::temp_directory_path() / ("herd-fuzz-" + target.name + "-" + std::to_string(::getpid()));
  fs::create_directories(work);
  const std::string work_dir = work.string();
  const std::vector<std::string> sources = target.sources(work_dir);
  std::snprintf(g_crash_path, sizeof g_crash_path, "%s/%s-crash.input", opt.artifacts.c_str(), target.name.c_str());
  install_crash_handlers();

  // Watchdog: an execution that runs past --timeout is a hang.
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<long long> started_run{-1};
  std::chrono::steady_clock::time_point started_at;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mu);
    while (!done) {
      cv.wait_for(lock, std::chrono::milliseconds(200));
      if (started_run >= 0 && std::chrono::steady_clock::now() - started_at > std::chrono::duration<double>(opt.timeout)) {
        const std::string path = opt.artifacts + "/" + target.name + "-timeout-" + hex_hash(g_current) + ".input";
        std::ofstream(path, std::ios::binary) << g_current;
        std::cerr << tool << ": hang: an execution ran past " << opt.timeout << " s; the input is in " << path << "\n";
        std::_Exit(1);
      }
    }
  });

  herd::fuzz::Mutator mutator(target, opt.seed, {opt.max_len});
  std::map<int, long long> exits;
  const auto t0 = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  long long executed = 0;
  int status = 0;
  const long long total = static_cast<long long>(corpus.size()) + opt.runs;
  for (long long i = 0; i < total; ++i) {
    if (i >= static_cast<long long>(corpus.size()) && opt.max_seconds > 0 && elapsed() > opt.max_seconds) break;
    std::string input = i < static_cast<long long>(corpus.size())
                            ? corpus[static_cast<std::size_t>(i)]
                            : mutator.mutate(corpus[static_cast<std::size_t>(i) % corpus.size()], corpus);
    {
      std::lock_guard lock(mu);
      g_current = input;
      started_at = std::chrono::steady_clock::now();
      started_run = i;
    }
    Outcome outcome;
    try {
      outcome = target.run(input, work_dir);
    } catch (const std::exception& e) {
      outcome = Outcome{1, std::string("uncaught exception: ") + e.what() + "\n"};
    }
    started_run = -1;
    ++executed;
    ++exits[outcome.exit_code];
    if (const std::string why = herd::fuzz::judge(outcome, sources); !why.empty()) {
      const std::string path = opt.artifacts + "/" + target.name + "-" + hex_hash(input) + ".input";
      std::ofstream(path, std::ios::binary) << input;
      std::cerr << tool << ": finding at execution " << i << " (" << (i < static_cast<long long>(corpus.size()) ? "seed" : "mutant")
                << "): " << why << "\n  the input is in " << path << "\n";
      status = 1;
      break;
    }
  }
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
  std::error_code ec;
  fs::remove_all(work, ec);

  std::cout << tool << ": " << executed << " executions (" << corpus.size() << " seeds, seed " << opt.seed << ") in "
            << elapsed() << " s; exit codes:";
  for (const auto& [code, n] : exits) std::cout << " " << code << ":" << n;
  std::cout << "; " << (status == 0 ? "no findings" : "a finding") << "\n";
  return status;
}
