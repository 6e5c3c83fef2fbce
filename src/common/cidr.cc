#include "common/cidr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <string>

namespace coffer {
namespace {

// Parses "a.b.c.d[/n]" or an IPv6 "x::y[/n]" into 16 bytes (IPv4 mapped)
// and a prefix length over those 16 bytes.
bool ParseBlock(std::string_view text, std::array<unsigned char, 16>& addr, int& prefix) {
  std::string s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  std::string host = s;
  int bits = -1;
  if (auto slash = s.find('/'); slash != std::string::npos) {
    host = s.substr(0, slash);
    std::string n = s.substr(slash + 1);
    if (n.empty() || n.size() > 3 ||
        !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    bits = std::stoi(n);
  }
  addr.fill(0);
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    if (bits > 32) return false;
    addr[10] = 0xff;
    addr[11] = 0xff;
    std::memcpy(addr.data() + 12, &v4, 4);
    prefix = 96 + (bits < 0 ? 32 : bits);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (bits > 128) return false;
    std::memcpy(addr.data(), &v6, 16);
    prefix = bits < 0 ? 128 : bits;
    return true;
  }
  return false;
}

bool InBlock(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& net,
             int prefix) {
  for (int i = 0; i < 16 && prefix > 0; ++i, prefix -= 8) {
    unsigned mask = prefix >= 8 ? 0xffu : (0xffu << (8 - prefix)) & 0xffu;
    if ((a[static_cast<std::size_t>(i)] & mask) != (net[static_cast<std::size_t>(i)] & mask)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool AddressAllowed(std::string_view remote, const std::vector<std::string>& cidrs) {
  if (cidrs.empty()) return true;
  std::array<unsigned char, 16> addr{};
  int bits = 0;
  if (!ParseBlock(remote, addr, bits) || bits != 128) return false;
  for (const auto& c : cidrs) {
    std::array<unsigned char, 16> net{};
    int prefix = 0;
    if (ParseBlock(c, net, prefix) && InBlock(addr, net, prefix)) return true;
  }
  return false;
}

Status ValidateCidrs(const std::vector<std::string>& cidrs) {
  for (const auto& c : cidrs) {
    std::array<unsigned char, 16> net{};
    int prefix = 0;
    if (!ParseBlock(c, net, prefix)) return InvalidArgument("invalid CIDR block: " + c);
  }
  return Status::Ok();
}

bool CidrsWithin(const std::vector<std::string>& inner, const std::vector<std::string>& outer) {
  if (outer.empty()) return true;
  for (const auto& in : inner) {
    std::array<unsigned char, 16> net{};
    int prefix = 0;
    if (!ParseBlock(in, net, prefix)) return false;
    bool inside = false;
    for (const auto& out : outer) {
      std::array<unsigned char, 16> onet{};
      int oprefix = 0;
      if (ParseBlock(out, onet, oprefix) && prefix >= oprefix && InBlock(net, onet, oprefix)) {
        inside = true;
        break;
      }
    }
    if (!inside) return false;
  }
  return true;
}

}  // namespace coffer
