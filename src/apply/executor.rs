//! The executor: runs a plan's actions in dependency order, independent ones concurrently, and
//! reports what happened to each.
//!
//! It makes no decisions about *what* to do (every action's [`Op`](crate::plan::Op) says that);
//! it only decides *when*: an action starts once every action it depends on has succeeded, at
//! most `concurrency` at a time. A failure stops exactly its dependants (transitively); the rest
//! of the plan goes on, so a re-run has less to do and converges. Manual actions are not run by
//! anyone here: they are reported as pending, and what builds on them waits for the next run.

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use tokio::task::JoinSet;

use crate::plan::{Action, Kind, Op, Plan};

/// What happened to one action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Done,
    /// The runner failed; the message is the error chain (never a secret).
    Failed {
        error: String,
    },
    /// Not run because an action it needs did not succeed.
    Skipped {
        because: usize,
    },
    /// A person has to act; the step is in the plan.
    ManualPending,
    /// Not run because it builds on manual step `on`, which is not done yet; the next apply
    /// runs it once Okta shows the step done.
    Waiting {
        on: usize,
    },
}

/// One action's outcome, by plan index.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Failed { .. }))
            .count()
    }

    pub fn skipped(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Skipped { .. }))
            .count()
    }

    pub fn manual_pending(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::ManualPending))
            .count()
    }

    pub fn waiting(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Waiting { .. }))
            .count()
    }

    pub fn done(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Done))
            .count()
    }
}

/// How an action that did not fail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ran {
    Done,
    /// The API refused what a manual step tries first: a person has to act.
    ManualPending,
}

/// Performs one action. Implemented by the applier that talks to the services.
pub trait Runner: Send + Sync + 'static {
    /// Runs `action` (plan index `index`); an `Err` is shown to the user as is.
    fn run(&self, index: usize, action: Action)
    -> impl Future<Output = anyhow::Result<Ran>> + Send;
}

/// Where an action is in its run.
#[derive(Clone, Debug)]
enum State {
    Waiting,
    Running,
    Finished(Outcome),
}

