//! The watcher against the fake: list then watch, resumes after a dropped connection, relists
//! after `410 Expired`, bookmarks, odd objects, streaming lists.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::StreamExt;
use kube::api::{DynamicObject, ListParams};
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::support::fake_kube::{FakeKube, application, status};
use crate::{PREVIEW, SELECT_PREVIEWS, apps, eventually, lists, watches};

/// What a watcher has told us, as a reflector would keep it.
#[derive(Default)]
struct Seen {
    objects: BTreeMap<String, DynamicObject>,
    relisting: Option<BTreeMap<String, DynamicObject>>,
    events: Vec<String>,
    errors: Vec<String>,
}

impl Seen {
    fn record(&mut self, item: Result<Event<DynamicObject>, watcher::Error>) {
        let describe = |o: &DynamicObject| {
            format!(
                "{}@{}",
                o.name_any(),
                o.resource_version().unwrap_or_default()
            )
        };
        match item {
            Ok(Event::Init) => {
                self.events.push("init".to_owned());
                self.relisting = Some(BTreeMap::new());
            }
            Ok(Event::InitApply(o)) => {
                self.events.push(format!("init-apply {}", describe(&o)));
                if let Some(relisting) = &mut self.relisting {
                    relisting.insert(o.name_any(), o);
                }
            }
            Ok(Event::InitDone) => {
                self.events.push("init-done".to_owned());
                self.objects = self.relisting.take().unwrap_or_default();
            }
            Ok(Event::Apply(o)) => {
                self.events.push(format!("apply {}", describe(&o)));
                self.objects.insert(o.name_any(), o);
            }
            Ok(Event::Delete(o)) => {
                self.events.push(format!("delete {}", describe(&o)));
                self.objects.remove(&o.name_any());
            }
            Err(watcher::Error::WatchError(status)) => self
                .errors
                .push(format!("watch error {} {}", status.code, status.reason)),
            Err(e) => self.errors.push(e.to_string()),
        }
    }

    fn names(&self) -> Vec<String> {
        self.objects.keys().cloned().collect()
    }
}

