//! A GitHub App RSA key pair made at test time (never committed), with the private half as
//! PEM for the code under test and the public half for the fake to check JWT signatures.

use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;

/// An RSA-2048 key pair for a test GitHub App.
#[derive(Clone)]
pub struct TestAppKey {
    /// PKCS#8 PEM (`BEGIN PRIVATE KEY`), as GitHub's `.pem` download would be read.
    pub private_pem: String,
    /// The public key as a PKCS#1 `RSAPublicKey` DER, what `DecodingKey::from_rsa_der` takes.
    pub public_der: Vec<u8>,
}

impl TestAppKey {
    /// A fresh key pair (about a second in a debug build).
    pub fn generate() -> Self {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("generate an RSA key");
        let pkcs8 = pair.as_der().expect("encode the private key");
        let encoded = base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref());
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        Self {
            private_pem: pem,
            public_der: pair.public_key().as_ref().to_vec(),
        }
    }

    /// One key pair shared by every test of this binary.
    pub fn shared() -> &'static Self {
        static KEY: OnceLock<TestAppKey> = OnceLock::new();
        KEY.get_or_init(Self::generate)
    }
}
