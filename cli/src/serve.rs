//! `prepaid serve`: the HTTP API over the journal, admitting by the trust file.

use std::process::ExitCode;

use anyhow::Result;
use prepaid_host::service::auth::ApiKeys;
use prepaid_host::service::Service;
use prepaid_host::Clock;

use crate::args::{AdmissionArgs, ServeArgs};
use crate::platform;

/// Runs `prepaid serve` with `args`, until it is stopped.
pub(crate) fn run(args: ServeArgs) -> Result<ExitCode> {
    let ServeArgs {
        listen,
        store,
        keys,
        admission,
        max_connections,
        tick_every,
        platform_key,
        checkpoint_every,
        closure_notice_days,
        component,
        cache,
    } = args;
    let trust = admission.trust()?;
    let platform_key = prepaid_host::keys::read_key_file(&platform_key)?;
    let keys = ApiKeys::load(&keys)?;
    let ledger = component.ledger(store.config(), cache.engine()?, Clock::System)?;
    // A journal served sells only listings, and says so to every ledger opened on it later.
    let ledger = AdmissionArgs::admit(ledger, trust)?
        .with_registry(closure_notice_days)?
        .with_max_connections(max_connections);
    let service = Service::new(ledger, keys, platform_key)
        .with_tick_every(std::time::Duration::from_secs(tick_every))
        .with_checkpoint_every(std::time::Duration::from_secs(checkpoint_every));
    platform::serve(listen, service)
}
