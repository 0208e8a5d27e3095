//! `activity_associations`: whose comments and reviews count as activity (keep a preview from
//! idle expiry).

use super::*;

#[test]
fn activity_associations_default_to_the_repositorys_people_and_override_whole() {
    use crate::pull_request::AuthorAssociation::{Collaborator, Contributor, Member, Owner};
    let text = fleet_yaml(
        "defaults: {activity_associations: [OWNER, CONTRIBUTOR]}",
        "",
        "overrides: {activity_associations: []}",
    );
    let fleet = parse_ok(&text);
    let counted = |i: usize| fleet.services[i].policy.activity_associations.clone();
    assert_eq!(counted(0), [Owner, Contributor]);
    assert!(counted(1).is_empty(), "only accounts with write access");
    let fleet = parse_ok(&fleet_yaml("", "", ""));
    assert_eq!(
        fleet.services[0].policy.activity_associations,
        [Owner, Member, Collaborator]
    );
}

#[test]
fn activity_associations_are_github_values() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        ("[member]", "defaults.activity_associations[0]", &["`member` is not one of GitHub's author associations", "did you mean `MEMBER`?"]),
        ("[OWNER, first-timer]", "defaults.activity_associations[1]", &["did you mean `FIRST_TIMER`?"]),
        ("[SPONSOR]", "defaults.activity_associations[0]", &["OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, FIRST_TIME_CONTRIBUTOR, FIRST_TIMER, MANNEQUIN, NONE"]),
        ("[OWNER, OWNER]", "defaults.activity_associations[1]", &["listed twice"]),
        ("[42]", "defaults.activity_associations[0]", &["`42` is not one of"]),
        ("MEMBER", "defaults.activity_associations", &["must be a list"]),
    ];
    for (value, field, words) in cases {
        assert_error(
            &with_defaults(&format!("{{activity_associations: {value}}}")),
            field,
            words,
        );
    }
}
