//! The summary of a PR's events: what counts, from when, and whose commands.

use std::time::Duration;

use chrono::TimeZone;

use super::*;

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, hour, 0, 0)
        .single()
        .expect("time")
}

fn event(hour: u32, actor: Option<&str>, kind: PullEventKind) -> PullEvent {
    PullEvent {
        at: at(hour),
        actor: actor.map(str::to_owned),
        kind,
    }
}

fn command(hour: u32, author: &str, command: Command) -> PullEvent {
    let command = Some(command);
    let association = AuthorAssociation::Member;
    let kind = PullEventKind::Commented {
        command,
        association,
    };
    event(hour, Some(author), kind)
}

/// A comment without a command by `author`, whose association is `association`.
fn comment(hour: u32, author: &str, association: AuthorAssociation) -> PullEvent {
    let kind = PullEventKind::Commented {
        command: None,
        association,
    };
    event(hour, Some(author), kind)
}

/// A review by `author`, whose association is `association`.
fn review(hour: u32, author: &str, association: AuthorAssociation) -> PullEvent {
    event(hour, Some(author), PullEventKind::Reviewed { association })
}

fn writers(login: &str) -> bool {
    login == "mona"
}

/// The summary of `events` for the opt-in label `preview`, commits unseen before.
fn summary(events: &[PullEvent], updated_at: DateTime<Utc>, read_at: DateTime<Utc>) -> Activity {
    let counting = Counting {
        label: "preview",
        associations: &AuthorAssociation::COUNTED_BY_DEFAULT,
        first_seen: &HashMap::new(),
    };
    summarize(events, &counting, updated_at, read_at, writers)
}

fn commit(hour: u32, sha: &str) -> PullEvent {
    let sha = sha.to_owned();
    event(hour, None, PullEventKind::Committed { sha })
}

#[test]
fn last_is_the_latest_event_of_any_kind() {
    use PullEventKind::*;
    #[rustfmt::skip]
    let cases: &[(&str, Vec<PullEvent>, u32)] = &[
        ("push", vec![event(3, None, Labeled("preview".into())), event(5, None, Pushed)], 5),
        ("label", vec![event(5, None, Pushed), event(6, Some("a"), Unlabeled("x".into()))], 6),
        ("comment", vec![event(5, None, Pushed), comment(7, "a", AuthorAssociation::Member)], 7),
        ("review", vec![review(8, "a", AuthorAssociation::Owner), event(5, None, Pushed)], 8),
        ("reopened", vec![event(5, None, Pushed), event(9, Some("a"), Reopened)], 9),
        ("a member's refused command is a comment", vec![event(5, None, Pushed), command(10, "eve", Command::Keep)], 10),
    ];
    for (name, events, hour) in cases {
        let activity = summary(events, at(23), at(23));
        assert_eq!(activity.last, Some(at(*hour)), "{name}");
    }
}

#[test]
fn a_commit_counts_from_the_earlier_of_its_date_and_its_first_sighting() {
    let first_seen = HashMap::from([("future".to_owned(), at(5)), ("old".to_owned(), at(9))]);
    let counting = Counting {
        label: "preview",
        associations: &AuthorAssociation::COUNTED_BY_DEFAULT,
        first_seen: &first_seen,
    };
    #[rustfmt::skip]
    let cases = [
        ("dated later than first seen: first seen", commit(23, "future"), at(5)),
        ("dated before first seen (seen late, as after a restart): its date", commit(3, "old"), at(3)),
        ("never seen: at the latest the read", commit(23, "unseen"), at(12)),
        ("a force-push is GitHub's time", event(11, Some("a"), PullEventKind::Pushed), at(11)),
    ];
    for (name, event, last) in cases {
        let activity = summarize(&[event], &counting, at(1), at(12), writers);
        assert_eq!(activity.last, Some(last), "{name}");
    }
    // The read moving on moves nothing.
    let later = summarize(&[commit(23, "future")], &counting, at(1), at(22), writers);
    assert_eq!(later.last, Some(at(5)));
}

