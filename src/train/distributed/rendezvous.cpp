#include "train/distributed/rendezvous.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>
#include <utility>

#include "core/error.h"
#include "core/log.h"

namespace vg::train {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kMagic = 0x56474450;  // "VGDP"
constexpr uint32_t kVersion = 1;
constexpr uint32_t kBroadcast = 1, kGather = 2;

// The first message on a connection, both ways: who connects, and that it reached a videogemma
// rank 0 of a group of the same size (not another program on the port, nor another run).
struct Hello {
  uint32_t magic = kMagic;
  uint32_t version = kVersion;
  int32_t rank = 0;
  int32_t size = 0;
};

struct Header {
  uint32_t magic = kMagic;
  uint32_t kind = 0;
  uint64_t sequence = 0;
  uint64_t length = 0;
};

Clock::time_point after(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

std::string os_error(int err) { return std::strerror(err); }

// Closes a descriptor on every way out of a scope, unless released.
struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int release() { return std::exchange(fd, -1); }
};

// Waits until `fd` is ready for `events` (or has an error or hang-up, which the next read or
// write reports); false once the deadline passed.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) throw Error("train", str("rendezvous: poll failed: ", os_error(errno)));
  }
}

// The sockets are non-blocking: a peer that stops reading or writing can only stall us until
// the deadline. Each returns "" on success, else why not.
std::string write_all(int fd, const void* data, size_t n, Clock::time_point deadline) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);  // a closed peer is an error, not SIGPIPE
    if (w > 0) {
      p += w;
      n -= static_cast<size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd, POLLOUT, deadline)) return "timed out";
    } else {
      return w < 0 ? os_error(errno) : "the connection closed";
    }
  }
  return "";
}

std::string read_all(int fd, void* data, size_t n, Clock::time_point deadline) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r > 0) {
      p += r;
      n -= static_cast<size_t>(r);
    } else if (r == 0) {
      return "the connection closed (the process exited or failed)";
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_for(fd, POLLIN, deadline)) return "timed out";
    } else {
      return os_error(errno);
    }
  }
  return "";
}

