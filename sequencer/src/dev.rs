//! The dev accounts: the first ten keys of the standard test mnemonic, as anvil and hardhat
//! derive them (`m/44'/60'/0'/0/i`).

use alloy::signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};
use alloy_primitives::Address;

/// The standard test mnemonic.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// How many dev accounts are derived and prefunded.
pub const DEV_ACCOUNTS: u32 = 10;

/// Derives dev account `index` from [`DEV_MNEMONIC`].
pub fn dev_signer(index: u32) -> PrivateKeySigner {
    MnemonicBuilder::<English>::default()
        .phrase(DEV_MNEMONIC)
        .index(index)
        .and_then(|b| b.build())
        .expect("the built-in mnemonic and index are valid")
}

/// All dev signers.
pub fn dev_signers() -> Vec<PrivateKeySigner> {
    (0..DEV_ACCOUNTS).map(dev_signer).collect()
}

/// The addresses of the dev accounts.
pub fn dev_addresses() -> Vec<Address> {
    dev_signers().iter().map(|s| s.address()).collect()
}

/// The start-up banner listing the dev accounts and keys, as anvil prints it.
pub fn banner(chain_id: u64, prefund_eth: u64) -> String {
    let signers = dev_signers();
    let mut out = String::from("\nAvailable Accounts\n==================\n\n");
    for (i, s) in signers.iter().enumerate() {
        out += &format!(
            "({i}) {} ({prefund_eth}.000000000000000000 ETH)\n",
            s.address()
        );
    }
    out += "\nPrivate Keys\n==================\n\n";
    for (i, s) in signers.iter().enumerate() {
        out += &format!("({i}) 0x{}\n", alloy_primitives::hex::encode(s.to_bytes()));
    }
    out += &format!(
        "\nWallet\n==================\nMnemonic:          {DEV_MNEMONIC}\n\
         Derivation path:   m/44'/60'/0'/0/\n\nChain ID\n==================\n\n{chain_id}\n"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn derives_the_well_known_accounts() {
        let addrs = dev_addresses();
        assert_eq!(addrs.len(), 10);
        assert_eq!(
            addrs[0],
            address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
        );
        assert_eq!(
            addrs[1],
            address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
        );
        assert_eq!(
            addrs[9],
            address!("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720")
        );
    }
}
