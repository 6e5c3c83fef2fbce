# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}

path "secret/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list"]
  allowed_parameters = {
    "*" = []
  }
  denied_parameters = {
    "password" = []
  }
  required_parameters = ["bar", "baz"]
  min_wrapping_ttl    = "1s" # minimum
  max_wrapping_ttl    = "90s"
}

path "secret/restricted" {
  capabilities = ["create"]
  allowed_parameters = {
    "foo" = []
    "bar" = ["zip", "zap"]
  }
}
