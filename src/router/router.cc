#include "router/router.h"

#include <algorithm>

#include "barrier/barrier_view.h"
#include "crypto/random.h"
#include "logical/registry.h"
#include "storage/list_tree.h"

namespace coffer::router {
namespace {

constexpr std::string_view kMountTableKey = "core/mounts";

bool IsPrefix(std::string_view prefix, std::string_view s) {
  return s.substr(0, prefix.size()) == prefix;
}

// Deletes every key below prefix.
Status DeleteTree(storage::Backend& store, const std::string& prefix) {
  ASSIGN_OR_RETURN(auto keys, storage::ListTree(store, prefix));
  for (const auto& key : keys) TRY(store.Delete(key));
  return Status::Ok();
}

// What a tune changes in a mount entry.
void ApplyTune(MountEntry& entry, const logical::Json& config,
               const std::optional<std::string>& description, const logical::Json& options) {
  entry.config.update(config);
  if (description) entry.description = *description;
  entry.options.update(options);
}

}  // namespace

logical::Json MountEntryToJson(const MountEntry& e) {
  return logical::Json{{"path", e.path},
                       {"type", e.type},
                       {"description", e.description},
                       {"uuid", e.uuid},
                       {"accessor", e.accessor},
                       {"options", e.options},
                       {"config", e.config},
                       {"local", e.local},
                       {"seal_wrap", e.seal_wrap},
                       {"external_entropy_access", e.external_entropy_access}};
}

Result<MountEntry> MountEntryFromJson(const logical::Json& j) {
  try {
    MountEntry e;
    e.path = j.at("path").get<std::string>();
    e.type = j.at("type").get<std::string>();
    e.description = j.value("description", "");
    e.uuid = j.at("uuid").get<std::string>();
    e.accessor = j.value("accessor", "");
    e.options = j.value("options", logical::Json::object());
    e.config = j.value("config", logical::Json::object());
    e.local = j.value("local", false);
    e.seal_wrap = j.value("seal_wrap", false);
    e.external_entropy_access = j.value("external_entropy_access", false);
    return e;
  } catch (const logical::Json::exception& ex) {
    return Err(Internal(std::string("corrupt mount table entry: ") + ex.what()));
  }
}

Router::Router(storage::Backend& barrier, Clock& clock)
    : barrier_(barrier), clock_(clock), snapshot_(std::make_shared<const Snapshot>()) {}

Result<std::string> Router::NormalizeMountPath(std::string_view path) {
  std::string p(path);
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  if (p.empty()) return Err(InvalidArgument("mount path must not be empty"));
  if (p.back() != '/') p.push_back('/');
  for (std::string_view reserved : {"sys/", "auth/", "cubbyhole/", "identity/"}) {
    if (IsPrefix(reserved, p)) {
      return Err(InvalidArgument("cannot mount at \"" + p + "\": reserved path"));
    }
  }
  return p;
}

Result<std::shared_ptr<const Router::Mounted>> Router::Instantiate(const MountEntry& entry) {
  auto view = std::make_shared<barrier::BarrierView>(barrier_, "logical/" + entry.uuid + "/");
  logical::BackendConfig config{*view,      clock_,        entry.path,
                                entry.type, entry.options, generate_password_};
  config.events = events_;
  ASSIGN_OR_RETURN(std::unique_ptr<logical::Backend> engine,
                   logical::CreateEngine(entry.type, config));
  TRY(engine->Initialize());
  auto mount = std::make_shared<Mounted>();
  mount->entry = entry;
  mount->view = std::move(view);
  mount->engine = std::move(engine);
  return std::shared_ptr<const Mounted>(std::move(mount));
}

Status Router::Commit(std::shared_ptr<Snapshot> next) {
  std::sort(next->mounts.begin(), next->mounts.end(),
            [](const auto& a, const auto& b) { return a->entry.path < b->entry.path; });
  std::vector<MountEntry> entries;
  for (const auto& m : next->mounts) entries.push_back(m->entry);
  TRY(Persist(entries));
  std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(next)));
  return Status::Ok();
}

storage::Op Router::TableOp(const std::vector<MountEntry>& entries) {
  logical::Json table = logical::Json::array();
  for (const auto& e : entries) table.push_back(MountEntryToJson(e));
  return {storage::Op::Kind::kPut, std::string(kMountTableKey), table.dump()};
}