#[test]
fn no_event_falls_back_to_updated_at_which_is_never_earlier() {
    let activity = summary(&[], at(11), at(12));
    assert_eq!(activity.last, Some(at(11)));
    assert_eq!(
        activity.labelled_at, None,
        "no fallback for the queue order"
    );
    assert_eq!(activity.read_at, at(12));
}

#[test]
fn labelled_at_is_the_latest_adding_of_the_opt_in_label() {
    use PullEventKind::*;
    let events = [
        event(1, Some("a"), Labeled("preview".into())),
        event(2, Some("a"), Unlabeled("preview".into())),
        event(3, Some("a"), Labeled("Preview".into())),
        event(4, Some("a"), Labeled("other".into())),
    ];
    let activity = summary(&events, at(23), at(23));
    assert_eq!(activity.labelled_at, Some(at(3)));
    assert_eq!(activity.last, Some(at(4)));
}

#[test]
fn only_writers_commands_count_oldest_first() {
    let extend = Command::Extend(Duration::from_secs(3 * 24 * 3600));
    let events = [
        command(9, "mona", Command::Wake),
        command(4, "mona", extend),
        command(5, "eve", Command::Keep),
        comment(6, "ghost", AuthorAssociation::None),
    ];
    let activity = summary(&events, at(23), at(23));
    let commands: Vec<(Command, DateTime<Utc>)> = activity
        .commands
        .iter()
        .map(|c| (c.command, c.at))
        .collect();
    assert_eq!(commands, [(extend, at(4)), (Command::Wake, at(9))]);
    let authors: Vec<&str> = command_authors(&events).collect();
    assert_eq!(authors, ["mona", "mona", "eve"]);
}

#[test]
fn comments_and_reviews_count_only_from_the_listed_associations_or_writers() {
    use AuthorAssociation as A;
    const DEFAULT: &[A] = &A::COUNTED_BY_DEFAULT;
    let push = event(2, None, PullEventKind::Pushed);
    let keep = PullEventKind::Commented {
        command: Some(Command::Keep),
        association: A::FirstTimer,
    };
    #[rustfmt::skip]
    let cases: &[(&str, &[A], PullEvent, u32)] = &[
        ("a drive-by comment", DEFAULT, comment(5, "stranger", A::None), 2),
        ("a contributor's review", DEFAULT, review(5, "someone", A::Contributor), 2),
        ("a first-time contributor", DEFAULT, comment(5, "newcomer", A::FirstTimeContributor), 2),
        ("a mannequin", DEFAULT, comment(5, "imported", A::Mannequin), 2),
        ("a collaborator's comment", DEFAULT, comment(5, "carol", A::Collaborator), 5),
        ("an owner's review", DEFAULT, review(5, "acme", A::Owner), 5),
        ("a member's comment", DEFAULT, comment(5, "eve", A::Member), 5),
        ("anyone with write access", DEFAULT, event(5, Some("mona"), keep.clone()), 5),
        ("contributors listed", &[A::Contributor], review(5, "someone", A::Contributor), 5),
        ("members not listed", &[A::Contributor], comment(5, "eve", A::Member), 2),
        ("nobody listed but writers", &[], comment(5, "mona", A::None), 5),
    ];
    for (name, associations, event, hour) in cases {
        let counting = Counting {
            label: "preview",
            associations,
            first_seen: &HashMap::new(),
        };
        let events = [push.clone(), event.clone()];
        let activity = summarize(&events, &counting, at(23), at(23), writers);
        assert_eq!(activity.last, Some(at(*hour)), "{name}");
    }
}

#[test]
fn a_timeline_of_outsiders_alone_leaves_the_activity_unknown_not_updated_at() {
    let events = [comment(5, "stranger", AuthorAssociation::None)];
    let activity = summary(&events, at(9), at(23));
    assert_eq!(
        activity.last, None,
        "updated_at moves with anyone's comment"
    );
}
