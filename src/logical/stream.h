#pragma once
// Streaming response bodies (Server-Sent Events). A handler that answers
// with Response::stream set hands the HTTP layer a StreamSource; the HTTP
// layer sends the status line and headers (no Content-Length; the body ends
// when the connection closes), then calls Start() with a StreamSink that
// writes to the connection. The connection stays open until the source
// calls Close() on the sink, the client disconnects, or the server stops
// (then the HTTP layer calls Stop() on the source).

#include <memory>
#include <string>

namespace coffer::logical {

// The HTTP connection's side. Thread-safe; may be called from any thread.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Queues bytes for the client. False once the connection is gone or
  // closed (the source should stop) or when the client reads too slowly
  // (the connection is then closed: a slow reader is dropped, not waited for).
  virtual bool Write(std::string bytes) = 0;
  // Sends what is queued, then closes the connection. Idempotent.
  virtual void Close() = 0;
};

// The producer. Start and Stop are called by the HTTP layer on its I/O
// thread and must not block.
class StreamSource {
 public:
  virtual ~StreamSource() = default;
  // After the response header was queued; called at most once.
  virtual void Start(std::shared_ptr<StreamSink> sink) = 0;
  // The client disconnected or the server is stopping; may come before or
  // after Start, at most once. The source stops writing soon after.
  virtual void Stop() = 0;
};

}  // namespace coffer::logical
