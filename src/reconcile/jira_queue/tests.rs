//! Queue semantics with a scripted notifier (the REST adapter has its own tests against the
//! fake Jira): order, per-job retries, give-ups, and no double posts.

use std::collections::HashMap;

use async_trait::async_trait;

use super::*;

/// Answers per issue: `Err` statuses to return first, then success. Records posts.
#[derive(Default)]
struct Script {
    failures: Mutex<HashMap<String, Vec<JiraError>>>,
    posted: Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl IssueNotifier for Script {
    async fn has_comment(&self, issue: &IssueKey, note: &Note) -> Result<bool, JiraError> {
        if let Some(error) = self.fail(issue) {
            return Err(error);
        }
        let marker = note.marker();
        Ok(self
            .posted
            .lock()
            .expect("lock")
            .iter()
            .any(|(i, m)| i == issue.as_str() && m == &marker))
    }

    async fn comment(&self, issue: &IssueKey, note: &Note) -> Result<(), JiraError> {
        self.posted
            .lock()
            .expect("lock")
            .push((issue.to_string(), note.marker()));
        Ok(())
    }
}

impl Script {
    fn fail(&self, issue: &IssueKey) -> Option<JiraError> {
        let mut failures = self.failures.lock().expect("lock");
        let list = failures.get_mut(issue.as_str())?;
        (!list.is_empty()).then(|| list.remove(0))
    }

    fn posted(&self) -> Vec<(String, String)> {
        self.posted.lock().expect("lock").clone()
    }
}

fn note(event: Event, number: u64) -> Note {
    Note {
        event,
        repo: "acme/web".parse().expect("repo"),
        number,
        title: "t".into(),
        pr_url: format!("https://github.com/acme/web/pull/{number}"),
        previews: vec![],
    }
}

fn key(text: &str) -> IssueKey {
    text.parse().expect("key")
}

async fn drain(queue: &JiraQueue, until: impl Fn() -> bool) {
    let (_tx, leading) = watch::channel(true);
    let cancel = CancellationToken::new();
    let run = queue.run(leading, cancel.clone());
    let wait = async {
        while !until() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        cancel.cancel();
    };
    tokio::join!(run, wait);
}

#[tokio::test(start_paused = true)]
async fn a_failing_issue_waits_for_its_retry_while_the_others_go_on() {
    let script = Arc::new(Script::default());
    script.failures.lock().expect("lock").insert(
        "BAD-1".into(),
        (0..3)
            .map(|_| JiraError::Unauthorized("no permission".into()))
            .collect(),
    );
    let queue = JiraQueue::new(script.clone(), Arc::new(Metrics::unregistered()));
    queue.enqueue(key("BAD-1"), note(Event::Ready, 1));
    queue.enqueue(key("GOOD-1"), note(Event::Ready, 1));
    drain(&queue, || script.posted().len() == 2).await;
    let posted = script.posted();
    assert_eq!(
        posted[0].0, "GOOD-1",
        "the good issue did not wait: {posted:?}"
    );
    assert_eq!(posted[1].0, "BAD-1", "the bad one got through on a retry");
    assert_eq!(queue.pending(), 0);
}

#[tokio::test(start_paused = true)]
async fn gone_waits_for_ready_and_nothing_is_posted_twice() {
    let script = Arc::new(Script::default());
    script.failures.lock().expect("lock").insert(
        "SHOP-1".into(),
        vec![JiraError::Upstream {
            status: 503,
            message: "down".into(),
        }],
    );
    let queue = JiraQueue::new(script.clone(), Arc::new(Metrics::unregistered()));
    queue.enqueue(key("SHOP-1"), note(Event::Ready, 7));
    queue.enqueue(key("SHOP-1"), note(Event::Gone, 7));
    queue.enqueue(key("SHOP-1"), note(Event::Ready, 7));
    drain(&queue, || script.posted().len() == 2).await;
    let markers: Vec<String> = script.posted().into_iter().map(|(_, m)| m).collect();
    assert!(
        markers[0].contains(":ready:") && markers[1].contains(":gone:"),
        "{markers:?}"
    );
    // Enqueued again by later rounds: known posted, nothing happens.
    queue.enqueue(key("SHOP-1"), note(Event::Ready, 7));
    queue.enqueue(key("SHOP-1"), note(Event::Gone, 7));
    assert_eq!(queue.pending(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_gone_without_ready_says_nothing_until_a_later_ready() {
    let script = Arc::new(Script::default());
    let queue = JiraQueue::new(script.clone(), Arc::new(Metrics::unregistered()));
    queue.enqueue(key("SHOP-2"), note(Event::Gone, 8));
    drain(&queue, || queue.pending() == 0).await;
    assert!(
        script.posted().is_empty(),
        "never ready, so nothing is gone"
    );
    // Relabelled, ready, then closed again: both notes this time.
    queue.enqueue(key("SHOP-2"), note(Event::Ready, 8));
    queue.enqueue(key("SHOP-2"), note(Event::Gone, 8));
    drain(&queue, || script.posted().len() == 2).await;
}

#[tokio::test(start_paused = true)]
async fn a_refused_issue_is_given_up_and_a_cleared_queue_forgets_answers_in_flight() {
    let script = Arc::new(Script::default());
    script
        .failures
        .lock()
        .expect("lock")
        .insert("NOPE-9".into(), vec![JiraError::Rejected("404".into())]);
    let queue = JiraQueue::new(script.clone(), Arc::new(Metrics::unregistered()));
    queue.enqueue(key("NOPE-9"), note(Event::Ready, 1));
    drain(&queue, || queue.pending() == 0).await;
    queue.enqueue(key("NOPE-9"), note(Event::Ready, 1));
    assert_eq!(queue.pending(), 0, "given up for good");

    queue.enqueue(key("SHOP-3"), note(Event::Ready, 3));
    let (job, epoch) = queue.next_job(Instant::now()).expect("due");
    queue.clear();
    queue.enqueue(key("SHOP-4"), note(Event::Ready, 4));
    queue.settle(&job, epoch, Ok(&Outcome::Posted));
    assert_eq!(
        queue.pending(),
        1,
        "the answer from before the clear settles nothing"
    );
}
