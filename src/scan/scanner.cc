#include "scan/scanner.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "common/encoding.h"
#include "scan/matcher.h"
#include "scan/walker.h"

namespace coffer::scan {

std::string Finding::Redacted() const {
  std::string_view v = secret.view();
  // Never more than a third of a short secret.
  std::size_t shown = std::min<std::size_t>(4, v.size() / 3);
  return std::string(v.substr(0, shown)) + "\u2026";
}

std::string Fingerprint(RuleId rule, std::string_view path, std::string_view secret) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string_view id = InfoOf(rule).id;
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, id.data(), id.size());
  EVP_DigestUpdate(ctx, "\0", 1);
  EVP_DigestUpdate(ctx, path.data(), path.size());
  EVP_DigestUpdate(ctx, "\0", 1);
  EVP_DigestUpdate(ctx, secret.data(), secret.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), 16));
}

std::vector<Finding> Scanner::ScanBuffer(std::string_view path, std::string_view text) const {
  std::vector<RawMatch> raw;
  FindSecrets(text, raw);
  std::vector<Finding> out;
  // Matches are sorted by position: count lines incrementally.
  std::size_t counted_to = 0;
  int line = 1;
  std::size_t line_start = 0;
  for (RawMatch& m : raw) {
    for (std::size_t p = counted_to; p < m.begin; ++p) {
      if (text[p] == '\n') {
        ++line;
        line_start = p + 1;
      }
    }
    counted_to = m.begin;
    std::size_t line_end = text.find('\n', m.end == 0 ? 0 : m.end - 1);
    if (line_end == std::string_view::npos) line_end = text.size();
    std::string_view first_line =
        text.substr(line_start, std::min(text.find('\n', m.begin), text.size()) - line_start);
    std::size_t last_start = text.rfind('\n', m.end == 0 ? 0 : m.end - 1);
    last_start =
        last_start == std::string_view::npos || last_start < line_start ? line_start : last_start;
    std::string_view last_line = text.substr(last_start, line_end - last_start);
    if (first_line.find("coffer:ignore") != std::string_view::npos ||
        last_line.find("coffer:ignore") != std::string_view::npos) {
      continue;
    }
    Finding f;
    f.rule = m.rule;
    f.path = std::string(path);
    f.line = line;
    f.column = static_cast<int>(m.begin - line_start) + 1;
    f.key = std::move(m.key);
    std::string_view secret = text.substr(m.begin, m.end - m.begin);
    f.secret = SecretBytes::FromString(secret);
    f.fingerprint = Fingerprint(m.rule, path, secret);
    if (options_.allowlist.FindingAllowed(f)) continue;
    out.push_back(std::move(f));
  }
  return out;
}

Result<ScanReport> Scanner::ScanPath(const std::filesystem::path& root) const {
  ASSIGN_OR_RETURN(WalkResult walk, ListFiles(root, options_.max_file_size));
  ScanReport report;
  report.stats.skipped_large = walk.skipped_large;
  report.warnings = std::move(walk.warnings);
  std::vector<const FileEntry*> files;
  for (const FileEntry& e : walk.files) {
    if (!options_.allowlist.PathAllowed(e.display)) files.push_back(&e);
  }
  // Big files first, so that one large file does not finish last alone.
  std::sort(files.begin(), files.end(),
            [](const FileEntry* a, const FileEntry* b) { return a->size > b->size; });

  unsigned threads =
      options_.threads != 0 ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  threads =
      std::min<unsigned>(threads, static_cast<unsigned>(std::max<std::size_t>(1, files.size())));
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  auto work = [&] {
    std::string buf;
    std::vector<Finding> local;
    ScanStats stats;
    std::vector<std::string> warnings;
    for (;;) {
      std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= files.size()) break;
      const FileEntry& e = *files[i];
      Status s = ReadFileInto(e.full, buf, options_.max_file_size);
      if (s.code() == Code::kTooLarge) {
        ++stats.skipped_large;
        continue;
      }
      if (!s.ok()) {
        warnings.push_back(s.message());
        continue;
      }
      if (LooksBinary(buf)) {
        ++stats.skipped_binary;
        continue;
      }
      ++stats.files_scanned;
      stats.bytes_scanned += buf.size();
      for (Finding& f : ScanBuffer(e.display, buf)) local.push_back(std::move(f));
    }
    // It held plaintext secrets, also past its current size (a larger file
    // read earlier): resizing to the capacity overwrites that tail too.
    buf.resize(buf.capacity());
    WipeString(buf);
    std::scoped_lock lock(mu);
    for (Finding& f : local) report.findings.push_back(std::move(f));
    report.stats.files_scanned += stats.files_scanned;
    report.stats.bytes_scanned += stats.bytes_scanned;
    report.stats.skipped_binary += stats.skipped_binary;
    report.stats.skipped_large += stats.skipped_large;
    for (std::string& w : warnings) report.warnings.push_back(std::move(w));
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  std::sort(report.findings.begin(), report.findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.path, a.line, a.column) < std::tie(b.path, b.line, b.column);
  });
  return report;
}

}  // namespace coffer::scan
