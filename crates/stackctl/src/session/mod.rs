//! One run of a command against AWS: the credentials checked once, which stack and how the
//! user named it, the printer ([`Session`]); and for `up` and `down`, which change a stack,
//! the interrupt handler, the stack lock and the deploy history of the run
//! ([`Session::with_lock`], [`Locked`]).

mod interrupt;
mod locked;
mod open;

pub use interrupt::interrupted_exit;
pub use locked::{Locked, Verb};
pub use open::{Naming, Session, Where, seconds_from_env};
