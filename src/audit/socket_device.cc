// The socket audit device: sends lines over TCP, UDP or a unix socket, and
// reconnects after a failure.
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "audit/sinks.h"
#include "common/duration.h"

namespace coffer::audit::internal {
namespace {

class SocketDevice final : public Device {
 public:
  SocketDevice(const DeviceConfig& config, std::shared_ptr<const Salt> salt, Clock& clock,
               std::string address, std::string kind, std::chrono::milliseconds timeout)
      : Device(config, std::move(salt), clock),
        address_(std::move(address)),
        kind_(std::move(kind)),
        timeout_(timeout) {}
  ~SocketDevice() override {
    StopFlusher();
    CloseSink();
  }

 protected:
  Status OpenSink() override {
    CloseSink();
    int fd = -1;
    if (kind_ == "unix") {
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      if (address_.size() >= sizeof(addr.sun_path)) {
        return Unavailable("unix socket path is too long");
      }
      std::memcpy(addr.sun_path, address_.c_str(), address_.size() + 1);
      fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        int e = errno;
        if (fd >= 0) ::close(fd);
        return Unavailable("cannot connect to " + address_ + ": " + std::strerror(e));
      }
    } else {
      std::size_t colon = address_.rfind(':');
      if (colon == std::string::npos) return Unavailable("address must be host:port");
      std::string host = address_.substr(0, colon);
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      std::string port = address_.substr(colon + 1);
      addrinfo hints{};
      hints.ai_socktype = kind_ == "udp" ? SOCK_DGRAM : SOCK_STREAM;
      hints.ai_flags = AI_NUMERICSERV;
      addrinfo* res = nullptr;
      if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
        return Unavailable("cannot resolve " + address_);
      }
      int e = 0;
      for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        e = errno;
        ::close(fd);
        fd = -1;
      }
      ::freeaddrinfo(res);
      if (fd < 0) return Unavailable("cannot connect to " + address_ + ": " + std::strerror(e));
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    fd_ = fd;
    return Status::Ok();
  }

  void CloseSink() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  Status AppendToSink(std::string_view bytes) override {
    // One reconnect per batch: a peer that restarted gets the batch again.
    Status s = Send(bytes);
    if (s.ok()) return s;
    TRY(OpenSink());
    return Send(bytes);
  }

 private:
  Status Send(std::string_view bytes) {
    if (fd_ < 0) return Unavailable("audit socket " + address_ + " is not connected");
    if (kind_ == "udp") {
      // One datagram per line.
      std::size_t pos = 0;
      while (pos < bytes.size()) {
        std::size_t nl = bytes.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? bytes.size() : nl + 1;
        if (::send(fd_, bytes.data() + pos, end - pos, MSG_NOSIGNAL) < 0) {
          int e = errno;
          CloseSink();
          return Unavailable("audit socket " + address_ + ": " + std::strerror(e));
        }
        pos = end;
      }
      return Status::Ok();
    }
    // A stream whose peer has closed still takes one send into the kernel
    // before the reset comes back: that entry would count as recorded and
    // be lost. A closed or failed peer is found before sending instead, and
    // the batch goes to a new connection (AppendToSink).
    if (PeerGone()) {
      CloseSink();
      return Unavailable("audit socket " + address_ + ": the collector closed the connection");
    }
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        CloseSink();
        return Unavailable("audit socket " + address_ + ": " + std::strerror(e));
      }
      done += static_cast<std::size_t>(n);
    }
    return Status::Ok();
  }

  // Whether the stream's peer has closed its side or failed: a pending
  // hang-up or error, or end of stream waiting to be read. Data the
  // collector sent (it is not expected to) is left where it is.
  bool PeerGone() const {
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return true;
    char c = 0;
    return (p.revents & POLLIN) != 0 && ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }

  std::string address_;
  std::string kind_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
};

}  // namespace

Result<std::unique_ptr<Device>> NewSocketDevice(const DeviceConfig& config,
                                                std::shared_ptr<const Salt> salt, Clock& clock) {
  std::string address = Option(config, "address");
  if (address.empty()) return Err(InvalidArgument("address is required for a socket audit device"));
  std::string kind = Option(config, "socket_type");
  if (kind.empty()) kind = "tcp";
  if (kind != "tcp" && kind != "udp" && kind != "unix") {
    return Err(InvalidArgument("socket_type must be tcp, udp or unix"));
  }
  std::chrono::milliseconds timeout(2000);
  if (std::string t = Option(config, "write_timeout"); !t.empty()) {
    auto d = ParseDuration(t);
    if (!d || d->count() < 1) return Err(InvalidArgument("write_timeout must be a duration ≥ 1s"));
    timeout = *d;
  }
  return std::unique_ptr<Device>(std::make_unique<SocketDevice>(
      config, std::move(salt), clock, std::move(address), std::move(kind), timeout));
}

}  // namespace coffer::audit::internal
