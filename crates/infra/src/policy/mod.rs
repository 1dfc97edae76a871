//! The IAM policy a principal needs to run stackctl's commands on one stack, and nothing more
//! (`stackctl policy`). Made from the same table of each kind's calls ([`needs`]) that the
//! emulator suite checks with IAM enforced; resources narrowed to the stack's ([`scope`]).
//!
//! Reads and deletes cover every kind, not only the file's: `up` deletes what the file no
//! longer declares, and `down` must prove that nothing of the stack is left. Writes cover the
//! kinds the file declares. See docs/permissions.md.

pub mod actions;
pub mod needs;
pub mod scope;
mod table;

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::resources::Kind;
use crate::stack_file::StackSpec;
use needs::Service;
use scope::{Place, Scope, Use};

/// The commands a policy can be made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Command {
    Plan,
    Status,
    Up,
    Down,
    Logs,
    History,
}

impl Command {
    pub const ALL: &'static [Command] = &[
        Self::Plan,
        Self::Status,
        Self::Up,
        Self::Down,
        Self::Logs,
        Self::History,
    ];
}

/// An IAM policy document, as IAM takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    #[serde(rename = "Version")]
    pub version: &'static str,
    #[serde(rename = "Statement")]
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    #[serde(rename = "Sid")]
    pub sid: &'static str,
    #[serde(rename = "Effect")]
    pub effect: &'static str,
    #[serde(rename = "Action")]
    pub actions: Vec<String>,
    #[serde(rename = "Resource")]
    pub resources: Vec<String>,
    #[serde(rename = "Condition", skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

impl Document {
    /// Every action of every statement.
    pub fn actions(&self) -> BTreeSet<&str> {
        self.statements
            .iter()
            .flat_map(|s| s.actions.iter().map(String::as_str))
            .collect()
    }
}

/// The table `stackctl:locks` that holds every stack's lock ([`crate::lock`]).
const LOCK_ACTIONS: &[&str] = &[
    "CreateTable",
    "DescribeTable",
    "PutItem",
    "GetItem",
    "UpdateItem",
    "DeleteItem",
];

/// What a principal needs to run `commands` on the stack `spec` declares, and nothing more.
pub fn document(spec: &StackSpec, commands: &[Command]) -> Document {
    let at = Place {
        stack: spec.name.clone(),
        region: spec.region.clone(),
    };
    let declared = declared(spec);
    let mut grants = Grants::default();
    grants.add(Scope::any("Identity"), ["sts:GetCallerIdentity".to_owned()]);
    for command in commands {
        match command {
            Command::Plan | Command::Status => grants.kinds(Kind::ALL, Use::Read, &at),
            Command::Up => {
                grants.kinds(Kind::ALL, Use::Read, &at);
                grants.kinds(&declared, Use::Write, &at);
                grants.kinds(Kind::ALL, Use::Delete, &at);
                grants.lock_and_history(&at, &["CreateLogGroup", "PutRetentionPolicy"]);
                grants.implicit(&declared, Use::Write, &at);
                grants.implicit(Kind::ALL, Use::Delete, &at);
            }
            Command::Down => {
                grants.kinds(Kind::ALL, Use::Read, &at);
                grants.kinds(Kind::ALL, Use::Delete, &at);
                grants.lock_and_history(&at, &["DeleteLogGroup"]);
                grants.implicit(Kind::ALL, Use::Delete, &at);
            }
            Command::Logs => grants.add(
                Scope {
                    sid: "LogGroup",
                    resources: at.log_group(&format!("/stackctl/{}", at.stack)),
                    condition: None,
                },
                ["logs:FilterLogEvents".to_owned()],
            ),
            Command::History => {
                grants.add(Scope::any("Read"), ["logs:DescribeLogGroups".to_owned()]);
                // Reading, and `history record`'s writes (the group made on the first step).
                let actions = [
                    "FilterLogEvents",
                    "CreateLogGroup",
                    "PutRetentionPolicy",
                    "CreateLogStream",
                    "PutLogEvents",
                ];
                grants.add(history(&at), actions.map(|a| format!("logs:{a}")));
            }
        }
    }
    grants.document()
}

