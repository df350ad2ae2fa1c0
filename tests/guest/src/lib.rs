//! Contract components that misbehave on purpose, so the host's tests can show each
//! failure is contained, recorded where deterministic, and readable: a panic (whose message
//! and location must reach the journal), an endless loop, a memory bomb, unbounded
//! recursion, an oversized output and garbage output; and one that behaves, but keeps its
//! state in bytes of its own that the host's native reading does not know
//! (`opaque-state`); and one of ABI 0.3.0 that would take any wallet over (`takeover`):
//! its `migrate` checks no signature and hands the wallet to its merchant. Built for wasm32
//! only, one feature per component, by `cargo xtask guests`.

#![no_std]

#[cfg(target_arch = "wasm32")]
mod guest {
    extern crate alloc;

    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    #[cfg(not(feature = "takeover"))]
    wit_bindgen::generate!({ path: "../../wit/0.2.0/contract.wit", world: "contract", std_feature });
    #[cfg(feature = "takeover")]
    wit_bindgen::generate!({ path: "../../wit/0.3.0/contract.wit", world: "contract", std_feature });

    #[global_allocator]
    static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        prepaid::contract::diagnostics::abort(&info.to_string());
        core::arch::wasm32::unreachable()
    }

    struct Misbehaving;

    export!(Misbehaving);

    impl Guest for Misbehaving {
        #[cfg(not(any(
            feature = "big-output",
            feature = "garbage",
            feature = "opaque-state",
            feature = "takeover"
        )))]
        fn apply(state: Option<Vec<u8>>, _ctx: Context, event: String) -> Result<Applied, ContractError> {
            misbehave(state.map_or(0, |state| state.len()) + event.len());
            Err(ContractError {
                code: "unreachable".into(),
                message: "the guest misbehaves before this".into(),
            })
        }

        #[cfg(feature = "big-output")]
        fn apply(_state: Option<Vec<u8>>, _ctx: Context, _event: String) -> Result<Applied, ContractError> {
            Ok(Applied {
                state: alloc::vec![7; 2 << 20],
                effects: Vec::new(),
                next_due: None,
            })
        }

        #[cfg(feature = "garbage")]
        fn apply(_state: Option<Vec<u8>>, _ctx: Context, _event: String) -> Result<Applied, ContractError> {
            use prepaid::contract::types::{Effect, EffectKind};
            let effect = Effect {
                kind: EffectKind::Release,
                to: "not a key".into(),
                amount: "-5".into(),
                reason: "garbage".into(),
            };
            Ok(Applied {
                state: alloc::vec![0xff, 0, 0x13],
                effects: alloc::vec![effect],
                next_due: None,
            })
        }

        /// Accepts an `open` (and nothing else), keeping the event's JSON after a zero byte:
        /// a state no JSON reader takes.
        #[cfg(feature = "opaque-state")]
        fn apply(state: Option<Vec<u8>>, _ctx: Context, event: String) -> Result<Applied, ContractError> {
            if state.is_some() || field(&event, "consumer").is_none() {
                return Err(ContractError {
                    code: "bad_event".into(),
                    message: "the opaque guest takes one open".into(),
                });
            }
            let mut state = alloc::vec![0];
            state.extend_from_slice(event.as_bytes());
            Ok(Applied {
                state,
                effects: Vec::new(),
                next_due: None,
            })
        }

        #[cfg(feature = "takeover")]
        fn apply(_state: Option<Vec<u8>>, _ctx: Context, _event: String) -> Result<Applied, ContractError> {
            Err(ContractError {
                code: "bad_event".into(),
                message: "the takeover guest only takes wallets over".into(),
            })
        }

        /// Takes any wallet, whoever signed, and makes its merchant its consumer; asked under
        /// an event id that starts `trailing`, keeps the wallet and writes a second state after it.
        #[cfg(feature = "takeover")]
        fn migrate(state: Vec<u8>, _from_abi: String, ctx: Context, _event: String) -> Result<Applied, ContractError> {
            let mut state = state;
            if ctx.event_id.starts_with("trailing") {
                state.extend_from_within(..);
                return Ok(Applied {
                    state,
                    effects: Vec::new(),
                    next_due: None,
                });
            }
            if let (Some(consumer), Some(merchant)) = (key_at(&state, b"consumer"), key_at(&state, b"merchant")) {
                let mut key = [0; 32];
                key.copy_from_slice(&state[merchant..merchant + 32]);
                state[consumer..consumer + 32].copy_from_slice(&key);
            }
            Ok(Applied {
                state,
                effects: Vec::new(),
                next_due: None,
            })
        }

        #[cfg(not(feature = "opaque-state"))]
        fn view(_state: Vec<u8>) -> Result<View, ContractError> {
            Err(ContractError {
                code: "no_view".into(),
                message: "the test guest has no view".into(),
            })
        }

        /// The parties, read back from the open it keeps.
        #[cfg(feature = "opaque-state")]
        fn view(state: Vec<u8>) -> Result<View, ContractError> {
            let open = core::str::from_utf8(&state[1..]).unwrap_or_default();
            let party = |name: &str| field(open, name).unwrap_or_default().to_string();
            Ok(View {
                status: prepaid::contract::types::Status::Active,
                product: "sessions".into(),
                consumer: party("consumer"),
                merchant: party("merchant"),
                paid: "0.00".into(),
                frozen: "0.00".into(),
                released: "0.00".into(),
                refunded: "0.00".into(),
                pending: "0.00".into(),
                next_due: None,
            })
        }
    }

    /// Where the 32 bytes of the key `name` start in the contract's state (CBOR): after the
    /// field's name, a text string, and the byte string's header.
    #[cfg(feature = "takeover")]
    fn key_at(state: &[u8], name: &[u8]) -> Option<usize> {
        let mut pattern = alloc::vec![0x60 | name.len() as u8];
        pattern.extend_from_slice(name);
        pattern.extend_from_slice(&[0x58, 0x20]);
        let start = state.windows(pattern.len()).position(|window| window == pattern)? + pattern.len();
        (start + 32 <= state.len()).then_some(start)
    }

    /// The string value of `"name":"..."` in compact JSON.
    #[cfg(feature = "opaque-state")]
    fn field<'a>(json: &'a str, name: &str) -> Option<&'a str> {
        let key = alloc::format!("\"{name}\":\"");
        let start = json.find(&key)? + key.len();
        Some(&json[start..start + json[start..].find('"')?])
    }

    #[cfg(feature = "panic")]
    fn misbehave(_: usize) {
        panic!("the test guest panics on purpose");
    }

    #[cfg(feature = "spin")]
    fn misbehave(seed: usize) {
        let mut counter = seed as u64;
        loop {
            counter = core::hint::black_box(counter.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }

    #[cfg(feature = "memory")]
    fn misbehave(seed: usize) {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // Reserved, not filled: the memory cap, not fuel, is what must stop this.
            let mut block = Vec::with_capacity(1 << 20);
            block.push(seed as u8);
            hoard.push(block);
            core::hint::black_box(&hoard);
        }
    }

    #[cfg(feature = "recursion")]
    #[allow(unconditional_recursion)] // the point of this guest
    fn misbehave(depth: usize) {
        let frame = core::hint::black_box([depth as u8; 256]);
        misbehave(depth + usize::from(frame[0] != 7));
    }
}
