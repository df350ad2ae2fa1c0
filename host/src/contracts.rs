//! Compiled components by code hash: each is compiled once per ledger, on first use, and
//! shared by every thread, by apply and by verify.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::{anyhow, Context as _};

use crate::engine::{ContractEngine, WasmContract};
use crate::error::Result;
use crate::outcome::sha256_hex;
use crate::store::Store;

/// The compiled components of one engine, by code hash.
pub struct Contracts {
    engine: ContractEngine,
    loaded: RwLock<HashMap<String, Arc<WasmContract>>>,
}

impl Contracts {
    /// An empty cache of `engine`'s components.
    pub fn new(engine: ContractEngine) -> Contracts {
        Contracts {
            engine,
            loaded: RwLock::new(HashMap::new()),
        }
    }

    /// The compiled component `bytes`, compiled (and its imports checked) unless it is
    /// cached already.
    pub fn load(&self, bytes: &[u8]) -> Result<Arc<WasmContract>> {
        let code_hash = sha256_hex(bytes);
        if let Some(contract) = self.cached(&code_hash)? {
            return Ok(contract);
        }
        let contract = Arc::new(self.engine.load(bytes)?);
        let mut loaded = self
            .loaded
            .write()
            .map_err(|_| anyhow!("the contracts were poisoned"))?;
        Ok(loaded.entry(code_hash).or_insert(contract).clone())
    }

    /// The compiled component with `code_hash`, compiled from the bytes `store` holds on
    /// first use. Bytes that do not hash to `code_hash` are refused: the store is not
    /// trusted to name its own code.
    pub fn get(&self, store: &dyn Store, code_hash: &str) -> Result<Arc<WasmContract>> {
        if let Some(contract) = self.cached(code_hash)? {
            return Ok(contract);
        }
        let bytes = store
            .component(code_hash)?
            .with_context(|| format!("no component with code hash {code_hash} is stored"))?;
        let actual = sha256_hex(&bytes);
        if actual != code_hash {
            return Err(anyhow!("the component stored as {code_hash} has code hash {actual}").into());
        }
        self.load(&bytes)
    }

    fn cached(&self, code_hash: &str) -> Result<Option<Arc<WasmContract>>> {
        let loaded = self.loaded.read().map_err(|_| anyhow!("the contracts were poisoned"))?;
        Ok(loaded.get(code_hash).cloned())
    }
}
