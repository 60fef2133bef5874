//! [`Wallet`]: a secp256k1 key that signs transactions.

use alloy_consensus::{SignableTransaction, Signed, crypto::secp256k1::sign_message};
use alloy_primitives::{Address, B256, Signature, U256, keccak256};

/// A key pair that signs transactions.
#[derive(Clone, Copy, Debug)]
pub struct Wallet {
    /// The secret key.
    pub secret: B256,
    /// The address of its public key.
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
        let key = k256::ecdsa::SigningKey::from_slice(secret.as_slice()).expect("valid secret key");
        let point = key.verifying_key().to_encoded_point(false);
        let hash = keccak256(&point.as_bytes()[1..]);
        let address = Address::from_slice(&hash[12..]);
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn addresses_are_those_of_the_keys() {
        // The well-known address of secret key 1.
        let one = address!("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
        assert_eq!(Wallet::new(1).address, one);
        let wallet = Wallet::new(12_345);
        let hash = keccak256(b"message");
        let recovered = wallet
            .sign(hash)
            .recover_address_from_prehash(&hash)
            .unwrap();
        assert_eq!(recovered, wallet.address);
    }
}
