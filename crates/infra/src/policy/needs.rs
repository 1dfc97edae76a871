//! What each resource kind calls in AWS, as IAM actions: to read it, to make or change it, to
//! delete it. One table, checked against the kinds' code by `tests.rs` (every operation a kind's
//! file names is here) and against AWS itself by the emulator suite, which runs with IAM
//! enforced as a user that holds exactly the policy made of it.

use crate::resources::Kind;

pub use super::actions::{Service, iam_actions};
pub use super::table::{Needs, TABLE};

/// What `kind` calls. EC2 kinds also tag what they make (`ec2:CreateTags`, added by the
/// policy with its own condition). Every kind has its line (a test checks).
pub fn of(kind: Kind) -> Needs {
    TABLE
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(NOTHING, |(_, needs)| *needs)
}

const NOTHING: Needs = Needs {
    service: Service::Ec2,
    read: &[],
    write: &[],
    delete: &[],
};
