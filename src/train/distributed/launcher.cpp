#include "train/distributed/launcher.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "io/mapped_file.h"

extern char** environ;

namespace vg::train {
namespace {

std::string describe(int status) {
  if (WIFEXITED(status)) return str("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return str("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")");
  return str("status ", status);
}

// The environment of rank `rank`: this process's, with the rank's variables set over it.
std::vector<std::string> rank_environment(const std::map<std::string, std::string>& set) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (set.count(entry.substr(0, entry.find('='))) == 0) env.push_back(entry);
  }
  for (const auto& [name, value] : set) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The entries of CUDA_VISIBLE_DEVICES ("0,1,3" -> {"0","1","3"}); empty when it is unset.
std::vector<std::string> visible_devices() {
  std::vector<std::string> out;
  const char* v = std::getenv("CUDA_VISIBLE_DEVICES");
  if (v == nullptr) return out;
  std::string list(v);
  for (size_t at = 0; at <= list.size();) {
    const size_t comma = std::min(list.find(',', at), list.size());
    if (comma > at) out.push_back(list.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

}  // namespace

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  VG_CHECK(fd >= 0, "train", "cannot open a socket to find a free port: ", std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int err = errno;
  ::close(fd);
  VG_CHECK(ok, "train", "cannot find a free port on 127.0.0.1: ", std::strerror(err));
  return ntohs(address.sin_port);
}

std::vector<std::string> own_command_line() {
  const std::string all = io::read_text_file("/proc/self/cmdline");
  VG_CHECK(!all.empty(), "train", "cannot read this program's command line (/proc/self/cmdline)");
  std::vector<std::string> args;
  for (size_t at = 0; at < all.size();) {
    const size_t end = std::min(all.find('\0', at), all.size());
    args.push_back(all.substr(at, end - at));
    at = end + 1;
  }
  return args;
}

std::vector<std::string> without_option(const std::vector<std::string>& arguments, const std::string& option) {
  std::vector<std::string> out;
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (arguments[i] == option) {
      ++i;  // and its value
    } else if (arguments[i].rfind(option + "=", 0) != 0) {
      out.push_back(arguments[i]);
    }
  }
  return out;
}

void launch_local_ranks(const LaunchSpec& spec) {
  VG_CHECK(spec.processes >= 1, "train", "--gpus must be at least 1, got ", spec.processes);
  VG_CHECK(!spec.arguments.empty(), "train", "no command line to start the ranks with");
  const int n = spec.processes;
  const std::vector<std::string> devices = visible_devices();
  VG_CHECK(!spec.one_gpu_each || devices.empty() || static_cast<int>(devices.size()) >= n, "train", "--gpus ", n,
           " but CUDA_VISIBLE_DEVICES lists ", devices.size(), " GPU(s)");
  // The user's port when given (a firewall may allow only some), else a free one.
  const char* user_port = std::getenv("VG_MASTER_PORT");
  const std::string port = user_port != nullptr && *user_port != '\0' ? user_port : std::to_string(free_local_port());
  // CPU ranks share the cores instead of each starting a thread per core (--threads still wins).
  const char* user_threads = std::getenv("VG_THREADS");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::string threads = std::to_string(std::max(1u, cores / static_cast<unsigned>(n)));

  std::vector<pid_t> pids(static_cast<size_t>(n), -1);
  auto stop_all = [&](int signal) {
    for (pid_t pid : pids) {
      if (pid > 0) ::kill(pid, signal);
    }
  };
  for (int rank = 0; rank < n; ++rank) {
    std::map<std::string, std::string> set = {{"VG_RANK", std::to_string(rank)},
                                              {"VG_WORLD_SIZE", std::to_string(n)},
                                              {"VG_LOCAL_RANK", std::to_string(rank)},
                                              {"VG_MASTER_ADDR", "127.0.0.1"},
                                              {"VG_MASTER_PORT", port},
                                              {"VG_LAUNCHER_PID", std::to_string(::getpid())}};
    if (spec.one_gpu_each)
      set["CUDA_VISIBLE_DEVICES"] = devices.empty() ? std::to_string(rank) : devices[static_cast<size_t>(rank)];
    if (user_threads == nullptr) set["VG_THREADS"] = threads;
    std::vector<std::string> env = rank_environment(set);
    std::vector<std::string> args = spec.arguments;
    std::vector<char*> argv = c_strings(args), envp = c_strings(env);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), envp.data());
    if (rc != 0) {
      stop_all(SIGTERM);
      for (pid_t p : pids) {
        if (p > 0) ::waitpid(p, nullptr, 0);
      }
      throw Error("train", str("cannot start rank ", rank, " of ", n, ": ", std::strerror(rc)));
    }
    pids[static_cast<size_t>(rank)] = pid;
  }
  logging::debug("started ", n, " ranks, rendezvous on 127.0.0.1:", port);

  // Wait for every rank. The first failure stops the others: they would otherwise wait for the
  // failed rank in a collective (NCCL's without a timeout).
  int running = n, failed_rank = -1, failed_status = 0;
  using Clock = std::chrono::steady_clock;
  Clock::time_point kill_at = Clock::time_point::max();
  while (running > 0) {
    int status = 0;
    const bool stopping = failed_rank >= 0;
    const pid_t pid = ::waitpid(-1, &status, stopping ? WNOHANG : 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) break;  // ECHILD: nothing left to wait for
    if (pid == 0) {      // stopping, and no rank has exited since the last look
      if (Clock::now() >= kill_at) {
        stop_all(SIGKILL);
        kill_at = Clock::time_point::max();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    const auto it = std::find(pids.begin(), pids.end(), pid);
    if (it == pids.end()) continue;  // not one of ours
    const int rank = static_cast<int>(it - pids.begin());
    *it = -1;
    --running;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && failed_rank < 0) {
      failed_rank = rank;
      failed_status = status;
      stop_all(SIGTERM);
      kill_at = Clock::now() + std::chrono::seconds(10);
    }
  }
  VG_CHECK(failed_rank < 0, "train", "rank ", failed_rank, " of ", n, " failed (", describe(failed_status),
           "; its error is above); the other ranks were stopped");
}

void follow_launcher() {
  const char* launcher = std::getenv("VG_LAUNCHER_PID");
  if (launcher == nullptr) return;
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  // The launcher may have died before the line above: then this process has another parent.
  if (std::to_string(::getppid()) != launcher) throw Error("train", "the launching process has exited; stopping");
}

void pin_local_gpu(const ProcessGroup& group) {
  if (!group.distributed()) return;
  const std::vector<std::string> devices = visible_devices();
  if (devices.size() == 1) return;  // narrowed already (by --gpus, a scheduler or the user)
  std::string mine = std::to_string(group.local_rank);
  if (!devices.empty()) {
    VG_CHECK(group.local_rank < static_cast<int>(devices.size()), "train", "local rank ", group.local_rank,
             " needs a GPU of its own, but CUDA_VISIBLE_DEVICES lists ", devices.size());
    mine = devices[static_cast<size_t>(group.local_rank)];
  }
  ::setenv("CUDA_VISIBLE_DEVICES", mine.c_str(), 1);
  logging::debug("rank ", group.rank, " (local rank ", group.local_rank, ") takes GPU ", mine);
}

}  // namespace vg::train
