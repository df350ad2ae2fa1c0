//! The end-to-end tests through the real contract component, one module per concern, in
//! one binary: `cargo test -p prepaid-tests --test it scenarios::` runs one module.

mod browser;
mod catalogue;
mod claims;
mod component;
mod concurrency;
mod consumer;
mod floors;
mod fuzz;
mod hostile;
mod journal;
mod migration;
mod platform;
mod properties;
mod scenarios;
mod service;
mod stores;
mod testkit;
mod trust;
