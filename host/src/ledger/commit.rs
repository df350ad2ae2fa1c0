//! How a ledger's writes reach its store.
//!
//! - [`Commit::Writer`] (SQLite, which takes one write at a time): threads run the contract
//!   on connections of their own and hand the entries to one writer thread, which commits
//!   whatever has arrived in one transaction (group commit), so submitters waiting for the
//!   disk share one sync.
//! - [`Commit::Direct`] (PostgreSQL, which many processes share): each thread appends on
//!   its own connection; the database orders each wallet's entries.
//!
//! Under both, an append that loses its wallet's race gets an [`Error::Conflict`] and the
//! ledger runs the event again on the new head.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::anyhow;

use crate::contracts::Contracts;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::ledger::admit::Admission;
use crate::ledger::apply::{apply_all, Prepared, Submitted};
use crate::store::{Store, StoreConfig};

/// The most jobs one group commit takes.
const MAX_GROUP: usize = 256;

/// The strategy.
pub(crate) enum Commit {
    /// One writer thread commits in groups.
    Writer(Writer),
    /// Each submitter appends on its own connection.
    Direct,
}

/// Work for the writer, with where to send its result once it is committed.
enum Job {
    /// An entry prepared by a submitter.
    One(Box<Prepared>, SyncSender<Result<Submitted>>),
    /// Events to run and record in order on the writer's connection (a caller's batch).
    Many {
        envelopes: Vec<Envelope>,
        current: Option<String>,
        admission: Admission,
        reply: SyncSender<Result<Vec<Result<Submitted>>>>,
    },
}

/// The writer thread and the queue to it.
pub(crate) struct Writer {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts a writer on a connection of its own to `config`.
    pub(crate) fn start(config: StoreConfig, contracts: Arc<Contracts>) -> Result<Writer> {
        let store = config.connect()?;
        let (jobs, queue) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("prepaid-writer".into())
            .spawn(move || write(config, store, &contracts, queue))
            .map_err(|error| anyhow!("starting the journal writer: {error}"))?;
        Ok(Writer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Records `prepared`; returns once it is committed.
    pub(crate) fn record(&self, prepared: Prepared) -> Result<Submitted> {
        let (reply, result) = mpsc::sync_channel(1);
        self.send(Job::One(Box::new(prepared), reply))?;
        result.recv().map_err(|_| stopped())?
    }

    /// Runs and records `envelopes` in order on the writer's connection, in a transaction
    /// of their own.
    pub(crate) fn apply_all(
        &self,
        envelopes: &[Envelope],
        current: Option<String>,
        admission: Admission,
    ) -> Result<Vec<Result<Submitted>>> {
        let (reply, result) = mpsc::sync_channel(1);
        self.send(Job::Many {
            envelopes: envelopes.to_vec(),
            current,
            admission,
            reply,
        })?;
        result.recv().map_err(|_| stopped())?
    }

    fn send(&self, job: Job) -> Result<()> {
        let jobs = self.jobs.as_ref().expect("the writer runs until the ledger is dropped");
        jobs.send(job).map_err(|_| stopped())
    }
}

fn stopped() -> Error {
    Error::fault("the journal writer failed; submit again: an event that was recorded replays")
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the queue ends the writer once it has committed what it holds.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A job's result, held until its group is committed.
enum Done {
    One(Box<Result<Submitted>>, SyncSender<Result<Submitted>>),
    Many(
        Result<Vec<Result<Submitted>>>,
        SyncSender<Result<Vec<Result<Submitted>>>>,
    ),
}

/// The writer: takes every job waiting (up to [`MAX_GROUP`]), runs them in one transaction
/// and answers each once it is committed. An entry that fails alone (a conflict: its
/// savepoint rolls back) fails alone; a failed commit fails the group. A caller's batch
/// runs in a transaction of its own, so that its fault fails no one else's events.
fn write(config: StoreConfig, mut store: Box<dyn Store>, contracts: &Contracts, queue: Receiver<Job>) {
    let mut next: Option<Job> = None;
    loop {
        let first = match next.take().map_or_else(|| queue.recv().ok(), Some) {
            Some(job) => job,
            None => return,
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP && matches!(group[0], Job::One(..)) {
            match queue.try_recv() {
                Ok(job @ Job::Many { .. }) => {
                    next = Some(job);
                    break;
                }
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let store_ref = store.as_mut();
        if catch_unwind(AssertUnwindSafe(|| commit_group(store_ref, contracts, group))).is_err() {
            // The group's submitters were answered by their replies being dropped. The
            // connection may be mid-transaction: carry on with a fresh one.
            match config.connect() {
                Ok(fresh) => store = fresh,
                Err(_) => return,
            }
        }
    }
}

/// Runs `group` in one transaction of `store` and answers each job.
fn commit_group(store: &mut dyn Store, contracts: &Contracts, group: Vec<Job>) {
    let mut done = Vec::with_capacity(group.len());
    let mut waiting = group.into_iter();
    let committed = store.transaction(&mut |store| {
        for job in waiting.by_ref() {
            match job {
                Job::One(prepared, reply) => done.push(Done::One(Box::new(prepared.record(store)), reply)),
                Job::Many {
                    envelopes,
                    current,
                    admission,
                    reply,
                } => match apply_all(store, current.as_deref(), &envelopes, contracts, &admission) {
                    Ok(results) => done.push(Done::Many(Ok(results), reply)),
                    Err(error) => {
                        let message = format!("{error:#}");
                        done.push(Done::Many(Err(error), reply));
                        return Err(Error::fault(message));
                    }
                },
            }
        }
        Ok(())
    });
    let failed = |error: &Error| {
        Error::fault(format!(
            "the journal could not commit ({error:#}); submit again: an event that was recorded replays"
        ))
    };
    // A submitter that gave up waiting has nothing to be told.
    for job in done {
        match (job, &committed) {
            (Done::One(result, reply), Ok(())) => drop(reply.send(*result)),
            (Done::Many(result, reply), Ok(())) => drop(reply.send(result)),
            (Done::One(_, reply), Err(error)) => drop(reply.send(Err(failed(error)))),
            // A batch alone in its group: its own error is the group's.
            (Done::Many(Err(own), reply), Err(_)) => drop(reply.send(Err(own))),
            (Done::Many(_, reply), Err(error)) => drop(reply.send(Err(failed(error)))),
        }
    }
    if let Err(error) = &committed {
        for job in waiting {
            match job {
                Job::One(_, reply) => drop(reply.send(Err(failed(error)))),
                Job::Many { reply, .. } => drop(reply.send(Err(failed(error)))),
            }
        }
    }
}