/// The kinds whose resources the file makes: those of its desired resources, and the image
/// when a service has none given (`up` builds and pushes it).
pub fn declared(spec: &StackSpec) -> Vec<Kind> {
    // Every service runs some image: one `--image` gives, or one `up` builds and pushes.
    let mut kinds: BTreeSet<Kind> = crate::desired::from_file(spec)
        .iter()
        .map(|d| d.spec.kind())
        .collect();
    if spec.services.iter().any(|s| s.image.is_none()) {
        kinds.insert(Kind::Image);
    }
    kinds.into_iter().collect()
}

/// The deploy history's log group ([`crate::history`]).
fn history(at: &Place) -> Scope {
    Scope {
        sid: "History",
        resources: at.log_group(&format!("/stackctl-history/{}", at.stack)),
        condition: None,
    }
}

/// Actions gathered by scope, in the order scopes were first met.
#[derive(Debug, Default)]
struct Grants {
    scopes: Vec<(Scope, BTreeSet<String>)>,
}

impl Grants {
    fn add(&mut self, scope: Scope, actions: impl IntoIterator<Item = String>) {
        let at = match self.scopes.iter().position(|(s, _)| s == &scope) {
            Some(at) => at,
            None => {
                self.scopes.push((scope, BTreeSet::new()));
                self.scopes.len() - 1
            }
        };
        self.scopes[at].1.extend(actions);
    }

    fn kinds(&mut self, kinds: &[Kind], use_: Use, at: &Place) {
        for &kind in kinds {
            let needs = needs::of(kind);
            let actions = match use_ {
                Use::Read => needs.read,
                Use::Write => needs.write,
                Use::Delete => needs.delete,
            };
            for action in actions {
                let scope = scope::of(needs.service, action, use_, at);
                self.add(scope, needs::iam_actions(needs.service, action));
            }
            if needs.service == Service::Ec2 && use_ != Use::Read {
                // Retagging one of the stack's resources.
                self.add(
                    Scope::any("Ec2Change").with(at.tagged()),
                    ["ec2:CreateTags".to_owned()],
                );
            }
        }
        if use_ == Use::Read {
            self.implicit(kinds, use_, at);
        }
    }

    /// The stack lock, and the deploy history every `up` and `down` writes.
    fn lock_and_history(&mut self, at: &Place, also: &[&str]) {
        let table = format!(
            "arn:{}:dynamodb:{}:*:table/{}",
            at.partition(),
            at.region,
            crate::lock::TABLE
        );
        self.add(
            Scope {
                sid: "Lock",
                resources: vec![table],
                condition: None,
            },
            LOCK_ACTIONS.iter().map(|a| format!("dynamodb:{a}")),
        );
        self.add(Scope::any("Read"), ["logs:DescribeLogGroups".to_owned()]);
        let writes = ["CreateLogStream", "PutLogEvents"].iter().chain(also);
        self.add(history(at), writes.map(|a| format!("logs:{a}")));
    }

    /// What AWS checks beyond the calls themselves, for `kinds` used for `use_`.
    fn implicit(&mut self, kinds: &[Kind], use_: Use, at: &Place) {
        for (scope, actions) in implicit::of(kinds, use_, at) {
            self.add(scope, actions);
        }
    }

    fn document(self) -> Document {
        let statements = self
            .scopes
            .into_iter()
            .filter(|(_, actions)| !actions.is_empty())
            .map(|(scope, actions)| Statement {
                sid: scope.sid,
                effect: "Allow",
                actions: actions.into_iter().collect(),
                resources: scope.resources,
                condition: scope.condition,
            })
            .collect();
        Document {
            version: "2012-10-17",
            statements,
        }
    }
}

mod implicit;

#[cfg(test)]
mod tests;
