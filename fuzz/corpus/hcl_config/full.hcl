storage "local" {
  path = "/var/lib/coffer"
}
listener "tcp" {
  address       = "127.0.0.1:8200"
  tls_disable   = true
  max_request_size = -1
  http_idle_timeout = "5m"
}
seal "transit" { address = "https://x" }
/* comment */ ui = true
default_lease_ttl = "768h"
max_lease_ttl = 2764800 // seconds
log_level = "info"
