"""Authentication of API requests: API Gateway's Lambda authorizer (functions/authorizer) and, in
process, `load-manager serve`. Only the authorizer imports this package: PyJWT and cryptography load
on the first JWT it verifies, never in the functions behind it."""
