/// This build's version: printed by `attache --version` and in the sidecar's first log line.
public let attacheVersion = "0.2.0"