Status Router::Persist(const std::vector<MountEntry>& entries) {
  storage::Op table = TableOp(entries);
  return barrier_.Put(table.key, table.value);
}

Status Router::Load() {
  std::scoped_lock lock(write_mu_);
  ASSIGN_OR_RETURN(auto stored, barrier_.Get(kMountTableKey));
  auto snap = std::make_shared<Snapshot>();
  if (stored) {
    logical::Json table = logical::Json::parse(stored->value, nullptr, false);
    if (!table.is_array()) return Internal("corrupt mount table");
    for (const auto& j : table) {
      ASSIGN_OR_RETURN(MountEntry entry, MountEntryFromJson(j));
      auto mount = Instantiate(entry);
      if (!mount) return mount.error();
      snap->mounts.push_back(std::move(*mount));
    }
  }
  std::sort(snap->mounts.begin(), snap->mounts.end(),
            [](const auto& a, const auto& b) { return a->entry.path < b->entry.path; });
  std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(snap)));
  return Status::Ok();
}

void Router::Unload() {
  std::scoped_lock lock(write_mu_);
  std::atomic_store(&snapshot_, std::make_shared<const Snapshot>());
}

Result<std::string> Router::NormalizeAuthPath(std::string_view path) {
  std::string p(path);
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  if (IsPrefix("auth/", p)) p.erase(0, 5);
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (p.empty()) return Err(InvalidArgument("auth method path must not be empty"));
  p = "auth/" + p + "/";
  if (p == "auth/token/") {
    return Err(InvalidArgument("cannot mount at \"auth/token/\": reserved path"));
  }
  return p;
}

Status Router::Mount(MountEntry entry) {
  ASSIGN_OR_RETURN(entry.path, NormalizeMountPath(entry.path));
  if (!logical::HasEngine(entry.type) || logical::IsAuthMethod(entry.type)) {
    return InvalidArgument("plugin not found in the catalog: " + entry.type);
  }
  return AddMount(std::move(entry));
}

Status Router::MountAuth(MountEntry entry) {
  ASSIGN_OR_RETURN(entry.path, NormalizeAuthPath(entry.path));
  if (!logical::IsAuthMethod(entry.type)) {
    return InvalidArgument("plugin not found in the catalog: " + entry.type);
  }
  return AddMount(std::move(entry));
}

Status Router::UnmountAuth(std::string_view path) {
  ASSIGN_OR_RETURN(std::string p, NormalizeAuthPath(path));
  return RemoveMount(p);
}

Status Router::AddMount(MountEntry entry) {
  std::scoped_lock lock(write_mu_);
  auto current = snapshot();
  for (const auto& m : current->mounts) {
    if (IsPrefix(m->entry.path, entry.path) || IsPrefix(entry.path, m->entry.path)) {
      return InvalidArgument("path is already in use at " + m->entry.path);
    }
  }
  if (entry.uuid.empty()) {
    ASSIGN_OR_RETURN(entry.uuid, crypto::NewUuid());
  }
  if (entry.accessor.empty()) {
    ASSIGN_OR_RETURN(std::string id, crypto::NewUuid());
    entry.accessor = entry.type + "_" + id.substr(0, 8);
  }
  // An accessor names one mount (identity aliases and locked users find
  // their mount by it): its 8 random characters are drawn again while
  // another mount has them, as Vault loops until its accessor is unique.
  auto taken = [&](const std::string& accessor) {
    for (const auto& m : current->mounts) {
      if (m->entry.accessor == accessor) return true;
    }
    return false;
  };
  for (int attempt = 0; taken(entry.accessor) && attempt < 16; ++attempt) {
    ASSIGN_OR_RETURN(std::string id, crypto::NewUuid());
    const std::size_t keep = entry.accessor.size() >= 8 ? entry.accessor.size() - 8 : 0;
    entry.accessor = entry.accessor.substr(0, keep) + id.substr(0, 8);
  }
  if (taken(entry.accessor)) return Internal("cannot draw an accessor no other mount has");
  ASSIGN_OR_RETURN(auto mount, Instantiate(entry));

  auto next = std::make_shared<Snapshot>(*current);
  next->mounts.push_back(std::move(mount));
  TRY(Commit(std::move(next)));
  return Status::Ok();
}

