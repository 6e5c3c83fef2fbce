// rate_load: an open-loop HTTP/1.1 load generator for latency at a fixed
// request rate (Debian has no wrk2). Keep-alive connections, one request in
// flight per connection, one epoll thread.
//
//   rate_load --port P --path /v1/... --rate R [--connections 32]
//             [--seconds 10] [--warmup 2] [--header "Name: value"]...
//             [--method GET] [--body TEXT] [--keys N]
//
// Each connection sends at rate R / connections on its own fixed schedule
// (connection i starts i / R seconds in). A request's latency is measured
// from the time it was SCHEDULED, not from when it could be sent, so a slow
// answer that delays the next requests on its connection shows up in their
// latency too (no coordinated omission, as in wrk2). With --keys N, every "%"
// in the path is replaced by a random integer in [0, N).
//
// Prints one line:
//   RATE_RESULT target_rps=.. rps=.. requests=.. p50_us=.. p90_us=.. p99_us=..
//               p999_us=.. max_us=.. errors=.. non2xx=..
// Only 127.0.0.1 is ever contacted. Bounded: stops after warmup + seconds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Nanos = std::int64_t;

Nanos NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

struct Options {
  int port = 0;
  std::string path;
  std::string method = "GET";
  std::string body;
  std::vector<std::string> headers;
  double rate = 0;
  int connections = 32;
  double seconds = 10;
  double warmup = 2;
  long keys = 0;
};

struct Conn {
  int fd = -1;
  bool busy = false;
  Nanos next_ns = 0;      // when the next request is due
  Nanos intended_ns = 0;  // when the request in flight was due
  std::string in;         // response bytes so far
  bool dead = false;
};

