//! What each pull request's sticky comment and Jira issues should say now, from its desired
//! previews and the deployments GitHub shows for it. Pure, like [`super::decide`].

use super::comment::{self, Costs};
use super::{Shown, State};
use crate::issues::Event;
use crate::plan::{Exclusion, Held, Preview};

/// The state GitHub shows for `preview` at its revision, from `shown` (the PR's deployments).
pub fn shown_state(preview: &Preview, shown: &[Shown]) -> Option<State> {
    shown
        .iter()
        .filter(|s| s.environment == preview.name && s.sha == preview.revision)
        .max_by_key(|s| s.id)
        .and_then(|s| s.state)
}

/// Whether every deployment of a PR without previews is inactive: its previews are gone and
/// GitHub says so. `false` for a PR that never had a deployment.
fn all_gone(previews: &[&Preview], shown: &[Shown]) -> bool {
    previews.is_empty()
        && !shown.is_empty()
        && shown.iter().all(|s| s.state == Some(State::Inactive))
}

/// The sticky comment of a PR whose desired previews are `previews` (one per service of its
/// repo), whose services still `waiting` for something (see
/// [`crate::plan::ExclusionReason::shown_on_pr`]) and whose `held` previews (kept as they are
/// while GitHub cannot be read) are listed, and whose deployments are `shown`: the table while
/// it has previews, waits for one or has one held, with a cost line per priced preview
/// (`costs`); the last edit once GitHub shows
/// every deployment inactive, or at once for a PR that only ever waited (`commented`: our
/// comment is on it); `None` for a PR that never had a preview or whose old deployments are
/// still being inactivated.
pub fn sticky_comment(
    previews: &[&Preview],
    waiting: &[&Exclusion],
    held: &[&Held],
    shown: &[Shown],
    commented: bool,
    costs: &Costs,
    config_path: &str,
) -> Option<String> {
    if !previews.is_empty() || !waiting.is_empty() || !held.is_empty() {
        let rows: Vec<(&Preview, Option<State>)> = previews
            .iter()
            .map(|p| (*p, shown_state(p, shown)))
            .collect();
        return Some(comment::render(&rows, waiting, held, costs, config_path));
    }
    let only_waited = commented && shown.is_empty();
    (all_gone(previews, shown) || only_waited)
        .then(|| comment::render(&[], &[], &[], costs, config_path))
}

/// What the PR's Jira issues should hear now: `Ready` once one of its previews shows
/// `success` at its revision, `Gone` once every deployment of a PR without previews is
/// inactive. The Jira queue posts each once, and `Gone` only after a `Ready`.
pub fn jira_event(previews: &[&Preview], shown: &[Shown]) -> Option<Event> {
    if previews
        .iter()
        .any(|p| shown_state(p, shown) == Some(State::Success))
    {
        return Some(Event::Ready);
    }
    all_gone(previews, shown).then_some(Event::Gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{facts, name, plan_of, pr};

    fn shown(id: u64, preview: &Preview, state: Option<State>) -> Shown {
        Shown {
            id,
            service: preview.service.clone(),
            number: preview.pr.number,
            issues: vec![],
            environment: preview.name.clone(),
            sha: preview.revision.clone(),
            state,
        }
    }

    #[test]
    fn a_pr_with_previews_gets_the_table_and_ready_once_one_is_up() {
        let plan = plan_of(&[("web", vec![facts(pr(101), None)])]);
        let web = &plan.previews[0];
        let queued = [shown(1, web, Some(State::Queued))];
        let text = sticky_comment(
            &[web],
            &[],
            &[],
            &queued,
            false,
            &Costs::default(),
            ".preview.yaml",
        )
        .expect("a comment");
        assert!(text.contains("queued"), "{text}");
        assert_eq!(jira_event(&[web], &queued), None);
        let up = [shown(1, web, Some(State::Success))];
        assert_eq!(jira_event(&[web], &up), Some(Event::Ready));
        assert_eq!(web.service, name("web"));
    }

    #[test]
    fn an_older_commit_being_up_is_not_the_preview_being_up() {
        let plan = plan_of(&[("web", vec![facts(pr(101), None)])]);
        let web = &plan.previews[0];
        let mut old = shown(1, web, Some(State::Success));
        old.sha = "0".repeat(40);
        let new = shown(2, web, Some(State::InProgress));
        assert_eq!(
            shown_state(web, &[old.clone(), new]),
            Some(State::InProgress)
        );
        assert_eq!(jira_event(&[web], &[old]), None);
    }

    #[test]
    fn a_pr_without_previews_is_gone_only_once_github_shows_it() {
        let plan = plan_of(&[("web", vec![facts(pr(101), None)])]);
        let web = &plan.previews[0];
        let still = [shown(1, web, Some(State::Success))];
        assert_eq!(
            sticky_comment(
                &[],
                &[],
                &[],
                &still,
                true,
                &Costs::default(),
                ".preview.yaml"
            ),
            None
        );
        assert_eq!(jira_event(&[], &still), None);
        let gone = [shown(1, web, Some(State::Inactive))];
        let text = sticky_comment(
            &[],
            &[],
            &[],
            &gone,
            true,
            &Costs::default(),
            ".preview.yaml",
        )
        .expect("the last edit");
        assert!(text.contains("gone"), "{text}");
        assert_eq!(jira_event(&[], &gone), Some(Event::Gone));
        assert_eq!(
            sticky_comment(
                &[],
                &[],
                &[],
                &[],
                false,
                &Costs::default(),
                ".preview.yaml"
            ),
            None
        );
        assert_eq!(jira_event(&[], &[]), None);
    }

    #[test]
    fn a_held_pr_is_neither_gone_nor_silent() {
        let plan = plan_of(&[("web", vec![facts(pr(101), None)])]);
        let web = &plan.previews[0];
        let held = Held {
            service: name("web"),
            number: 101,
            reason: crate::plan::HoldReason::Build,
        };
        let up = [shown(1, web, Some(State::Success))];
        let text = sticky_comment(
            &[],
            &[],
            &[&held],
            &up,
            true,
            &Costs::default(),
            ".preview.yaml",
        )
        .expect("the comment says it is kept");
        assert!(text.contains("kept on its last known state"), "{text}");
        assert_eq!(jira_event(&[], &up), None, "no `gone` for a held preview");
    }

    #[test]
    fn a_pr_waiting_for_its_build_is_told_so_and_told_when_it_stops_waiting() {
        let waiting = Exclusion {
            service: name("web"),
            number: 101,
            reason: crate::plan::ExclusionReason::WaitingForBuild,
            pr: None,
        };
        let text = sticky_comment(
            &[],
            &[&waiting],
            &[],
            &[],
            false,
            &Costs::default(),
            ".preview.yaml",
        )
        .expect("a comment while waiting");
        assert!(
            text.contains("waiting for the head commit's image build"),
            "{text}"
        );
        assert!(text.contains("`web`"), "{text}");
        assert_eq!(jira_event(&[], &[]), None);
        // Unlabelled or closed before the build finished: the comment we wrote says so.
        let text = sticky_comment(&[], &[], &[], &[], true, &Costs::default(), ".preview.yaml")
            .expect("the last edit");
        assert!(text.contains("gone"), "{text}");
    }
}
