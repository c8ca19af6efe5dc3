//! The algorithms of cipher suites 3 and 17: RAKP HMACs, session keys, integrity
//! codes and AES-CBC-128 confidentiality (IPMI 2.0 §13.28–13.29).

use hmac::{Hmac, Mac};

use crate::config::CipherSuite;
use crate::wire::WireError;

type HmacSha1 = Hmac<sha1::Sha1>;
type HmacSha256 = Hmac<sha2::Sha256>;

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

/// A truncated integrity code (at most 32 bytes), held inline.
#[derive(Clone, Copy)]
pub(crate) struct AuthCode {
    bytes: [u8; 32],
    len: usize,
}

impl std::ops::Deref for AuthCode {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The integrity algorithm keyed with K1 (the HMAC's inner and outer pads are
/// hashed once, when the session is established).
#[derive(Clone)]
enum Integrity {
    Sha1(HmacSha1),
    Sha256(HmacSha256),
}

/// The keys of an established session, set up once per session: the integrity
/// HMAC already keyed with K1 and the AES-128 key schedule of K2 (cloned for each
/// packet, never recomputed).
#[derive(Clone)]
pub(crate) struct SessionKeys {
    pub(crate) suite: CipherSuite,
    integrity: Integrity,
    cipher: aes::Aes128,
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
    /// `HMAC_SIK(0x02 × 20)`) and sets up their algorithms.
    pub(crate) fn derive(suite: CipherSuite, sik: &[u8]) -> Self {
        let k1 = hmac(suite, sik, &[&[0x01; 20]]);
        let k2 = hmac(suite, sik, &[&[0x02; 20]]);
        let mut aes_key = [0u8; 16];
        for (d, s) in aes_key.iter_mut().zip(k2.iter()) {
            *d = *s;
        }
        // Any key length is valid for HMAC: new_from_slice cannot fail; the
        // fallback (an empty key) is never taken.
        let integrity = match suite {
            CipherSuite::Suite3 => Integrity::Sha1(
                HmacSha1::new_from_slice(&k1)
                    .unwrap_or_else(|_| HmacSha1::new(&Default::default())),
            ),
            CipherSuite::Suite17 => Integrity::Sha256(
                HmacSha256::new_from_slice(&k1)
                    .unwrap_or_else(|_| HmacSha256::new(&Default::default())),
            ),
        };
        SessionKeys {
            suite,
            integrity,
            cipher: <aes::Aes128 as aes::cipher::KeyInit>::new(&aes_key.into()),
        }
    }

    /// The truncated integrity code (HMAC-SHA1-96 or HMAC-SHA256-128) over `data`.
    pub(crate) fn auth_code(&self, data: &[u8]) -> AuthCode {
        let mut bytes = [0u8; 32];
        let len = self.suite.auth_code_len().min(32);
        match &self.integrity {
            Integrity::Sha1(keyed) => {
                let mut mac = keyed.clone();
                mac.update(data);
                let full = mac.finalize().into_bytes();
                bytes[..len].copy_from_slice(&full[..len]);
            }
            Integrity::Sha256(keyed) => {
                let mut mac = keyed.clone();
                mac.update(data);
                let full = mac.finalize().into_bytes();
                bytes[..len].copy_from_slice(&full[..len]);
            }
        }
        AuthCode { bytes, len }
    }

    /// Encrypts `plain` with AES-CBC-128: a random IV, then the ciphertext of the
    /// payload with IPMI's confidentiality pad (1, 2, 3, … then the pad length).
    #[cfg(test)]
    pub(crate) fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        let iv: [u8; 16] = rand::random();
        self.encrypt_with_iv(plain, iv)
    }

    /// [`SessionKeys::encrypt`] with a given IV (for tests): one buffer,
    /// encrypted in place after the IV.
    #[cfg(test)]
    pub(crate) fn encrypt_with_iv(&self, plain: &[u8], iv: [u8; 16]) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + plain.len() + 16);
        out.extend_from_slice(&iv);
        out.extend_from_slice(plain);
        self.seal_in_place(&mut out, 0);
        out
    }

    /// Appends a random IV to `out`: the start of an encrypted payload, whose
    /// plaintext the caller appends next, then seals with
    /// [`seal_in_place`](Self::seal_in_place).
    pub(crate) fn push_iv(out: &mut Vec<u8>) {
        let iv: [u8; 16] = rand::random();
        out.extend_from_slice(&iv);
    }

    /// Encrypts, in place, the payload that starts at `out[at..]` with its IV
    /// (`out[at..at + 16]`, then the plaintext to the end of `out`): appends
    /// IPMI's confidentiality pad (1, 2, 3, … then the pad length) and runs
    /// AES-CBC-128 over the plaintext blocks with the cached key schedule (no
    /// copy of the key, no other buffer).
    pub(crate) fn seal_in_place(&self, out: &mut Vec<u8>, at: usize) {
        use aes::cipher::BlockEncrypt;
        let plain_len = out.len().saturating_sub(at + 16);
        let pad = (16 - (plain_len + 1) % 16) % 16;
        out.extend((1..=pad).map(|i| i as u8));
        out.push(pad as u8);
        let (iv, blocks) = out[at..].split_at_mut(16);
        let mut prev = [0u8; 16];
        prev.copy_from_slice(iv);
        for block in blocks.chunks_exact_mut(16) {
            for (b, p) in block.iter_mut().zip(&prev) {
                *b ^= p;
            }
            let block = aes::Block::from_mut_slice(block);
            self.cipher.encrypt_block(block);
            prev.copy_from_slice(block);
        }
    }

    /// Decrypts an AES-CBC-128 payload (IV first) into `scratch` and strips the
    /// confidentiality pad: the plaintext, borrowed from `scratch` (no
    /// allocation). `scratch` must hold `data.len() - 16` bytes.
    pub(crate) fn open_into<'s>(
        &self,
        data: &[u8],
        scratch: &'s mut [u8],
    ) -> Result<&'s [u8], WireError> {
        use aes::cipher::BlockDecrypt;
        if data.len() < 32 || !data.len().is_multiple_of(16) {
            return Err(WireError::new(format!(
                "encrypted payload of {} bytes is not an IV plus whole AES blocks",
                data.len()
            )));
        }
        let (iv, ct) = data.split_at(16);
        let Some(buf) = scratch.get_mut(..ct.len()) else {
            return Err(WireError::new(format!(
                "encrypted payload of {} bytes is longer than the receive buffer",
                data.len()
            )));
        };
        let mut prev: &[u8] = iv;
        for (out, block) in buf.chunks_exact_mut(16).zip(ct.chunks_exact(16)) {
            let out = aes::Block::from_mut_slice(out);
            self.cipher
                .decrypt_block_b2b(aes::Block::from_slice(block), out);
            for (b, p) in out.iter_mut().zip(prev) {
                *b ^= p;
            }
            prev = block;
        }
        let buf: &'s [u8] = buf;
        let Some((&pad_len, rest)) = buf.split_last() else {
            return Err(WireError::new("empty decrypted payload"));
        };
        let pad_len = usize::from(pad_len);
        if pad_len > 15 || pad_len > rest.len() {
            return Err(WireError::new(format!(
                "confidentiality pad length {pad_len} is invalid"
            )));
        }
        let body_len = rest.len() - pad_len;
        if rest[body_len..]
            .iter()
            .enumerate()
            .any(|(i, &b)| usize::from(b) != i + 1)
        {
            return Err(WireError::new(
                "confidentiality pad bytes are not 1, 2, 3, …",
            ));
        }
        Ok(&rest[..body_len])
    }

    /// Decrypts an AES-CBC-128 payload (IV first) and strips the confidentiality
    /// pad, into a new buffer.
    #[cfg(test)]
    pub(crate) fn decrypt(&self, data: &[u8]) -> Result<Vec<u8>, WireError> {
        let mut scratch = vec![0u8; data.len()];
        self.open_into(data, &mut scratch).map(<[u8]>::to_vec)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
    fn cached_keys_give_what_fresh_keys_give() {
        // The reference: the `cbc` crate's AES-CBC-128, keyed afresh.
        use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
        type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;
        for suite in [CipherSuite::Suite3, CipherSuite::Suite17] {
            let sik = hmac(suite, b"password", &[b"rm", b"rc"]);
            let keys = SessionKeys::derive(suite, &sik);
            let k1 = hmac(suite, &sik, &[&[0x01; 20]]);
            let k2 = hmac(suite, &sik, &[&[0x02; 20]]);
            for len in [0usize, 1, 15, 16, 17, 40, 200] {
                let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                // Twice: the cached state must not carry one packet into the next.
                for _ in 0..2 {
                    let mut want = hmac(suite, &k1, &[&data]);
                    want.truncate(suite.auth_code_len());
                    assert_eq!(&*keys.auth_code(&data), &want[..], "{suite} {len}");
                    let iv = [len as u8; 16];
                    let got = keys.encrypt_with_iv(&data, iv);
                    let pad = (16 - (len + 1) % 16) % 16;
                    let mut plain = data.clone();
                    plain.extend((1..=pad).map(|i| i as u8));
                    plain.push(pad as u8);
                    let n = plain.len();
                    let mut key = [0u8; 16];
                    key.copy_from_slice(&k2[..16]);
                    let ct = Aes128CbcEnc::new(&key.into(), &iv.into())
                        .encrypt_padded_mut::<NoPadding>(&mut plain, n)
                        .unwrap()
                        .to_vec();
                    assert_eq!(got[..16], iv);
                    assert_eq!(got[16..], ct[..], "{suite} {len}");
                    assert_eq!(keys.decrypt(&got).unwrap(), data);
                }
            }
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