void tune(int fd) {
  const int one = 1;
  // Collectives exchange many small messages (barriers, sums of a few numbers): no Nagle delay.
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

struct Address {
  std::string text;  // "host:port" for messages
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
};

// The first address `host` resolves to; "" and the address when it does not resolve.
std::string resolve(const ProcessGroup& g, Address& out) {
  out.text = str(g.master_addr, ":", g.master_port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(g.master_addr.c_str(), std::to_string(g.master_port).c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) return str("cannot resolve VG_MASTER_ADDR=", g.master_addr, ": ", gai_strerror(rc));
  std::memcpy(&out.storage, found->ai_addr, found->ai_addrlen);
  out.length = found->ai_addrlen;
  out.family = found->ai_family;
  ::freeaddrinfo(found);
  return "";
}

std::string list_ranks(const std::set<int>& ranks) {
  std::string out;
  for (int r : ranks) out += (out.empty() ? "" : ", ") + std::to_string(r);
  return out;
}

}  // namespace

Rendezvous::Rendezvous(ProcessGroup group) : group_(std::move(group)) {}

Rendezvous::~Rendezvous() {
  for (int fd : sockets_) {
    if (fd >= 0) ::close(fd);
  }
}

std::unique_ptr<Rendezvous> Rendezvous::connect(const ProcessGroup& group) {
  VG_CHECK(group.size >= 1 && group.rank >= 0 && group.rank < group.size, "train", "rendezvous: rank ", group.rank,
           " of ", group.size, " is not a rank of the group");
  std::unique_ptr<Rendezvous> r(new Rendezvous(group));
  if (group.size == 1) return r;
  if (group.rank == 0) {
    r->accept_all();
  } else {
    r->connect_to_root();
  }
  return r;
}

void Rendezvous::accept_all() {
  Address address;
  if (std::string why = resolve(group_, address); !why.empty()) throw Error("train", "rendezvous: " + why);
  Fd listener(::socket(address.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  VG_CHECK(listener.fd >= 0, "train", "rendezvous: cannot open a socket: ", os_error(errno));
  const int one = 1;
  (void)::setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // restarts reuse the port at once
  if (::bind(listener.fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0) {
    const int err = errno;
    throw Error("train", str("rendezvous: rank 0 cannot listen on ", address.text, ": ", os_error(err),
                             err == EADDRINUSE ? "; another run may hold the port: pick another with VG_MASTER_PORT"
                                               : "; VG_MASTER_ADDR must be an address of rank 0's machine"));
  }
  VG_CHECK(::listen(listener.fd, std::min(group_.size, 4096)) == 0, "train", "rendezvous: cannot listen on ",
           address.text, ": ", os_error(errno));

  sockets_.assign(static_cast<size_t>(group_.size), -1);
  std::set<int> missing;
  for (int r = 1; r < group_.size; ++r) missing.insert(r);
  const Clock::time_point deadline = after(group_.connect_timeout_s);
  while (!missing.empty()) {
    if (!wait_for(listener.fd, POLLIN, deadline)) {
      throw Error("train", str("rendezvous: rank 0 waited ", group_.connect_timeout_s, " s on ", address.text,
                               " for rank(s) ", list_ranks(missing), " of ", group_.size,
                               " (did they start? VG_DIST_CONNECT_TIMEOUT sets the wait)"));
    }
    Fd peer(::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (peer.fd < 0) continue;  // EAGAIN (the client gave up), EINTR, ECONNABORTED: wait again
    Hello hello;
    if (!read_all(peer.fd, &hello, sizeof hello, deadline).empty() || hello.magic != kMagic) {
      logging::warn("rendezvous: ignored a connection on ", address.text, " that is not a videogemma rank");
      continue;
    }
    VG_CHECK(hello.version == kVersion, "train", "rendezvous: rank ", hello.rank,
             " runs another version of videogemma's protocol (", hello.version, ", rank 0 has ", kVersion, ")");
    VG_CHECK(hello.size == group_.size, "train", "rendezvous: rank ", hello.rank, " belongs to a group of ", hello.size,
             " processes, rank 0 to one of ", group_.size, " (two runs on ", address.text, "?)");
    VG_CHECK(hello.rank >= 1 && hello.rank < group_.size && missing.count(hello.rank) == 1, "train",
             "rendezvous: a second process says it is rank ", hello.rank, " of ", group_.size,
             " (two runs on one port, or a wrong VG_RANK?)");
    const Hello reply{kMagic, kVersion, 0, group_.size};
    if (std::string why = write_all(peer.fd, &reply, sizeof reply, deadline); !why.empty()) {
      throw Error("train", str("rendezvous: rank ", hello.rank, " left while connecting: ", why));
    }
    tune(peer.fd);
    sockets_[static_cast<size_t>(hello.rank)] = peer.release();
    missing.erase(hello.rank);
  }
}

void Rendezvous::connect_to_root() {
  const Clock::time_point deadline = after(group_.connect_timeout_s);
  std::string last_error;
  std::string where = str(group_.master_addr, ":", group_.master_port);
  for (;;) {
    Address address;
    last_error = resolve(group_, address);
    if (last_error.empty()) {
      where = address.text;
      Fd fd(::socket(address.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      VG_CHECK(fd.fd >= 0, "train", "rendezvous: cannot open a socket: ", os_error(errno));
      int rc = ::connect(fd.fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length);
      if (rc != 0 && errno == EINPROGRESS) {
        // A remote address may take long to answer: wait for the connection within the deadline.
        if (wait_for(fd.fd, POLLOUT, deadline)) {
          int err = 0;
          socklen_t len = sizeof err;
          (void)::getsockopt(fd.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          rc = err == 0 ? 0 : -1;
          errno = err;
        } else {
          errno = ETIMEDOUT;
        }
      }
      if (rc == 0) {
        const Hello hello{kMagic, kVersion, group_.rank, group_.size};
        Hello reply;
        std::string why = write_all(fd.fd, &hello, sizeof hello, deadline);
        if (why.empty()) why = read_all(fd.fd, &reply, sizeof reply, deadline);
        // Rank 0 closes the connection of a rank it refuses, and says why in its own error.
        VG_CHECK(why.empty(), "train", "rendezvous: rank 0 at ", where, " refused rank ", group_.rank, " (", why,
                 "); see rank 0's error");
        VG_CHECK(reply.magic == kMagic && reply.size == group_.size, "train", "rendezvous: ", where,
                 " is not rank 0 of this run's ", group_.size, " processes");
        tune(fd.fd);
        sockets_.assign(1, fd.release());
        return;
      }
      last_error = os_error(errno);
    }
    // Rank 0 may not listen yet (it starts at the same time): try again shortly.
    if (Clock::now() + std::chrono::milliseconds(100) >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw Error("train", str("rendezvous: rank ", group_.rank, " cannot reach rank 0 at ", where, " after ",
                           group_.connect_timeout_s, " s (", last_error,
                           "); is rank 0 running, and do VG_MASTER_ADDR and VG_MASTER_PORT name its machine?"));
}

void Rendezvous::send(int peer, uint32_t kind, const std::string& bytes) {
  const int fd = sockets_[static_cast<size_t>(peer)];
  const Header header{kMagic, kind, sequence_, bytes.size()};
  std::string why = write_all(fd, &header, sizeof header, deadline_);
  if (why.empty()) why = write_all(fd, bytes.data(), bytes.size(), deadline_);
  if (why == "timed out") why = str("timed out after ", group_.collective_timeout_s, " s (VG_DIST_TIMEOUT)");
  VG_CHECK(why.empty(), "train", "rendezvous: rank ", group_.rank, " cannot send to rank ", peer, ": ", why);
}

std::string Rendezvous::receive(int peer, uint32_t kind) {
  const int fd = sockets_[static_cast<size_t>(group_.rank == 0 ? peer : 0)];
  Header header;
  std::string why = read_all(fd, &header, sizeof header, deadline_);
  std::string bytes;
  if (why.empty()) {
    VG_CHECK(header.magic == kMagic && header.kind == kind && header.sequence == sequence_, "train",
             "rendezvous: rank ", peer, " is out of step with rank ", group_.rank, " (collective ", header.kind, " #",
             header.sequence, " against ", kind, " #", sequence_, ")");
    bytes.resize(header.length);
    why = read_all(fd, bytes.data(), bytes.size(), deadline_);
  }
  if (why == "timed out") why = str("timed out after ", group_.collective_timeout_s, " s (VG_DIST_TIMEOUT)");
  VG_CHECK(why.empty(), "train", "rendezvous: rank ", group_.rank, " lost rank ", peer, ": ", why);
  return bytes;
}

void Rendezvous::broadcast(std::string& bytes) {
  if (group_.size == 1) return;
  ++sequence_;
  deadline_ = after(group_.collective_timeout_s);
  if (group_.rank == 0) {
    for (int r = 1; r < group_.size; ++r) send(r, kBroadcast, bytes);
  } else {
    bytes = receive(0, kBroadcast);
  }
}

std::vector<std::string> Rendezvous::gather(const std::string& bytes) {
  if (group_.size == 1) return {bytes};
  ++sequence_;
  deadline_ = after(group_.collective_timeout_s);
  if (group_.rank != 0) {
    send(0, kGather, bytes);
    return {};
  }
  std::vector<std::string> all(static_cast<size_t>(group_.size));
  all[0] = bytes;
  for (int r = 1; r < group_.size; ++r) all[static_cast<size_t>(r)] = receive(r, kGather);
  return all;
}

void Rendezvous::barrier() {
  (void)gather({});
  std::string nothing;
  broadcast(nothing);
}

}  // namespace vg::train
