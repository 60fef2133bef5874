//! [`Wallet`]: a secp256k1 key that signs transactions.

use alloy_consensus::{SignableTransaction, Signed, crypto::secp256k1::sign_message};
use alloy_primitives::{Address, B256, Signature, U256, keccak256};

/// A key pair that signs transactions.
#[derive(Clone, Copy, Debug)]
pub struct Wallet {
    pub secret: B256,
    pub address: Address,
}

impl Wallet {
    /// The wallet with secret key `n` (1, 2, ...).
    ///
    /// # Panics
    ///
    /// When `n` is 0, which is not a secret key.
    pub fn new(n: u64) -> Self {
        let secret = B256::from(U256::from(n));
        let probe = keccak256(b"probe");
        let sig = sign_message(secret, probe).expect("valid secret key");
        let address = sig
            .recover_address_from_prehash(&probe)
            .expect("recoverable");
        Self { secret, address }
    }

    /// Signs `hash`.
    pub fn sign(&self, hash: B256) -> Signature {
        sign_message(self.secret, hash).expect("valid secret key")
    }

    /// Signs a transaction.
    pub fn sign_tx<T: SignableTransaction<Signature>>(&self, tx: T) -> Signed<T> {
        let sig = self.sign(tx.signature_hash());
        tx.into_signed(sig)
    }
}

