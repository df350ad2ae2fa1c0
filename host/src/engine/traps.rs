//! Traps sorted into what is recorded (the component's own doing, the same on every
//! replay) and what aborts the event (the host's or the engine's).

use anyhow::Result;
use wasmtime::Trap;

use super::FUEL_PER_EVENT;
use crate::outcome::Outcome;

/// How a trap is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapClass {
    /// The component's own doing, the same on every replay: recorded as the event's outcome.
    Deterministic,
    /// The host's or the engine's: the event aborts and nothing is recorded.
    HostFault,
}

/// The class of every trap kind this host knows; `None` for one it has not classified
/// (a newer wasmtime's), which is handled as a host fault. A test fails while any trap kind
/// of the wasmtime in use is unclassified.
pub fn trap_class(trap: Trap) -> Option<TrapClass> {
    use Trap::*;
    match trap {
        StackOverflow
        | MemoryOutOfBounds
        | HeapMisaligned
        | TableOutOfBounds
        | IndirectCallToNull
        | BadSignature
        | IntegerOverflow
        | IntegerDivisionByZero
        | BadConversionToInteger
        | UnreachableCodeReached
        | OutOfFuel
        | AtomicWaitNonSharedMemory
        | NullReference
        | ArrayOutOfBounds
        | AllocationTooLarge
        | CastFailure
        | CannotEnterComponent
        | NoAsyncResult
        | UnhandledTag
        | ContinuationAlreadyConsumed
        | AsyncDeadlock
        | CannotLeaveComponent
        | CannotBlockSyncTask
        | InvalidChar
        | StringOutOfBounds
        | ListOutOfBounds
        | InvalidDiscriminant
        | UnalignedPointer
        | TaskCancelNotCancelled
        | TaskCancelOrReturnTwice
        | SubtaskCancelAfterTerminal
        | TaskReturnInvalid
        | WaitableSetDropHasWaiters
        | SubtaskDropNotResolved
        | ThreadNewIndirectInvalidType
        | ThreadNewIndirectUninitialized
        | BackpressureOverflow
        | UnsupportedCallbackCode
        | CannotResumeThread
        | ConcurrentFutureStreamOp
        | ReferenceCountOverflow
        | StreamOpTooBig
        | WaitableSyncAndAsync
        | UncaughtException => Some(TrapClass::Deterministic),
        // Interrupts come from the host's clock; disabled opcodes and adapter assertions are
        // the engine's configuration or its bugs: none is the component's doing.
        Interrupt
        | DisabledOpcode
        | DebugAssertStringEncodingFinished
        | DebugAssertEqualCodeUnits
        | DebugAssertPointerAligned
        | DebugAssertUpperBitsUnset => Some(TrapClass::HostFault),
        _ => None,
    }
}

/// Sorts a failed call into a deterministic outcome (recorded and replayable: a panic, fuel
/// running out, a wasm trap) or a host fault (returned as an error: nothing is recorded).
pub(super) fn classify_trap(error: wasmtime::Error, abort_message: Option<&str>, fuel: u64) -> Result<Outcome> {
    if let Some(message) = abort_message {
        return Ok(Outcome::rejected(
            "contract_panic",
            format!("the contract panicked: {message}"),
            fuel,
        ));
    }
    let Some(&trap) = error.downcast_ref::<Trap>() else {
        return Err(error.context("host fault while running the contract").into());
    };
    match (trap, trap_class(trap)) {
        (Trap::OutOfFuel, _) => Ok(Outcome::rejected(
            "out_of_fuel",
            format!("the contract used more than the {FUEL_PER_EVENT} fuel an event may use"),
            fuel,
        )),
        (_, Some(TrapClass::Deterministic)) => Ok(Outcome::rejected(
            "contract_trap",
            format!("the contract trapped: {trap}"),
            fuel,
        )),
        (_, Some(TrapClass::HostFault)) => Err(error.context("host fault while running the contract").into()),
        (_, None) => Err(error.context("unclassified trap while running the contract").into()),
    }
}