/// A watcher running in the background, recording what it says.
struct Follower {
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Follower {
    fn start(api: Api<DynamicObject>, config: watcher::Config) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let recording = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            let mut stream = watcher(api, config).boxed();
            while let Some(item) = stream.next().await {
                recording.lock().unwrap().record(item);
            }
        });
        Self { seen, task }
    }

    fn seen(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap()
    }

    async fn wait_for_names(&self, names: &[&str]) {
        eventually(&format!("the watcher to hold {names:?}"), || {
            self.seen().names() == names
        })
        .await;
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn the_watcher_pages_its_initial_list() {
    let kube = FakeKube::start().await;
    for n in 1..=5 {
        kube.put_application(application(&format!("web-{n}"), &[PREVIEW]));
    }
    let follower = Follower::start(apps(&kube), watcher::Config::default().page_size(2));
    follower
        .wait_for_names(&["web-1", "web-2", "web-3", "web-4", "web-5"])
        .await;
    let lists = lists(&kube);
    assert_eq!(lists.len(), 3, "{lists:#?}");
    assert!(
        lists
            .iter()
            .all(|r| r.query("limit").as_deref() == Some("2"))
    );
    assert_eq!(lists[0].query("continue"), None);
    assert!(lists[1].query("continue").is_some() && lists[2].query("continue").is_some());
}

#[tokio::test]
async fn the_watcher_lists_then_follows_changes() {
    let kube = FakeKube::start().await;
    kube.put_application(application("web-1", &[PREVIEW]));
    kube.put_application(application("infra", &[]));
    let config = watcher::Config::default().labels(SELECT_PREVIEWS);
    let follower = Follower::start(apps(&kube), config);
    follower.wait_for_names(&["web-1"]).await;
    kube.wait_for_watches(1).await;

    kube.put_application(application("web-2", &[PREVIEW]));
    let synced = status("Synced", "abc123", "Healthy", Some("Succeeded"), None);
    kube.patch_status("web-1", synced);
    kube.put_application(application("infra", &[("team", "platform")]));
    follower.wait_for_names(&["web-1", "web-2"]).await;
    eventually("web-1's status", || {
        follower.seen().objects["web-1"].data["status"]["health"]["status"] == "Healthy"
    })
    .await;
    kube.delete_application("web-2");
    follower.wait_for_names(&["web-1"]).await;
    // An object that stops matching the selector is a DELETED for this watch.
    let mut relabelled = kube.application("web-1").unwrap();
    relabelled["metadata"]["labels"] = json!({});
    kube.put_application(relabelled);
    follower.wait_for_names(&[]).await;

    let events = follower.seen().events.clone();
    assert_eq!(&events[..3], ["init", "init-apply web-1@2", "init-done"]);
    let kinds: Vec<&str> = events[3..]
        .iter()
        .map(|e| e.split(' ').next().unwrap())
        .collect();
    assert_eq!(kinds, ["apply", "apply", "delete", "delete"], "{events:#?}");
}

/// What kube-rs 5's default watcher sends: a list of 500 at most, without resourceVersion (the
/// most recent state, a quorum read), then a watch from the list's resourceVersion with
/// bookmarks and a 290 s timeout.
#[tokio::test]
async fn the_watcher_sends_what_kube_rs_5_sends() {
    let kube = FakeKube::start().await;
    kube.put_application(application("web-1", &[PREVIEW]));
    let config = watcher::Config::default().labels(SELECT_PREVIEWS);
    let follower = Follower::start(apps(&kube), config);
    follower.wait_for_names(&["web-1"]).await;
    kube.wait_for_watches(1).await;

    let list = &lists(&kube)[0];
    let param = |r: &crate::RequestRecord, name| r.query(name);
    assert_eq!(param(list, "limit").as_deref(), Some("500"));
    assert_eq!(param(list, "resourceVersion"), None);
    assert_eq!(
        param(list, "labelSelector").as_deref(),
        Some(SELECT_PREVIEWS)
    );
    let watch = &watches(&kube)[0];
    let rv = kube.resource_version().to_string();
    let expected = [
        ("watch", "true"),
        ("allowWatchBookmarks", "true"),
        ("timeoutSeconds", "290"),
        ("resourceVersion", rv.as_str()),
        ("labelSelector", SELECT_PREVIEWS),
    ];
    for (name, value) in expected {
        assert_eq!(param(watch, name).as_deref(), Some(value), "{name}");
    }
    assert_eq!(param(watch, "sendInitialEvents"), None);
}

#[tokio::test]
async fn a_dropped_watch_resumes_from_the_last_resource_version_and_loses_nothing() {
    let kube = FakeKube::start().await;
    kube.put_application(application("web-1", &[PREVIEW]));
    kube.put_application(application("web-2", &[PREVIEW]));
    let follower = Follower::start(apps(&kube), watcher::Config::default());
    follower.wait_for_names(&["web-1", "web-2"]).await;
    kube.wait_for_watches(1).await;
    kube.put_application(application("web-3", &[PREVIEW]));
    follower.wait_for_names(&["web-1", "web-2", "web-3"]).await;
    let last_seen = kube.resource_version();

    kube.drop_watches();
    // No await in between: the watcher cannot reconnect before these are made, so it must
    // get them from the history.
    kube.patch_status(
        "web-1",
        status("OutOfSync", "def456", "Progressing", Some("Running"), None),
    );
    kube.delete_application("web-2");
    kube.put_application(application("web-4", &[PREVIEW]));

    follower.wait_for_names(&["web-1", "web-3", "web-4"]).await;
    eventually("web-1's new status", || {
        follower.seen().objects["web-1"].data["status"]["sync"]["status"] == "OutOfSync"
    })
    .await;
    let watches = watches(&kube);
    assert_eq!(watches.len(), 2, "{watches:#?}");
    assert_eq!(
        watches[1].query("resourceVersion"),
        Some(last_seen.to_string())
    );
    assert_eq!(lists(&kube).len(), 1, "a resumed watch does not relist");
    let errors = follower.seen().errors.clone();
    assert!(errors.iter().all(|e| !e.contains("410")), "{errors:?}");
}

#[tokio::test]
async fn after_compaction_a_resumed_watch_gets_410_and_the_watcher_relists() {
    let kube = FakeKube::start().await;
    kube.put_application(application("web-1", &[PREVIEW]));
    kube.put_application(application("web-2", &[PREVIEW]));
    let follower = Follower::start(apps(&kube), watcher::Config::default());
    follower.wait_for_names(&["web-1", "web-2"]).await;
    kube.wait_for_watches(1).await;

    kube.drop_watches();
    kube.delete_application("web-1");
    kube.put_application(application("web-3", &[PREVIEW]));
    kube.compact();

    follower.wait_for_names(&["web-2", "web-3"]).await;
    let errors = follower.seen().errors.clone();
    assert!(
        errors.contains(&"watch error 410 Expired".to_owned()),
        "{errors:?}"
    );
    assert_eq!(lists(&kube).len(), 2, "the watcher relists after 410");
    kube.wait_for_watches(1).await;
    kube.put_application(application("web-4", &[PREVIEW]));
    follower.wait_for_names(&["web-2", "web-3", "web-4"]).await;
}

#[tokio::test]
async fn bookmarks_move_the_watch_on_without_surfacing_as_objects() {
    let kube = FakeKube::start().await;
    kube.put_application(application("web-1", &[PREVIEW]));
    let follower = Follower::start(
        apps(&kube),
        watcher::Config::default().labels(SELECT_PREVIEWS),
    );
    follower.wait_for_names(&["web-1"]).await;
    kube.wait_for_watches(1).await;

    // Changes this watch does not select, then a bookmark: the watcher's resourceVersion
    // moves past them although it saw no event.
    kube.put_application(application("infra", &[]));
    kube.put_application(application("infra-2", &[]));
    let bookmarked = kube.resource_version();
    kube.bookmark();
    kube.end_watches();
    eventually("a second watch", || watches(&kube).len() == 2).await;
    assert_eq!(
        watches(&kube)[1].query("resourceVersion"),
        Some(bookmarked.to_string())
    );
    let events = follower.seen().events.clone();
    assert_eq!(events, ["init", "init-apply web-1@2", "init-done"]);
    assert!(follower.seen().errors.is_empty());
}

#[tokio::test]
async fn a_malformed_application_is_served_and_does_not_stop_the_watch() {
    let kube = FakeKube::start().await;
    kube.put_application(application("web-1", &[PREVIEW]));
    let mut odd = application("web-2", &[PREVIEW]);
    odd["status"] = json!({"health": {"status": 42}});
    kube.put_malformed_application(odd);
    let api = apps(&kube);

    let listed = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 2);
    assert_eq!(listed.items[1].data["status"]["health"]["status"], 42);
    let follower = Follower::start(api, watcher::Config::default());
    follower.wait_for_names(&["web-1", "web-2"]).await;
    kube.wait_for_watches(1).await;
    let mut odder = kube.application("web-2").unwrap();
    odder["status"]["sync"] = json!("not an object");
    kube.put_malformed_application(odder);
    kube.put_application(application("web-3", &[PREVIEW]));
    follower.wait_for_names(&["web-1", "web-2", "web-3"]).await;
    assert!(follower.seen().errors.is_empty());
}

#[tokio::test]
async fn streaming_lists_end_their_initial_events_with_a_bookmark() {
    let kube = FakeKube::start().await;
    kube.put_application(application("web-1", &[PREVIEW]));
    kube.put_application(application("web-2", &[PREVIEW]));
    let follower = Follower::start(apps(&kube), watcher::Config::default().streaming_lists());
    follower.wait_for_names(&["web-1", "web-2"]).await;
    kube.put_application(application("web-3", &[PREVIEW]));
    follower.wait_for_names(&["web-1", "web-2", "web-3"]).await;
    assert!(lists(&kube).is_empty());
    let watch = &watches(&kube)[0];
    assert_eq!(watch.query("sendInitialEvents").as_deref(), Some("true"));
    assert_eq!(
        watch.query("resourceVersionMatch").as_deref(),
        Some("NotOlderThan")
    );
}
