//! Unit tests of the Block-STM scheduler.

use crate::parallel::{
    mv_memory::Version,
    scheduler::{Scheduler, Status, Task},
};

const fn v(tx: usize, incarnation: u64) -> Version {
    Version { tx, incarnation }
}

/// Asks for tasks until one comes (at most a few empty answers).
fn next(scheduler: &Scheduler) -> Task {
    (0..16).find_map(|_| scheduler.next_task()).expect("a task")
}

#[test]
fn dependency_wakes_up_when_the_blocking_tx_executes() {
    let scheduler = Scheduler::new(3);
    assert_eq!(next(&scheduler), Task::Execute(v(0, 0)));
    assert_eq!(next(&scheduler), Task::Execute(v(1, 0)));
    assert!(scheduler.add_dependency(1, 0));
    assert_eq!(scheduler.state(1), Some((0, Status::Aborting)));
    // validation_idx already passed 0 (its validation found it executing): validate now.
    let validation = scheduler.finish_execution(v(0, 0), false);
    assert_eq!(validation, Some(Task::Validate(v(0, 0))));
    assert_eq!(scheduler.state(1), Some((1, Status::ReadyToExecute)));
    assert_eq!(scheduler.finish_validation(0, false), None);
    // execution_idx went back to 1: transaction 1 executes again before 2.
    let task = (0..16).find_map(|_| match scheduler.next_task() {
        Some(Task::Validate(version)) => {
            assert_eq!(scheduler.finish_validation(version.tx, false), None);
            None
        }
        other => other,
    });
    assert_eq!(task, Some(Task::Execute(v(1, 1))));
}

#[test]
fn dependency_on_an_executed_tx_is_refused() {
    let scheduler = Scheduler::new(2);
    assert_eq!(next(&scheduler), Task::Execute(v(0, 0)));
    assert_eq!(scheduler.finish_execution(v(0, 0), false), None);
    assert_eq!(next(&scheduler), Task::Validate(v(0, 0)));
    assert_eq!(next(&scheduler), Task::Execute(v(1, 0)));
    assert!(!scheduler.add_dependency(1, 0));
    assert_eq!(scheduler.state(1), Some((0, Status::Executing)));
}

#[test]
fn validation_abort_re_executes_with_a_new_incarnation() {
    let scheduler = Scheduler::new(2);
    assert_eq!(next(&scheduler), Task::Execute(v(0, 0)));
    assert_eq!(scheduler.finish_execution(v(0, 0), false), None);
    assert_eq!(next(&scheduler), Task::Validate(v(0, 0)));
    assert!(scheduler.try_validation_abort(v(0, 0)));
    assert!(!scheduler.try_validation_abort(v(0, 0)));
    assert_eq!(
        scheduler.finish_validation(0, true),
        Some(Task::Execute(v(0, 1)))
    );
    assert!(!scheduler.try_validation_abort(v(0, 0)));
    // Validation of transaction 0 already passed it: re-validate right away.
    assert_eq!(
        scheduler.finish_execution(v(0, 1), false),
        Some(Task::Validate(v(0, 1)))
    );
}

#[test]
fn done_after_every_tx_executed_and_validated() {
    let scheduler = Scheduler::new(4);
    let mut validated = 0;
    let mut task = None;
    for _ in 0..1000 {
        if scheduler.done() {
            break;
        }
        task = match task.or_else(|| scheduler.next_task()) {
            Some(Task::Execute(version)) => scheduler.finish_execution(version, true),
            Some(Task::Validate(version)) => {
                validated += 1;
                scheduler.finish_validation(version.tx, false)
            }
            None => None,
        };
    }
    assert!(scheduler.done());
    assert_eq!(validated, 4);
    assert!((0..4).all(|tx| scheduler.state(tx) == Some((0, Status::Executed))));
}
