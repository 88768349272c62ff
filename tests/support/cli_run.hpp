#pragma once
// Runs the deltacrit CLI built with the tests (DELTACRIT_CLI_PATH) through the shell and captures
// stdout and stderr together, for the CLI tests of every module.
#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <string>

#include "catch_compat.hpp"

namespace deltacrit::test {

struct CliRun {
  int code = -1;    // exit status, −1 when the process did not exit normally
  std::string out;  // stdout followed by stderr (2>&1)
};

// `args` are shell words appended to the binary path, e.g. "alg --link 'z^2' --format json".
inline CliRun run_cli(const std::string& args) {
  const std::string cmd = std::string(DELTACRIT_CLI_PATH) + " " + args + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  REQUIRE(pipe);
  CliRun r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0) r.out.append(buf, n);
  const int status = pclose(pipe.release());
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace deltacrit::test
