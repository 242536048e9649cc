//! Which cipher the SSH session asks for first: AES-GCM where the CPU has AES and carry-less
//! multiply instructions, ChaCha20-Poly1305 elsewhere, as Go's `crypto/tls` orders its suites
//! (`hasAESGCMHardwareSupport`). Both are AEADs OpenSSH offers by default; only the speed differs.
//!
//! russh asks for ChaCha20-Poly1305 first, and the client's order decides. A backup streams
//! gigabytes through the session (issue 4), and the cipher runs on both ends: on the benchmark's
//! 1 GiB backup (AMD EPYC with AES-NI, three interleaved runs on a loaded machine) hubfleet used
//! 4.83–4.94 s of user CPU with ChaCha20-Poly1305 and 4.39–4.41 s with aes256-gcm (aws-lc-rs),
//! and OpenSSH's sshd encrypts AES-GCM with the same instructions.

use russh::cipher::{self, Name};

/// russh's own order (0.65), for CPUs without AES instructions, where AES is slower than ChaCha.
const CHACHA_FIRST: &[Name] = &[
    cipher::CHACHA20_POLY1305,
    cipher::AES_256_GCM,
    cipher::AES_256_CTR,
    cipher::AES_192_CTR,
    cipher::AES_128_CTR,
];

/// The same ciphers, AES-GCM first.
const AES_GCM_FIRST: &[Name] = &[
    cipher::AES_256_GCM,
    cipher::CHACHA20_POLY1305,
    cipher::AES_256_CTR,
    cipher::AES_192_CTR,
    cipher::AES_128_CTR,
];

/// The ciphers to offer, best first, for this CPU.
pub(crate) fn preferred() -> &'static [Name] {
    if aes_gcm_in_hardware() {
        AES_GCM_FIRST
    } else {
        CHACHA_FIRST
    }
}

fn aes_gcm_in_hardware() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_orders_offer_russhs_default_ciphers_and_no_other() {
        let mut default = russh::Preferred::DEFAULT.cipher.to_vec();
        default.sort_by_key(|n| n.as_ref().to_owned());
        for order in [CHACHA_FIRST, AES_GCM_FIRST] {
            let mut order = order.to_vec();
            order.sort_by_key(|n| n.as_ref().to_owned());
            assert_eq!(order, default);
        }
        assert_eq!(CHACHA_FIRST, &russh::Preferred::DEFAULT.cipher[..]);
    }
}
