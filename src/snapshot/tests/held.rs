//! Services holding previews they cannot read: the 503s, their messages, the matrix.

use std::collections::BTreeMap;

use super::*;

/// Every service synced; `billing` PR 8 may hold a preview and its files are not read, PR 9
/// is read. `notes` say why.
fn holding() -> Snapshot {
    let fleet = Arc::new(fleet());
    let read = [facts(pr(1), None)];
    let mut unread = facts(pr(8), None);
    unread.head = None;
    unread.live = true;
    let billing = [unread, facts(pr(9), None)];
    let services = BTreeMap::from([
        (name("web"), &read[..]),
        (name("api"), &read[..]),
        (name("billing"), &billing[..]),
    ]);
    let plan = plan(&PlanInput {
        fleet: &fleet,
        services,
        now: now(),
    });
    let synced = ["web", "api", "billing"].iter().map(|s| name(s)).collect();
    let notes = Notes {
        faults: BTreeMap::from([(
            "acme/billing".parse().expect("repo"),
            "GitHub answered 502: Bad Gateway".to_owned(),
        )]),
        held_since: BTreeMap::from([(name("billing"), now())]),
    };
    Snapshot::build(fleet, plan, synced, 1, None).with_notes(notes)
}

#[test]
fn a_service_holding_a_preview_answers_503_naming_it_and_the_others_answer() {
    let snapshot = holding();
    let Err(held) = snapshot.answer(&Query::Service("billing".into())) else {
        panic!("billing holds PR 8: no answer");
    };
    let message = held.to_string();
    for part in [
        "billing PR 8 (its commit's files are not read yet)",
        "billing held since 2026-11-27T12:00:00Z",
        "acme/billing: GitHub answered 502",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
    assert!(!message.contains("PR 9"), "{message}");
    assert!(!snapshot.answers(&name("billing")));
    // api depends on billing, but none of its previews points at the held PR.
    assert!(snapshot.answers(&name("api")) && snapshot.answers(&name("web")));
    assert!(
        !snapshot.answers_all(),
        "the all-services answer waits for billing"
    );
    assert!(self::snapshot(&["web", "api", "billing"]).answers_all());
    assert!(matches!(
        snapshot.answer(&Query::All),
        Err(AnswerError::Held { .. })
    ));
    // In matrix mode only the held PR is refused.
    let matrix = |number| Query::Matrix {
        service: "billing".into(),
        number,
        branch: None,
    };
    assert!(matches!(
        snapshot.answer(&matrix(8)),
        Err(AnswerError::Held { .. })
    ));
    let nine = snapshot.answer(&matrix(9)).expect("PR 9 is answered");
    assert_eq!(sets(&nine).len(), 1);
}

#[test]
fn a_held_service_changes_its_answer_and_notes_alone_change_nothing() {
    let before = snapshot(&["web", "api", "billing"]);
    let held = holding();
    assert!(held.service_changed(&before, &name("billing")));
    let renoted = Snapshot::clone(&held).with_notes(Notes::default());
    assert!(!renoted.service_changed(&held, &name("billing")));
}

#[test]
fn the_held_message_names_at_most_ten_prs_a_reason() {
    let held: Vec<crate::plan::Held> = (1..=25)
        .map(|number| crate::plan::Held {
            service: name("web"),
            number,
            reason: crate::plan::HoldReason::Files,
        })
        .collect();
    let refs: Vec<&crate::plan::Held> = held.iter().collect();
    let text = Notes::list(&refs);
    assert_eq!(
        text,
        "web PR 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 15 more (its commit's files are not read yet)"
    );
    // One group per dependency target: at most ten groups are named.
    let pointing: Vec<crate::plan::Held> = (1..=500)
        .map(|number| crate::plan::Held {
            service: name("web"),
            number,
            reason: crate::plan::HoldReason::Dependency {
                dependency: name("api"),
                number: 1000 + number,
            },
        })
        .collect();
    let refs: Vec<&crate::plan::Held> = pointing.iter().collect();
    let text = Notes::list(&refs);
    assert!(text.ends_with("490 more held PRs"), "{text}");
    assert!(text.len() < 1_000, "{} characters", text.len());
}
