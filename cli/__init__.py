"""The `agora` command line: operator and seller tasks against a deployment or the local stack."""
