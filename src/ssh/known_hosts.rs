//! Checking host keys against OpenSSH known_hosts files.
