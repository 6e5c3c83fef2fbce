#include "cli/token_file.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace coffer::cli {
namespace {

Status SysError(const std::string& what, const std::string& path) {
  return Internal(what + " \"" + path + "\": " + std::strerror(errno));
}

}  // namespace

Status StoreTokenFile(const std::string& path, std::string_view token) {
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
    unsigned char rnd[8];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) return Internal("no randomness for a temporary name");
    tmp = path + ".tmp-";
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char b : rnd) {
      tmp += kHex[b >> 4];
      tmp += kHex[b & 15];
    }
    fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) return SysError("cannot create", tmp);
  }
  if (fd < 0) return SysError("cannot create", tmp);
  auto fail = [&](const char* what) {
    Status s = SysError(what, tmp);
    close(fd);
    unlink(tmp.c_str());
    return s;
  };
  // The mode given to open() is already 0600 minus the umask; make it exact.
  if (fchmod(fd, 0600) != 0) return fail("cannot set the mode of");
  std::size_t done = 0;
  while (done < token.size()) {
    ssize_t n = write(fd, token.data() + done, token.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write");
    done += static_cast<std::size_t>(n);
  }
  if (fsync(fd) != 0) return fail("cannot sync");
  if (close(fd) != 0) {
    Status s = SysError("cannot close", tmp);
    unlink(tmp.c_str());
    return s;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = SysError("cannot rename the new token file to", path);
    unlink(tmp.c_str());
    return s;
  }
  return Status::Ok();
}

SecretBytes ReadTokenFile(const std::string& home, std::string* source) {
  for (const char* name : {".coffer-token", ".vault-token"}) {
    std::ifstream file(home + "/" + name, std::ios::binary);
    if (!file) continue;
    std::string contents((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::string_view token = contents;
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!token.empty() && space(token.front())) token.remove_prefix(1);
    while (!token.empty() && space(token.back())) token.remove_suffix(1);
    SecretBytes out = SecretBytes::FromString(token);
    WipeString(contents);
    if (out.empty()) continue;
    if (source != nullptr) *source = std::string("~/") + name;
    return out;
  }
  return SecretBytes();
}

}  // namespace coffer::cli