/// Runs `plan` with at most `concurrency` actions in flight.
pub async fn execute<R: Runner>(plan: &Plan, runner: Arc<R>, concurrency: usize) -> Report {
    let n = plan.actions.len();
    let mut states = vec![State::Waiting; n];
    let mut running: JoinSet<(usize, anyhow::Result<Ran>)> = JoinSet::new();
    loop {
        for i in 0..n {
            if running.len() >= concurrency.max(1) {
                break;
            }
            if !matches!(states[i], State::Waiting) {
                continue;
            }
            let action = &plan.actions[i];
            let finished = |d: usize| match &states[d] {
                State::Finished(outcome) => Some(outcome),
                State::Waiting | State::Running => None,
            };
            if action.depends_on.iter().any(|&d| finished(d).is_none()) {
                continue;
            }
            let failed = action.depends_on.iter().copied().find(|&d| {
                matches!(
                    finished(d),
                    Some(Outcome::Failed { .. } | Outcome::Skipped { .. })
                )
            });
            if let Some(because) = failed {
                states[i] = State::Finished(Outcome::Skipped { because });
                continue;
            }
            // What builds on a pending manual step waits for it: users assigned before
            // provisioning is on would never be pushed. Another manual step is still the
            // person's to do.
            let pending = |d: usize| matches!(finished(d), Some(Outcome::ManualPending));
            if let Some(on) = plan.waiting_on(i, pending) {
                states[i] = State::Finished(if action.kind == Kind::Manual {
                    Outcome::ManualPending
                } else {
                    Outcome::Waiting { on }
                });
                continue;
            }
            if matches!(action.op, Op::Manual) {
                states[i] = State::Finished(Outcome::ManualPending);
                continue;
            }
            states[i] = State::Running;
            let runner = Arc::clone(&runner);
            let action = action.clone();
            running.spawn(async move { (i, runner.run(i, action).await) });
        }
        let Some(joined) = running.join_next().await else {
            // Nothing runs and nothing more could start: every action has finished, because
            // dependencies always point to earlier actions (the plan lint guarantees it).
            break;
        };
        let (i, result) =
            joined.unwrap_or_else(|join_error| std::panic::resume_unwind(join_error.into_panic()));
        states[i] = State::Finished(match result {
            Ok(Ran::ManualPending) => Outcome::ManualPending,
            Ok(Ran::Done) => Outcome::Done,
            Err(err) => Outcome::Failed {
                error: format!("{err:#}"),
            },
        });
    }
    let outcomes = states
        .into_iter()
        .map(|state| match state {
            State::Finished(outcome) => outcome,
            State::Waiting | State::Running => {
                unreachable!("the loop ends only when every action finished")
            }
        })
        .collect();
    Report { outcomes }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::config::Location;
    use crate::plan::{ManualStep, Resource};

    fn action(name: &str, kind: Kind, op: Op, depends_on: Vec<usize>) -> Action {
        Action {
            resource: Resource::UserAssignment(name.into()),
            kind,
            at: Location {
                file: "c.yaml".into(),
                line: 1,
                column: 1,
            },
            reason: None,
            changes: vec![],
            hazard: None,
            notes: vec![],
            depends_on,
            manual: (kind == Kind::Manual).then(|| ManualStep {
                title: "t".into(),
                steps: vec!["s".into()],
                values: vec![],
                verified_by: "v".into(),
            }),
            op,
        }
    }

    fn work(name: &str, depends_on: Vec<usize>) -> Action {
        let op = Op::AssignUser {
            app: crate::plan::AppRef::Created,
            user: crate::state::OktaUserId::new(name),
            login: name.into(),
        };
        action(name, Kind::Create, op, depends_on)
    }

    /// Fails the actions named `fail*`, and records how many ran at once.
    #[derive(Default)]
    struct Recorder {
        ran: Mutex<Vec<usize>>,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
    }

    impl Runner for Recorder {
        async fn run(&self, index: usize, action: Action) -> anyhow::Result<Ran> {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::task::yield_now().await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.ran.lock().unwrap().push(index);
            match action.resource {
                Resource::UserAssignment(name) if name.starts_with("fail") => {
                    anyhow::bail!("{name} broke")
                }
                _ => Ok(Ran::Done),
            }
        }
    }

    fn plan(actions: Vec<Action>) -> Plan {
        Plan {
            format_version: 1,
            config: "c.yaml".into(),
            observed_at: None,
            actions,
            token: crate::plan::token::assess(
                "c",
                crate::config::duration::Minutes(0),
                None,
                false,
                Default::default(),
                None,
                Default::default(),
            ),
            fingerprints: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_failure_stops_exactly_its_dependants() {
        let plan = plan(vec![
            work("a", vec![]),
            work("fail-b", vec![]),
            work("c", vec![1]),
            work("d", vec![2]),
            work("e", vec![0]),
            action("m", Kind::Manual, Op::Manual, vec![0]),
            work("f", vec![5]),
            action("m2", Kind::Manual, Op::Manual, vec![5]),
            work("g", vec![6]),
        ]);
        let runner = Arc::new(Recorder::default());
        let report = execute(&plan, Arc::clone(&runner), 4).await;
        assert_eq!(
            report.outcomes,
            vec![
                Outcome::Done,
                Outcome::Failed {
                    error: "fail-b broke".into()
                },
                Outcome::Skipped { because: 1 },
                Outcome::Skipped { because: 2 },
                Outcome::Done,
                Outcome::ManualPending,
                Outcome::Waiting { on: 5 },
                Outcome::ManualPending,
                Outcome::Waiting { on: 5 },
            ]
        );
        let mut ran = runner.ran.lock().unwrap().clone();
        ran.sort_unstable();
        assert_eq!(ran, vec![0, 1, 4]);
    }

    #[tokio::test]
    async fn never_more_in_flight_than_allowed() {
        let plan = plan((0..20).map(|i| work(&format!("u{i}"), vec![])).collect());
        let runner = Arc::new(Recorder::default());
        let report = execute(&plan, Arc::clone(&runner), 3).await;
        assert_eq!(report.done(), 20);
        assert!(runner.max_in_flight.load(Ordering::SeqCst) <= 3);
        assert!(
            runner.max_in_flight.load(Ordering::SeqCst) >= 2,
            "independent actions run concurrently"
        );
    }
}
