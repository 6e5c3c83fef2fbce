path "/////////////8/////path/kv~1{{identity.entity.metadata.slash}}/c//////////////////////////////////////private" { capabilities = ["deny"] }
path "*" { capabilities = ["list"] }
