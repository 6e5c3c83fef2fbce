#include "cli/oidc_callback.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/secret_bytes.h"
#include "common/text.h"
#include "common/url.h"

namespace coffer::cli {
namespace {

constexpr std::size_t kMaxRequest = 64 * 1024;

int MillisUntil(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

// Waits for `fd` to be readable; false at the deadline.
bool Readable(int fd, std::chrono::steady_clock::time_point deadline) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    int n = ::poll(&p, 1, MillisUntil(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void Respond(int fd, std::string_view status, std::string_view html) {
  std::string head = "HTTP/1.1 ";
  head += status;
  head += "\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n";
  head += "Connection: close\r\nContent-Length: " + std::to_string(html.size()) + "\r\n\r\n";
  SendAll(fd, head);
  SendAll(fd, html);
}

// One request: its line, headers and body (to Content-Length), or "" when
// the peer sent nothing usable before the deadline.
std::string ReadRequest(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string buf;
  std::size_t header_end = std::string::npos;
  std::size_t want = 0;
  char chunk[4096];
  while (buf.size() < kMaxRequest) {
    if (header_end != std::string::npos && buf.size() >= want) return buf;
    if (!Readable(fd, deadline)) break;
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
    std::memset(chunk, 0, sizeof chunk);
    if (header_end == std::string::npos) {
      header_end = buf.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
      want = header_end + 4;
      std::string lower = buf.substr(0, header_end);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto cl = lower.find("\r\ncontent-length:"); cl != std::string::npos) {
        want += std::strtoul(lower.c_str() + cl + 17, nullptr, 10);
      }
    }
  }
  if (header_end != std::string::npos && buf.size() >= want) return buf;
  WipeString(buf);
  return "";
}

}  // namespace

OidcCallbackRequest::~OidcCallbackRequest() {
  WipeString(code);
  WipeString(id_token);
}

OidcCallbackListener::~OidcCallbackListener() {
  if (client_fd_ >= 0) ::close(client_fd_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

Status OidcCallbackListener::Listen(const std::string& address, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(address.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Unavailable("cannot resolve " + address + ": " + ::gai_strerror(rc));
  }
  std::string why = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 8) == 0) {
      sockaddr_storage bound{};
      socklen_t len = sizeof bound;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
      port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      listen_fd_ = fd;
      ::freeaddrinfo(found);
      return Status::Ok();
    }
    why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return Unavailable("cannot listen on " + address + ":" + service + ": " + why);
}

Result<OidcCallbackRequest> OidcCallbackListener::Wait(
    std::chrono::steady_clock::time_point deadline, const std::string& expected_state) {
  while (Readable(listen_fd_, deadline)) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string request = ReadRequest(
        fd, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(10)));
    const auto line_end = request.find("\r\n");
    std::string_view line = std::string_view(request).substr(0, line_end);
    std::string_view target = line.substr(std::min(line.size(), line.find(' ') + 1));
    target = target.substr(0, target.find(' '));
    const bool callback = target.substr(0, target.find('?')) == "/oidc/callback";
    const bool get = callback && line.starts_with("GET ");
    const bool post = callback && line.starts_with("POST ");
    if (!get && !post) {
      Respond(fd, "404 Not Found", "");
      ::close(fd);
      WipeString(request);
      continue;
    }
    std::string_view params;
    if (post) {
      params = std::string_view(request).substr(request.find("\r\n\r\n") + 4);
    } else if (auto q = target.find('?'); q != std::string_view::npos) {
      params = target.substr(q + 1);
    }
    auto pairs = ParseQueryPairs(params);
    WipeString(request);
    if (!pairs) {
      Respond(fd, "400 Bad Request", "<html><body>Malformed callback.</body></html>");
      ::close(fd);
      continue;
    }
    // Only the login this CLI began: a callback with another state (a login
    // someone else began, sent to this port by a web page) is refused and
    // the wait goes on.
    if (!expected_state.empty() && (*pairs)["state"] != expected_state) {
      for (auto& [k, v] : *pairs) WipeString(v);
      Respond(fd, "400 Bad Request",
              "<html><body>This callback is not for the login in progress.</body></html>");
      ::close(fd);
      continue;
    }
    OidcCallbackRequest out;
    out.post = post;
    out.state = (*pairs)["state"];
    out.code = (*pairs)["code"];
    out.id_token = (*pairs)["id_token"];
    out.error = (*pairs)["error"];
    for (auto& [k, v] : *pairs) WipeString(v);
    client_fd_ = fd;
    return out;
  }
  return Err(Unavailable("timed out waiting for the OIDC provider's callback"));
}

void OidcCallbackListener::Answer(bool ok, const std::string& detail) {
  if (client_fd_ < 0) return;
  std::string html = "<!DOCTYPE html><html><head><title>Coffer login</title></head><body><h1>";
  html += ok ? "Signed in to Coffer" : "Coffer login failed";
  html += "</h1><p>";
  AppendXmlEscaped(html, ok ? "You may close this window and return to the terminal." : detail);
  html += "</p></body></html>";
  Respond(client_fd_, ok ? "200 OK" : "400 Bad Request", html);
  ::close(client_fd_);
  client_fd_ = -1;
}

void OpenBrowser(const std::string& url) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd : {0, 1, 2}) {
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  std::string program = "xdg-open";
  std::string arg = url;
  char* argv[] = {program.data(), arg.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "xdg-open", &actions, nullptr, argv, environ) == 0) {
    // Reaped by nobody while the login waits; the CLI exits soon after.
    (void)pid;
  }
  posix_spawn_file_actions_destroy(&actions);
}

}  // namespace coffer::cli
