# Policy for the app team.
# Owner: platform

# Read the app's secrets
path "secret/data/app/*" {
  capabilities = ["read","list"]   # no writes
  max_wrapping_ttl="1h"
}
path "sys/*" { capabilities=["deny"] }  // never

/* block
   comment */
path "auth/token/create" {
  capabilities = [
    "update", # to create tokens
    "sudo"
  ]
  allowed_parameters = { "ttl" = [] , "a"=["1"] }   
}
# the end
