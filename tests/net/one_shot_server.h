#pragma once
// A test peer for outgoing requests: accepts one connection on 127.0.0.1,
// records the request (head and a Content-Length body), and answers
// `reply`. With an empty `reply` it answers nothing and holds the
// connection until the client gives up, or for at most `hold`, so a client
// without a deadline fails its test instead of hanging it.

#include <poll.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <chrono>
#include <string>
#include <thread>

namespace coffer::testing {

class OneShotServer {
 public:
  explicit OneShotServer(std::string reply, std::chrono::seconds hold = std::chrono::seconds(5))
      : acceptor_(ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
        reply_(std::move(reply)) {
    thread_ = std::thread([this, hold] {
      namespace asio = boost::asio;
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) return;
      asio::streambuf buf;
      std::size_t head = asio::read_until(socket, buf, "\r\n\r\n", ec);
      if (ec) return;
      std::string data(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
      request_ = data.substr(0, head);
      body_ = data.substr(head);
      if (auto at = Lower(request_).find("\r\ncontent-length: "); at != std::string::npos) {
        std::size_t want = std::stoul(request_.substr(at + 18));
        if (body_.size() < want) {
          std::string rest(want - body_.size(), '\0');
          asio::read(socket, asio::buffer(rest), ec);
          body_ += rest;
        }
      }
      if (reply_.empty()) {  // until the client gives up, or `hold`
        pollfd pfd{.fd = socket.native_handle(), .events = POLLIN, .revents = 0};
        ::poll(&pfd, 1, static_cast<int>(hold.count() * 1000));
        return;
      }
      asio::write(socket, asio::buffer(reply_), ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    });
  }
  ~OneShotServer() { Join(); }

  std::string url(const std::string& path, const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  // What the client sent; waits for the server's side to finish.
  const std::string& request() {
    Join();
    return request_;
  }
  const std::string& body() {
    Join();
    return body_;
  }

  static std::string Reply(int status, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }

 private:
  using tcp = boost::asio::ip::tcp;
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::string reply_;
  std::string request_;
  std::string body_;
  std::thread thread_;
};

}  // namespace coffer::testing