Status Router::Unmount(std::string_view path) {
  ASSIGN_OR_RETURN(std::string p, NormalizeMountPath(path));
  return RemoveMount(p);
}

Status Router::RemoveMount(const std::string& p) {
  std::scoped_lock lock(write_mu_);
  auto current = snapshot();
  auto next = std::make_shared<Snapshot>();
  std::shared_ptr<const Mounted> removed;
  for (const auto& m : current->mounts) {
    if (m->entry.path == p) {
      removed = m;
    } else {
      next->mounts.push_back(m);
    }
  }
  if (!removed) return NotFound("no mount at " + p);
  std::vector<MountEntry> entries;
  for (const auto& m : next->mounts) entries.push_back(m->entry);
  // The table goes first: if deleting the data fails half-way, the mount is
  // gone and its leftover data is unreachable (its uuid is never reused).
  TRY(Persist(entries));
  std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(next)));
  return DeleteTree(barrier_, "logical/" + removed->entry.uuid + "/");
}

namespace {

// "a/b", "/a/b/" → "a/b/". Vault's remount cleans the paths it is given the
// same way and refuses a destination that cleaning would change.
Result<std::string> RemountPath(std::string_view given, std::string_view role) {
  std::string p(given);
  if (p.empty() || p.front() == ' ' || p.back() == ' ') {
    return Err(InvalidArgument("'" + std::string(role) +
                               "' must be a mount path without surrounding whitespace"));
  }
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  if (p.empty()) return Err(InvalidArgument("'" + std::string(role) + "' must name a mount"));
  if (p.back() != '/') p.push_back('/');
  std::string_view rest(p);
  rest.remove_suffix(1);
  while (true) {
    std::size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") {
      return Err(InvalidArgument("invalid " + std::string(role) + " mount path \"" + p +
                                 "\": empty, \".\" or \"..\" segment"));
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  for (unsigned char c : p) {
    if (c < 0x20 || c == 0x7f) {
      return Err(InvalidArgument("invalid " + std::string(role) +
                                 " mount path: it contains a non-printable character"));
    }
  }
  return p;
}

}  // namespace

Result<Router::Migration> Router::CheckRemount(std::string_view from, std::string_view to) const {
  ASSIGN_OR_RETURN(std::string src, RemountPath(from, "from"));
  ASSIGN_OR_RETURN(std::string dst, RemountPath(to, "to"));
  // An auth method moves only within auth/, and never the token method;
  // a secrets engine moves nowhere reserved. Vault's messages.
  if (IsPrefix("auth/", src)) {
    if (!IsPrefix("auth/", dst)) {
      return Err(InvalidArgument("cannot remount auth mount to non-auth mount \"" + dst + "\""));
    }
    if (src == "auth/token/") return Err(InvalidArgument("cannot remount \"" + src + "\""));
    if (dst == "auth/token/") {
      return Err(InvalidArgument("cannot remount to destination \"" + dst + "\""));
    }
  } else {
    for (std::string_view reserved : {"audit/", "auth/", "sys/", "cubbyhole/", "identity/"}) {
      if (IsPrefix(reserved, src)) return Err(InvalidArgument("cannot remount \"" + src + "\""));
      if (IsPrefix(reserved, dst)) {
        return Err(InvalidArgument("cannot remount to destination \"" + dst + "\""));
      }
    }
  }
  auto current = snapshot();
  bool found = false;
  for (const auto& m : current->mounts) found = found || m->entry.path == src;
  if (!found) return Err(InvalidArgument("no matching mount at \"" + src + "\""));
  // The source itself counts: a mount cannot move onto or under itself.
  for (const auto& m : current->mounts) {
    if (IsPrefix(m->entry.path, dst) || IsPrefix(dst, m->entry.path)) {
      return Err(InvalidArgument("path already in use at \"" + m->entry.path + "\""));
    }
  }
  return Migration{std::move(src), std::move(dst)};
}

Result<std::string> Router::Remount(std::string_view from, std::string_view to) {
  std::scoped_lock lock(write_mu_);
  ASSIGN_OR_RETURN(Migration move, CheckRemount(from, to));
  auto current = snapshot();
  auto next = std::make_shared<Snapshot>();
  std::shared_ptr<const Mounted> moving;
  for (const auto& m : current->mounts) {
    if (m->entry.path == move.source) {
      moving = m;
      continue;
    }
    next->mounts.push_back(m);
  }
  MountEntry entry = moving->entry;
  entry.path = move.target;
  ASSIGN_OR_RETURN(auto mount, Instantiate(entry));
  next->mounts.push_back(std::move(mount));
  TRY(Commit(std::move(next)));
  ASSIGN_OR_RETURN(std::string id, crypto::NewUuid());
  std::scoped_lock migrations(migrations_mu_);
  if (migrations_.size() == kMaxMigrations) migrations_.pop_front();
  migrations_.emplace_back(id, std::move(move));
  return id;
}

std::optional<Router::Migration> Router::FindMigration(std::string_view id) const {
  std::scoped_lock lock(migrations_mu_);
  for (const auto& [known, migration] : migrations_) {
    if (known == id) return migration;
  }
  return std::nullopt;
}

Status Router::Tune(std::string_view path, const logical::Json& config,
                    const std::optional<std::string>& description, const logical::Json& options) {
  std::string p(path);
  if (p.empty() || p.back() != '/') p.push_back('/');
  std::scoped_lock lock(write_mu_);
  auto current = snapshot();
  auto next = std::make_shared<Snapshot>();
  bool found = false;
  for (const auto& m : current->mounts) {
    if (m->entry.path == p) {
      auto tuned = std::make_shared<Router::Mounted>(*m);
      ApplyTune(tuned->entry, config, description, options);
      next->mounts.push_back(std::move(tuned));
      found = true;
    } else {
      next->mounts.push_back(m);
    }
  }
  if (!found) return NotFound("no mount at " + p);
  TRY(Commit(std::move(next)));
  return Status::Ok();
}

Status Router::Retune(std::string_view path, const logical::Json& config,
                      const std::optional<std::string>& description, const logical::Json& options,
                      const logical::Backend& expected, std::span<const storage::Op> view_ops,
                      bool* committed) {
  *committed = false;
  std::string p(path);
  if (p.empty() || p.back() != '/') p.push_back('/');
  std::scoped_lock lock(write_mu_);
  auto current = snapshot();
  auto next = std::make_shared<Snapshot>(*current);
  auto it = std::find_if(next->mounts.begin(), next->mounts.end(),
                         [&](const auto& m) { return m->entry.path == p; });
  if (it == next->mounts.end() || (*it)->engine.get() != &expected) {
    return NotFound("no mount at " + p + " running the engine prepared for the change");
  }
  auto tuned = std::make_shared<Router::Mounted>(**it);
  ApplyTune(tuned->entry, config, description, options);
  *it = tuned;

  std::vector<MountEntry> entries;
  for (const auto& m : next->mounts) entries.push_back(m->entry);
  std::vector<storage::Op> ops{TableOp(entries)};
  const std::string view_prefix = "logical/" + tuned->entry.uuid + "/";
  for (const auto& op : view_ops) ops.push_back({op.kind, view_prefix + op.key, op.value});
  TRY(barrier_.Transact({}, ops));
  *committed = true;
  // The old engine serves the tuned entry until the new one is ready.
  std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::make_shared<Snapshot>(*next)));
  ASSIGN_OR_RETURN(*it, Instantiate(tuned->entry));
  std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(next)));
  return Status::Ok();
}

std::shared_ptr<const Router::Mounted> Router::MountedAt(std::string_view path) const {
  const auto snap = snapshot();  // held while the loop runs
  for (const auto& m : snap->mounts) {
    if (m->entry.path == path) return m;
  }
  return nullptr;
}

std::optional<Router::Match> Router::Route(std::string_view path) const {
  auto snap = snapshot();
  const std::shared_ptr<const Mounted>* best = nullptr;
  for (const auto& m : snap->mounts) {
    const std::string& mp = m->entry.path;
    bool exact_without_slash = path.size() + 1 == mp.size() && IsPrefix(path, mp);
    if (IsPrefix(mp, path) || exact_without_slash) {
      if (best == nullptr || mp.size() > (*best)->entry.path.size()) best = &m;
    }
  }
  if (best == nullptr) return std::nullopt;
  std::string_view rel =
      path.size() >= (*best)->entry.path.size() ? path.substr((*best)->entry.path.size()) : "";
  return Match{*best, std::string(rel)};
}

}  // namespace coffer::router
