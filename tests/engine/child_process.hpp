// Runs a piece of code in a forked child process, to check the engine's always-on invariant
// checks abort (they call std::abort, so they cannot be caught in-process).
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace herd::engine::testing {

struct ChildOutcome {
  bool aborted = false;  // killed by SIGABRT
  std::string stderr_text;
};

// Runs `body` in a child whose stderr is captured. A body that returns exits the child with 0.
template <class Body>
ChildOutcome run_in_child(Body&& body) {
  int pipe_ends[2];
  if (pipe(pipe_ends) != 0) std::abort();
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = fork();
  if (child == 0) {
    std::signal(SIGABRT, SIG_DFL);  // not the test framework's crash reporter
    close(pipe_ends[0]);
    dup2(pipe_ends[1], STDERR_FILENO);
    close(pipe_ends[1]);
    body();
    _exit(0);
  }
  close(pipe_ends[1]);
  ChildOutcome outcome;
  char buffer[512];
  ssize_t got;
  while ((got = read(pipe_ends[0], buffer, sizeof buffer)) > 0) {
    outcome.stderr_text.append(buffer, static_cast<std::size_t>(got));
  }
  close(pipe_ends[0]);
  int status = 0;
  waitpid(child, &status, 0);
  outcome.aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  return outcome;
}

}  // namespace herd::engine::testing