[[noreturn]] void Usage(const char* msg) {
  std::fprintf(stderr, "rate_load: %s (see the comment at the top of bench/rate_load.cc)\n", msg);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--port")
      o.port = std::atoi(value().c_str());
    else if (a == "--path")
      o.path = value();
    else if (a == "--method")
      o.method = value();
    else if (a == "--body")
      o.body = value();
    else if (a == "--header")
      o.headers.push_back(value());
    else if (a == "--rate")
      o.rate = std::atof(value().c_str());
    else if (a == "--connections")
      o.connections = std::atoi(value().c_str());
    else if (a == "--seconds")
      o.seconds = std::atof(value().c_str());
    else if (a == "--warmup")
      o.warmup = std::atof(value().c_str());
    else if (a == "--keys")
      o.keys = std::atol(value().c_str());
    else
      Usage(("unknown option " + a).c_str());
  }
  if (o.port <= 0 || o.path.empty() || o.rate <= 0 || o.connections <= 0 || o.seconds <= 0) {
    Usage("--port, --path and --rate are required");
  }
  return o;
}

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Returns the length of a complete response at the front of `in` (0 when
// more bytes are needed, -1 when it cannot be parsed) and its status.
long CompleteResponse(const std::string& in, int* status) {
  auto end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  if (in.size() < 12 || in.compare(0, 5, "HTTP/") != 0) return -1;
  *status = std::atoi(in.c_str() + 9);
  long length = 0;
  std::string head = in.substr(0, end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto cl = head.find("\r\ncontent-length:");
  if (cl != std::string::npos) {
    length = std::atol(head.c_str() + cl + 17);
  } else if (head.find("\r\ntransfer-encoding:") != std::string::npos) {
    return -1;  // chunked bodies are not needed for Coffer's or nginx's answers
  }
  long total = static_cast<long>(end) + 4 + length;
  return static_cast<long>(in.size()) >= total ? total : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  std::string prefix = o.method + " ";
  std::string suffix = " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& h : o.headers) suffix += h + "\r\n";
  if (!o.body.empty() || o.method == "POST" || o.method == "PUT") {
    suffix += "Content-Type: application/json\r\nContent-Length: " + std::to_string(o.body.size()) +
              "\r\n";
  }
  suffix += "\r\n" + o.body;
  std::mt19937_64 rng(12345);
  auto make_request = [&]() {
    if (o.keys <= 0) return prefix + o.path + suffix;
    std::string path;
    for (char c : o.path) {
      if (c == '%')
        path += std::to_string(rng() % static_cast<std::uint64_t>(o.keys));
      else
        path += c;
    }
    return prefix + path + suffix;
  };

  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) Usage("epoll_create1 failed");
  std::vector<Conn> conns(static_cast<std::size_t>(o.connections));
  const Nanos interval = static_cast<Nanos>(1e9 * o.connections / o.rate);
  const Nanos start = NowNs() + 50'000'000;  // 50 ms to connect
  const Nanos measure_from = start + static_cast<Nanos>(o.warmup * 1e9);
  const Nanos stop = measure_from + static_cast<Nanos>(o.seconds * 1e9);
  for (std::size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = Connect(o.port);
    if (conns[i].fd < 0) Usage("cannot connect to 127.0.0.1");
    conns[i].next_ns = start + static_cast<Nanos>(1e9 * static_cast<double>(i) / o.rate);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }

  std::vector<std::uint32_t> latencies_us;
  latencies_us.reserve(static_cast<std::size_t>(o.rate * o.seconds * 1.2) + 16);
  long errors = 0, non2xx = 0, completed_in_window = 0;
  char buf[65536];

  auto send = [&](Conn& c) {
    std::string req = make_request();
    ssize_t n = ::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(req.size())) {  // requests are small: all or nothing
      ++errors;
      c.dead = true;
      return;
    }
    c.busy = true;
    c.intended_ns = c.next_ns;
    c.next_ns += interval;
  };

  for (;;) {
    Nanos now = NowNs();
    if (now >= stop) break;
    Nanos wake = stop;
    for (auto& c : conns) {
      if (c.dead || c.busy) continue;
      if (c.next_ns <= now) send(c);
      if (!c.dead && !c.busy) wake = std::min(wake, c.next_ns);
    }
    // Nanosecond timeout (epoll_pwait2): sends leave on schedule without
    // spinning a core that the server under test needs.
    Nanos wait_ns = std::max<Nanos>(0, wake - NowNs());
    timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                     static_cast<long>(wait_ns % 1'000'000'000)};
    epoll_event events[64];
    int n = ::epoll_pwait2(ep, events, 64, &timeout, nullptr);
    if (n < 0 && errno != EINTR) break;
    for (int k = 0; k < n; ++k) {
      Conn& c = conns[events[k].data.u64];
      if (c.dead) continue;
      ssize_t got = ::recv(c.fd, buf, sizeof(buf), 0);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        ++errors;
        c.dead = true;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        continue;
      }
      c.in.append(buf, static_cast<std::size_t>(got));
      int status = 0;
      long len = CompleteResponse(c.in, &status);
      if (len < 0) {
        ++errors;
        c.dead = true;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        continue;
      }
      if (len == 0) continue;
      c.in.erase(0, static_cast<std::size_t>(len));
      Nanos done = NowNs();
      c.busy = false;
      if (c.intended_ns >= measure_from && done < stop) {
        if (status < 200 || status >= 300) ++non2xx;
        latencies_us.push_back(static_cast<std::uint32_t>((done - c.intended_ns) / 1000));
        ++completed_in_window;
      }
      if (c.next_ns <= done && done < stop) send(c);  // behind schedule: send at once
    }
  }
  for (auto& c : conns) ::close(c.fd);
  ::close(ep);

  std::sort(latencies_us.begin(), latencies_us.end());
  auto pick = [&](double p) -> std::uint32_t {
    if (latencies_us.empty()) return 0;
    auto i = static_cast<std::size_t>(p * static_cast<double>(latencies_us.size() - 1) + 0.5);
    return latencies_us[std::min(i, latencies_us.size() - 1)];
  };
  std::printf(
      "RATE_RESULT target_rps=%.1f rps=%.1f requests=%ld p50_us=%u p90_us=%u p99_us=%u "
      "p999_us=%u max_us=%u errors=%ld non2xx=%ld\n",
      o.rate, static_cast<double>(completed_in_window) / o.seconds, completed_in_window, pick(0.50),
      pick(0.90), pick(0.99), pick(0.999), latencies_us.empty() ? 0u : latencies_us.back(), errors,
      non2xx);
  return errors == 0 ? 0 : 1;
}
