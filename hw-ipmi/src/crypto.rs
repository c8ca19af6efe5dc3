//! The algorithms of cipher suites 3 and 17: RAKP HMACs, session keys, integrity
//! codes and AES-CBC-128 confidentiality (IPMI 2.0 §13.28–13.29).

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use hmac::{Hmac, Mac};

use crate::config::CipherSuite;
use crate::wire::WireError;

type HmacSha1 = Hmac<sha1::Sha1>;
type HmacSha256 = Hmac<sha2::Sha256>;
type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;
type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;

/// HMAC of `parts` (concatenated) under `key`, with the suite's authentication hash
/// (SHA-1 for suite 3, SHA-256 for suite 17).
pub(crate) fn hmac(suite: CipherSuite, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    match suite {
        CipherSuite::Suite3 => {
            // Any key length is valid for HMAC; new_from_slice cannot fail.
            let Ok(mut mac) = HmacSha1::new_from_slice(key) else {
                return Vec::new();
            };
            for p in parts {
                mac.update(p);
            }
            mac.finalize().into_bytes().to_vec()
        }
        CipherSuite::Suite17 => {
            let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
                return Vec::new();
            };
            for p in parts {
                mac.update(p);
            }
            mac.finalize().into_bytes().to_vec()
        }
    }
}

/// Compares two MACs in constant time (for equal lengths).
pub(crate) fn mac_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The keys of an established session.
#[derive(Clone)]
pub(crate) struct SessionKeys {
    pub(crate) suite: CipherSuite,
    /// K1: the integrity key.
    pub(crate) k1: Vec<u8>,
    /// The first 16 bytes of K2: the AES-128 key.
    pub(crate) aes_key: [u8; 16],
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

impl SessionKeys {
    /// Derives K1 and K2 from the session integrity key (`HMAC_SIK(0x01 × 20)`,
    /// `HMAC_SIK(0x02 × 20)`).
    pub(crate) fn derive(suite: CipherSuite, sik: &[u8]) -> Self {
        let k1 = hmac(suite, sik, &[&[0x01; 20]]);
        let k2 = hmac(suite, sik, &[&[0x02; 20]]);
        let mut aes_key = [0u8; 16];
        for (d, s) in aes_key.iter_mut().zip(k2.iter()) {
            *d = *s;
        }
        SessionKeys { suite, k1, aes_key }
    }

    /// The truncated integrity code (HMAC-SHA1-96 or HMAC-SHA256-128) over `data`.
    pub(crate) fn auth_code(&self, data: &[u8]) -> Vec<u8> {
        let mut mac = hmac(self.suite, &self.k1, &[data]);
        mac.truncate(self.suite.auth_code_len());
        mac
    }

    /// Encrypts `plain` with AES-CBC-128: a random IV, then the ciphertext of the
    /// payload with IPMI's confidentiality pad (1, 2, 3, … then the pad length).
    pub(crate) fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        let iv: [u8; 16] = rand::random();
        self.encrypt_with_iv(plain, iv)
    }

    /// [`SessionKeys::encrypt`] with a given IV (for tests and benches).
    pub(crate) fn encrypt_with_iv(&self, plain: &[u8], iv: [u8; 16]) -> Vec<u8> {
        let pad = (16 - (plain.len() + 1) % 16) % 16;
        let mut buf = Vec::with_capacity(16 + plain.len() + pad + 1);
        buf.extend_from_slice(plain);
        for i in 1..=pad {
            buf.push(i as u8);
        }
        buf.push(pad as u8);
        let len = buf.len();
        let enc = Aes128CbcEnc::new(&self.aes_key.into(), &iv.into());
        // The buffer is a whole number of blocks, so NoPadding cannot fail.
        let ct = match enc.encrypt_padded_mut::<NoPadding>(&mut buf, len) {
            Ok(ct) => ct.to_vec(),
            Err(_) => Vec::new(),
        };
        let mut out = Vec::with_capacity(16 + ct.len());
        out.extend_from_slice(&iv);
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypts an AES-CBC-128 payload (IV first) and strips the confidentiality pad.
    pub(crate) fn decrypt(&self, data: &[u8]) -> Result<Vec<u8>, WireError> {
        if data.len() < 32 || !data.len().is_multiple_of(16) {
            return Err(WireError::new(format!(
                "encrypted payload of {} bytes is not an IV plus whole AES blocks",
                data.len()
            )));
        }
        let (iv, ct) = data.split_at(16);
        let mut iv_arr = [0u8; 16];
        iv_arr.copy_from_slice(iv);
        let mut buf = ct.to_vec();
        let dec = Aes128CbcDec::new(&self.aes_key.into(), &iv_arr.into());
        let plain = dec
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| WireError::new("AES-CBC decryption failed"))?;
        let Some((&pad_len, rest)) = plain.split_last() else {
            return Err(WireError::new("empty decrypted payload"));
        };
        let pad_len = usize::from(pad_len);
        if pad_len > 15 || pad_len > rest.len() {
            return Err(WireError::new(format!(
                "confidentiality pad length {pad_len} is invalid"
            )));
        }
        let (body, pad) = rest.split_at(rest.len() - pad_len);
        if pad
            .iter()
            .enumerate()
            .any(|(i, &b)| usize::from(b) != i + 1)
        {
            return Err(WireError::new(
                "confidentiality pad bytes are not 1, 2, 3, …",
            ));
        }
        Ok(body.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha1_matches_rfc2202_case_2() {
        let mac = hmac(
            CipherSuite::Suite3,
            b"Jefe",
            &[b"what do ya want ", b"for nothing?"],
        );
        assert_eq!(
            mac,
            [
                0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84,
                0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79
            ]
        );
    }

    #[test]
    fn hmac_sha256_matches_rfc4231_case_2() {
        let mac = hmac(
            CipherSuite::Suite17,
            b"Jefe",
            &[b"what do ya want for nothing?"],
        );
        assert_eq!(mac[..4], [0x5b, 0xdc, 0xc1, 0x46]);
        assert_eq!(mac.len(), 32);
    }

    #[test]
    fn aes_round_trip_for_every_length() {
        let keys = SessionKeys::derive(CipherSuite::Suite17, b"sik");
        for len in 0..40 {
            let plain: Vec<u8> = (0..len as u8).collect();
            let ct = keys.encrypt(&plain);
            assert_eq!(ct.len() % 16, 0);
            assert_eq!(keys.decrypt(&ct).unwrap(), plain);
        }
    }

    #[test]
    fn decrypt_rejects_garbage() {
        let keys = SessionKeys::derive(CipherSuite::Suite3, b"sik");
        assert!(keys.decrypt(&[0; 17]).is_err());
        assert!(keys.decrypt(&[0; 8]).is_err());
        // Random blocks almost never decrypt to a valid pad.
        let other = SessionKeys::derive(CipherSuite::Suite3, b"other");
        let ct = keys.encrypt_with_iv(&[1, 2, 3], [7; 16]);
        let _ = other.decrypt(&ct); // must not panic whatever it returns
    }
}
